package cli

import (
	"io"
	"log/slog"
	"regexp"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// flagKinds maps every long flag of the tree to whether it takes a value.
func flagKinds(root *cobra.Command) map[string]bool {
	kinds := map[string]bool{}
	add := func(f *pflag.Flag) { kinds[f.Name] = f.NoOptDefVal == "" }
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.LocalFlags().VisitAll(add)
		c.PersistentFlags().VisitAll(add)
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	return kinds
}

// normalize prepares the arguments for cobra: a long flag written with one
// dash as Go's flag package allows (-config=c.toml, -json) gets its second
// dash, and a flag that needs a value but is followed by "--" or nothing
// is refused ("--" ends the flags: it is never a value, so `--display --
// xterm` forgot the display). Arguments after "--" are left alone.
func normalize(root *cobra.Command, args []string) ([]string, error) {
	kinds := flagKinds(root)
	completing := len(args) > 0 && strings.HasPrefix(args[0], "__complete")
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			out = append(out, args[i:]...)
			break
		}
		if len(a) > 2 && a[0] == '-' && a[1] != '-' {
			name, _, _ := strings.Cut(a[1:], "=")
			if _, ok := kinds[name]; ok && len(name) > 1 {
				a = "-" + a
			}
		}
		out = append(out, a)
		if !strings.HasPrefix(a, "--") || strings.Contains(a, "=") {
			continue
		}
		if takesValue, ok := kinds[a[2:]]; ok && takesValue {
			if i+1 >= len(args) || args[i+1] == "--" {
				if completing {
					continue
				}
				return nil, usagef("flag %s needs a value", a)
			}
			i++
			out = append(out, args[i])
		}
	}
	return out, nil
}

var (
	unknownFlagRe  = regexp.MustCompile(`^unknown flag: (\S+)$`)
	unknownShortRe = regexp.MustCompile(`^unknown shorthand flag: '.' in (\S+)$`)
	needsValueRe   = regexp.MustCompile(`^flag needs an argument: (?:'.' in )?(\S+)$`)
	badValueRe     = regexp.MustCompile(`^invalid argument "(.*)" for "(?:-., )?--([^"]+)" flag: `)
)

// flagError words pflag's errors as perch always has, as usage errors
// (exit 2).
func flagError(c *cobra.Command, err error) error {
	msg := err.Error()
	if m := unknownFlagRe.FindStringSubmatch(msg); m != nil {
		return usagef("unknown flag %s", m[1])
	}
	if m := unknownShortRe.FindStringSubmatch(msg); m != nil {
		return usagef("unknown flag %s", m[1])
	}
	if m := needsValueRe.FindStringSubmatch(msg); m != nil {
		return usagef("flag %s needs a value", m[1])
	}
	if m := badValueRe.FindStringSubmatch(msg); m != nil {
		if f := c.Flags().Lookup(m[2]); f != nil && f.Value.Type() == "bool" {
			return usagef("invalid boolean value %q for -%s: parse error", m[1], m[2])
		}
		return usagef("invalid value %q for flag -%s: parse error", m[1], m[2])
	}
	return usagef("%v", err)
}

// noArgs refuses positional arguments: "NAME takes no arguments".
func noArgs(c *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("%s takes no arguments", c.CommandPath()[len("perch "):])
	}
	return nil
}

// maxArgs refuses more than n positional arguments.
func maxArgs(n int) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if len(args) > n {
			return usagef("%s takes at most %d argument(s)", c.Name(), n)
		}
		return nil
	}
}

// oneArg wants exactly one positional argument, else says msg.
func oneArg(msg string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) != 1 {
			return usagef("%s", msg)
		}
		return nil
	}
}

// logFlags are the logging flags of the long-running commands.
type logFlags struct {
	format  string
	verbose bool
}

func (l *logFlags) add(c *cobra.Command) {
	c.Flags().StringVar(&l.format, "log-format", "text", "log format: text or json")
	c.Flags().BoolVarP(&l.verbose, "verbose", "v", false, "debug logging")
	_ = c.RegisterFlagCompletionFunc("log-format", cobra.FixedCompletions([]string{"text", "json"}, cobra.ShellCompDirectiveNoFileComp))
}

func (l *logFlags) logger(w io.Writer) (*slog.Logger, error) {
	opts := &slog.HandlerOptions{Level: slog.LevelInfo}
	if l.verbose {
		opts.Level = slog.LevelDebug
	}
	switch l.format {
	case "text", "":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, usagef("--log-format %q: want text or json", l.format)
}
