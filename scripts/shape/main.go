// Command shape checks the size rules of perch's code: no non-test Go file
// over 500 lines and no function over 80 lines, unless the line above the
// function says why it reads better whole (a comment containing
// "reads better whole"). It prints each violation as file:line and exits 1.
//
// Usage: go run ./scripts/shape [DIR...]
package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

const (
	maxFileLines = 500
	maxFuncLines = 80
	wholeMarker  = "reads better whole"
)

func main() {
	roots := os.Args[1:]
	if len(roots) == 0 {
		roots = []string{"."}
	}
	var bad []string
	for _, root := range roots {
		b, err := check(root)
		if err != nil {
			fmt.Fprintln(os.Stderr, "shape:", err)
			os.Exit(2)
		}
		bad = append(bad, b...)
	}
	for _, b := range bad {
		fmt.Println(b)
	}
	if len(bad) > 0 {
		fmt.Printf("shape: %d violations (files over %d lines, functions over %d lines)\n", len(bad), maxFileLines, maxFuncLines)
		os.Exit(1)
	}
}

// check walks root and returns one line per violation.
func check(root string) ([]string, error) {
	var bad []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "bin") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := fileViolations(path)
		bad = append(bad, b...)
		return err
	})
	return bad, err
}

func fileViolations(path string) ([]string, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
	if err != nil {
		return nil, err
	}
	var bad []string
	tf := fset.File(f.Pos())
	if n := tf.LineCount(); n > maxFileLines {
		bad = append(bad, fmt.Sprintf("%s: %d lines (max %d)", path, n, maxFileLines))
	}
	for _, decl := range f.Decls {
		fn, ok := decl.(*ast.FuncDecl)
		if !ok || fn.Body == nil {
			continue
		}
		start, end := fset.Position(fn.Pos()).Line, fset.Position(fn.End()).Line
		if end-start+1 <= maxFuncLines || wholeSaid(fn.Doc) {
			continue
		}
		bad = append(bad, fmt.Sprintf("%s:%d: func %s: %d lines (max %d)", path, start, fn.Name.Name, end-start+1, maxFuncLines))
	}
	return bad, nil
}

// wholeSaid reports whether the last line of a function's doc comment
// says that it reads better whole.
func wholeSaid(doc *ast.CommentGroup) bool {
	if doc == nil || len(doc.List) == 0 {
		return false
	}
	return strings.Contains(doc.List[len(doc.List)-1].Text, wholeMarker)
}
