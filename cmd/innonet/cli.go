package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// This file holds what the client commands (lead, user, cluster, backup)
// share on the command line: their input and outputs, subcommand dispatch,
// flag parsing that allows flags after positional arguments, and usage
// errors.

// streams are a command's standard input and outputs. The zero value uses
// the process's; tests set their own, so commands never touch os.Stdout.
type streams struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

func (s streams) in() io.Reader {
	if s.stdin == nil {
		return os.Stdin
	}
	return s.stdin
}

func (s streams) out() io.Writer {
	if s.stdout == nil {
		return os.Stdout
	}
	return s.stdout
}

func (s streams) errOut() io.Writer {
	if s.stderr == nil {
		return os.Stderr
	}
	return s.stderr
}

// usageError is a mistake on the command line. The message and the usage
// have been printed when it is returned; the process exits 2.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// usageExit runs a client command and exits 2 on a usage error, as
// flag.ExitOnError would, so that the command itself only returns errors
// and runs in tests. Other errors are main's to print (exit 1).
type usageExit struct{ command }

func (u usageExit) Run(ctx context.Context, args []string) error {
	err := u.command.Run(ctx, args)
	var ue *usageError
	if errors.As(err, &ue) {
		os.Exit(2)
	}
	return err
}

// subcommand is one verb of a command group (lead submit, user add...).
type subcommand struct {
	name    string
	summary string
	run     func(ctx context.Context, std streams, args []string) error
}

// group is a command made of subcommands, such as `innonet lead`.
type group struct {
	name     string
	summary  string
	subs     []subcommand
	examples string
}

func (g group) usage(w io.Writer) {
	fmt.Fprintf(w, "Usage: innonet %s <subcommand> [flags]\n\n%s\n\nSubcommands:\n", g.name, g.summary)
	width := 0
	for _, s := range g.subs {
		width = max(width, len(s.name))
	}
	for _, s := range g.subs {
		fmt.Fprintf(w, "  %-*s  %s\n", width, s.name, s.summary)
	}
	fmt.Fprintf(w, "\nExamples:\n%s%s\nRun 'innonet %s <subcommand> --help' for its flags.\n", g.examples, envHelp, g.name)
}

// run dispatches args to a subcommand. With no subcommand it prints the
// usage and fails; with help it prints the usage and returns flag.ErrHelp
// (exit 0).
func (g group) run(ctx context.Context, std streams, args []string) error {
	if len(args) == 0 {
		g.usage(std.errOut())
		return &usageError{fmt.Errorf("%s: missing subcommand", g.name)}
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		g.usage(std.out())
		return flag.ErrHelp
	}
	for _, s := range g.subs {
		if s.name == args[0] {
			return s.run(ctx, std, args[1:])
		}
	}
	fmt.Fprintf(std.errOut(), "innonet %s: unknown subcommand %q\n\n", g.name, args[0])
	g.usage(std.errOut())
	return &usageError{fmt.Errorf("unknown subcommand %q", args[0])}
}

// envHelp closes every client command's help.
const envHelp = `
Environment:
  INNONET_ADDR    site API address (gRPC), used when --addr is not given
  INNONET_TOKEN   bearer token, used when neither --token nor --token-file is given
  INNONET_CA      CA certificate the sites' certificates are checked against (--ca)
  INNONET_CERT, INNONET_KEY   client certificate and key, for sites that require one
  INNONET_INSECURE=1          plaintext, for sites started with --insecure
`

// cmdFlags is a subcommand's flag set. The flag package's own printing is
// silenced: help goes to stdout, mistakes and the usage to stderr.
type cmdFlags struct {
	*flag.FlagSet
	name   string // "lead show"
	help   string // usage line, description and examples, printed before the flags
	std    streams
	checks []func() error
}

// newFlags returns the flag set of subcommand name ("lead show"); help is
// printed above the flags by --help and on usage errors.
func newFlags(std streams, name, help string) *cmdFlags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return &cmdFlags{FlagSet: fs, name: name, help: help, std: std}
}

// check adds a validation run after parsing; its error is a usage error.
func (f *cmdFlags) check(c func() error) { f.checks = append(f.checks, c) }

// usage prints the help and the flags to w.
func (f *cmdFlags) usage(w io.Writer) {
	fmt.Fprintf(w, "%s\n%s\nFlags:\n", strings.TrimRight(f.help, "\n"), envHelp)
	f.SetOutput(w)
	f.PrintDefaults()
	f.SetOutput(io.Discard)
}

// parse parses args, in which flags may follow positional arguments
// (`lead show BOS-0001 --json`), and returns the positional arguments,
// which must number between min and max (max < 0: no limit).
func (f *cmdFlags) parse(args []string, min, max int) ([]string, error) {
	var pos []string
	for {
		if err := f.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				f.usage(f.std.out())
				return nil, err
			}
			return nil, f.fail("%v", err)
		}
		if f.NArg() == 0 {
			break
		}
		// "--" ends the flags: everything after it is positional.
		if n := len(args) - f.NArg(); n > 0 && args[n-1] == "--" {
			pos = append(pos, f.Args()...)
			break
		}
		pos = append(pos, f.Arg(0))
		args = f.Args()[1:]
	}
	switch {
	case len(pos) < min && min == max:
		return nil, f.fail("want %d argument(s), got %d", min, len(pos))
	case len(pos) < min:
		return nil, f.fail("want at least %d argument(s), got %d", min, len(pos))
	case max >= 0 && len(pos) > max:
		return nil, f.fail("unexpected argument(s) %q", pos[max:])
	}
	for _, c := range f.checks {
		if err := c(); err != nil {
			return nil, f.fail("%v", err)
		}
	}
	return pos, nil
}

// fail prints a usage mistake and the usage line to stderr and returns it
// as a usageError.
func (f *cmdFlags) fail(format string, args ...any) error {
	err := fmt.Errorf(format, args...)
	synopsis, _, _ := strings.Cut(f.help, "\n\n")
	fmt.Fprintf(f.std.errOut(), "innonet %s: %v\n%s\nRun 'innonet %s --help' for more.\n", f.name, err, synopsis, f.name)
	return &usageError{err}
}

// isSet reports whether the flag was given on the command line.
func (f *cmdFlags) isSet(name string) bool {
	set := false
	f.Visit(func(fl *flag.Flag) { set = set || fl.Name == name })
	return set
}
