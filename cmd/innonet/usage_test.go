package main

import (
	"errors"
	"flag"
	"os/exec"
	"strings"
	"testing"
)

// TestCLIHelp checks that every client command and subcommand has --help
// with a description, examples and the environment variables.
func TestCLIHelp(t *testing.T) {
	for _, g := range []group{leadGroup, userGroup, clusterGroup, orgGroup, siteGroup, glossaryGroup} {
		t.Run(g.name, func(t *testing.T) {
			for _, arg := range []string{"--help", "-h", "help"} {
				r := runCLI(t, g.name, arg)
				if !errors.Is(r.err, flag.ErrHelp) {
					t.Errorf("%s %s: got %v, want flag.ErrHelp (exit 0)", g.name, arg, r.err)
				}
				for _, want := range []string{"Usage: innonet " + g.name, "Examples:", "INNONET_ADDR", "INNONET_TOKEN"} {
					if !strings.Contains(r.stdout, want) {
						t.Errorf("%s %s: output lacks %q:\n%s", g.name, arg, want, r.stdout)
					}
				}
				for _, s := range g.subs {
					if !strings.Contains(r.stdout, s.summary) {
						t.Errorf("%s %s: output lacks subcommand %s", g.name, arg, s.name)
					}
				}
			}
		})
		for _, s := range g.subs {
			t.Run(g.name+" "+s.name, func(t *testing.T) {
				r := runCLI(t, g.name, s.name, "--help")
				if !errors.Is(r.err, flag.ErrHelp) {
					t.Fatalf("got %v, want flag.ErrHelp (exit 0)", r.err)
				}
				for _, want := range []string{"Usage: innonet " + g.name + " " + s.name, "Examples:\n  ", "INNONET_TOKEN", "-addr", "-json", "-timeout"} {
					if !strings.Contains(r.stdout, want) {
						t.Errorf("output lacks %q:\n%s", want, r.stdout)
					}
				}
				if r.stderr != "" {
					t.Errorf("help wrote to stderr: %q", r.stderr)
				}
			})
		}
	}
	r := runCLI(t, "backup", "--help")
	if !errors.Is(r.err, flag.ErrHelp) || !strings.Contains(r.stdout, "Usage: innonet backup") || !strings.Contains(r.stdout, "Examples:") {
		t.Errorf("backup --help: got %v\n%s", r.err, r.stdout)
	}
}

// TestCLIUsageErrors checks mistakes on the command line: each is a
// usageError (exit 2) with a message and the usage line on stderr, and
// none reaches the network.
func TestCLIUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"lead"}, "Usage: innonet lead <subcommand>"},
		{[]string{"lead", "frob"}, `innonet lead: unknown subcommand "frob"`},
		{[]string{"lead", "show"}, "innonet lead show: want 1 argument(s), got 0"},
		{[]string{"lead", "show", "A", "B"}, `unexpected argument(s) ["B"]`},
		{[]string{"lead", "show", "BOS-0001", "--bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"lead", "list", "--stage", "done"}, "want one of submitted, approved"},
		{[]string{"lead", "list", "--consistency", "eventual"}, "want one of leader, stale, linearizable"},
		{[]string{"lead", "list", "--consistency", "leader", "--max-staleness", "5s"}, "--max-staleness goes with --consistency stale"},
		{[]string{"lead", "review", "BOS-0001"}, "--decision is required"},
		{[]string{"lead", "review", "BOS-0001", "--decision", "maybe"}, "want one of approve, return, decline"},
		{[]string{"lead", "advance", "BOS-0001"}, "--to is required"},
		{[]string{"lead", "edit", "BOS-0001", "--comment", "c"}, "nothing to change"},
		{[]string{"lead", "submit", "--contact", "Ana <ana@x.example"}, "missing '>'"},
		{[]string{"lead", "submit", "--trl", "five"}, "invalid value"},
		{[]string{"lead", "claim", "BOS-0001", "--token", "a", "--token-file", "b"}, "--token and --token-file exclude each other"},
		{[]string{"lead", "claim", "BOS-0001", "--retries", "-1"}, "--retries must not be negative"},
		{[]string{"user", "add", "--role", "admin"}, "--name is required"},
		{[]string{"user", "add", "--name", "X"}, "--role is required"},
		{[]string{"user", "add", "--name", "X", "--role", "boss"}, "want one of admin, hq-reviewer, division, node-staff"},
		{[]string{"user", "revoke"}, "want 1 argument(s)"},
		{[]string{"cluster", "add", "MUC"}, "--raft-addr and --api-addr are required"},
		{[]string{"cluster", "transfer-leadership", "A", "B"}, "unexpected argument(s)"},
		{[]string{"backup"}, "--out is required"},
		{[]string{"backup", "--out", "x", "--timeout", "0s"}, "--timeout must be positive"},
	}
	t.Setenv("INNONET_ADDR", "127.0.0.1:1")
	t.Setenv("INNONET_TOKEN", "")
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := runCLI(t, tt.args...)
			var ue *usageError
			if !errors.As(r.err, &ue) {
				t.Fatalf("got error %v, want a usage error (exit 2)", r.err)
			}
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr lacks %q:\n%s", tt.want, r.stderr)
			}
			if !strings.Contains(r.stderr, "Usage: innonet "+tt.args[0]) {
				t.Errorf("stderr lacks the usage:\n%s", r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("a usage error wrote to stdout: %q", r.stdout)
			}
		})
	}
}

// TestCLIExitCodes runs the built binary: exit 0 on success and help, 1
// with "innonet CMD: CODE: message" on an API error, 2 on a usage error.
func TestCLIExitCodes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	tn := newTestNet(t, "CGO", "BOS", "CBG")
	addr := tn.addr("BOS")
	tests := []struct {
		args       []string
		code       int
		wantStderr string
		wantStdout string
	}{
		// Any site may lead by now (an election under load, or placement).
		{[]string{"cluster", "status", "--token", cliAdminToken}, 0, "", "\nleader "},
		{[]string{"lead", "show", "BOS-0001", "--token", "inn_bad"}, 1, "innonet lead: UNAUTHENTICATED: invalid token", ""},
		{[]string{"lead", "show", "BOS-0042", "--token", cliAdminToken}, 1, "innonet lead: NOT_FOUND: ", ""},
		{[]string{"lead", "show"}, 2, "innonet lead show: want 1 argument(s)", ""},
		{[]string{"lead", "show", "X", "--nope"}, 2, "flag provided but not defined", ""},
		{[]string{"lead"}, 2, "Usage: innonet lead", ""},
		{[]string{"lead", "show", "--help"}, 0, "", "Usage: innonet lead show ID"},
		{[]string{"cluster", "help"}, 0, "", "Usage: innonet cluster"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			cmd := exec.Command(bin, append(tt.args, "--addr", addr)...)
			cmd.Env = append(cmd.Environ(), "INNONET_TOKEN=", "INNONET_ADDR=")
			var stdout, stderr strings.Builder
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			code := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tt.code {
				t.Errorf("got exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, stdout.String(), stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.wantStderr) || !strings.Contains(stdout.String(), tt.wantStdout) {
				t.Errorf("got stdout %q, stderr %q; want %q and %q in them", stdout.String(), stderr.String(), tt.wantStdout, tt.wantStderr)
			}
		})
	}
}
