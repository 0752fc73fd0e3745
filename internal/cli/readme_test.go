package cli

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestREADMEListsEveryCommand: README's usage block has a line for every
// command a user can run (leaves of the tree: `perch layout apply`, not
// `perch layout`), so a new command cannot go undocumented.
func TestREADMEListsEveryCommand(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile("(?s)## Usage\n\n```\n(.*?)```").FindSubmatch(readme)
	if block == nil {
		t.Fatal("README.md has no ## Usage code block")
	}
	listed := map[string]bool{}
	for _, line := range strings.Split(string(block[1]), "\n") {
		// The synopsis ends where two spaces start the description.
		synopsis, _, _ := strings.Cut(line, "  ")
		if f := strings.Fields(synopsis); len(f) > 0 && f[0] == "perch" {
			path := []string{}
			for _, w := range f[1:] {
				if !regexp.MustCompile(`^[a-z]+$`).MatchString(w) {
					break
				}
				path = append(path, w)
			}
			listed[strings.Join(path, " ")] = true
		}
	}
	root := Command()
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			if !sub.IsAvailableCommand() || sub.Name() == "help" {
				continue
			}
			if sub.Name() == "completion" {
				if !listed["completion"] {
					t.Errorf("README's usage block has no line for perch completion")
				}
				continue
			}
			if sub.HasAvailableSubCommands() {
				walk(sub)
				continue
			}
			path := strings.TrimPrefix(sub.CommandPath(), "perch ")
			if !listed[path] {
				t.Errorf("README's usage block has no line for perch %s (%s)", path, sub.Short)
			}
		}
	}
	walk(root)
	if len(listed) < 10 {
		t.Fatalf("read only %d commands from README's usage block: %v", len(listed), listed)
	}
}
