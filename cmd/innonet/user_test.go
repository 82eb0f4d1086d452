package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "innonet/proto/innonet/v1"
)

// TestCLIEnvironment takes the address and token from INNONET_ADDR and
// INNONET_TOKEN, and lets flags override them.
func TestCLIEnvironment(t *testing.T) {
	tn := newTestNet(t, "CGO", "BOS", "CBG")
	staff := tn.addUser("Emily Carter", pb.Role_NODE_STAFF, "BOS", "")
	t.Setenv("INNONET_ADDR", tn.addr("BOS"))
	t.Setenv("INNONET_TOKEN", staff)

	out := cli(t, "user", "whoami")
	if rows := tableRows(out, "user-0002"); len(rows) != 1 || !strings.Contains(out, "Emily Carter") || !strings.Contains(out, "NODE_STAFF") {
		t.Fatalf("user whoami from the environment: got\n%s", out)
	}
	cli(t, "lead", "submit", "--title", "Env lead", "--summary", "s", "--organization", "o", "--country", "US",
		"--sector", "it-ai", "--trl", "3", "--deal-type", "investment")
	if got := leadIDs(cli(t, "lead", "list")); got != "BOS-0001" {
		t.Errorf("lead list from the environment: got %q, want BOS-0001", got)
	}

	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(cliAdminToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string // in stdout, or the error code's name
	}{
		{"token file wins over the environment", []string{"--token-file", tokenFile}, "ADMIN"},
		{"token flag wins over the environment", []string{"--token", "inn_not-a-token"}, "UNAUTHENTICATED"},
		{"addr flag wins over the environment", []string{"--addr", tn.addr("CGO")}, "NODE_STAFF"},
		{"http:// prefix accepted", []string{"--addr", "http://" + tn.addr("CBG")}, "NODE_STAFF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, append([]string{"user", "whoami"}, tt.args...)...)
			got := r.stdout
			if r.err != nil {
				got = r.err.Error()
			}
			if !strings.Contains(got, tt.want) {
				t.Errorf("got %q, want %q in it", got, tt.want)
			}
		})
	}

	t.Run("no token", func(t *testing.T) {
		t.Setenv("INNONET_TOKEN", "")
		r := runCLI(t, "user", "whoami")
		if r.err == nil || !strings.Contains(r.err.Error(), "INNONET_TOKEN") {
			t.Errorf("got %v, want an error naming INNONET_TOKEN", r.err)
		}
	})
}

// TestCLIAuthErrors checks that a bad token and a wrong role come back as
// "CODE: message" errors (exit 1), and that the token is never printed.
func TestCLIAuthErrors(t *testing.T) {
	tn := newTestNet(t, "CGO", "BOS", "CBG")
	staff := tn.addUser("Emily Carter", pb.Role_NODE_STAFF, "BOS", "")
	yrd := tn.addUser("Chen Jie", pb.Role_DIVISION, "", "YRD")
	tn.submit(staff, "A lead")
	const bad = "inn_0123456789abcdef-not-a-token"

	tests := []struct {
		name string
		code codes.Code
		args []string
	}{
		{"bad token, read", codes.Unauthenticated, []string{"lead", "list", "--token", bad}},
		{"bad token, write", codes.Unauthenticated, []string{"lead", "claim", "BOS-0001", "--token", bad}},
		{"bad token, cluster", codes.Unauthenticated, []string{"cluster", "status", "--token", bad}},
		{"staff reviews", codes.PermissionDenied, []string{"lead", "review", "BOS-0001", "--decision", "approve", "--token", staff}},
		{"division lists users", codes.PermissionDenied, []string{"user", "list", "--token", yrd}},
		{"division adds a user", codes.PermissionDenied, []string{"user", "add", "--name", "X", "--role", "admin", "--token", yrd}},
		{"division adds a site", codes.PermissionDenied, []string{"cluster", "add", "ZZZ", "--raft-addr", "127.0.0.1:1", "--api-addr", "127.0.0.1:2", "--token", yrd}},
		{"division sees an unpublished lead", codes.PermissionDenied, []string{"lead", "show", "BOS-0001", "--token", yrd}},
		{"unknown lead", codes.NotFound, []string{"lead", "show", "BOS-0042", "--token", staff}},
		{"bad field", codes.InvalidArgument, []string{"lead", "submit", "--title", "t", "--token", staff}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := cliErr(t, tt.code, append(tt.args, "--addr", tn.addr("BOS"))...)
			if strings.Contains(r.stdout+r.stderr+r.err.Error(), bad) {
				t.Errorf("the token was printed: %q %q %q", r.stdout, r.stderr, r.err)
			}
		})
	}
}

// TestCLIUserRevoke revokes a token; the revoked token stops working.
func TestCLIUserRevoke(t *testing.T) {
	tn := newTestNet(t, "CGO", "BOS", "CBG")
	admin := []string{"--addr", tn.addr("BOS"), "--token", cliAdminToken}
	var created pb.CreateUserResponse
	cliJSON(t, &created, append([]string{"user", "add", "--name", "Sofia Rossi", "--role", "node-staff", "--site", "MUC"}, admin...)...)
	cli(t, "user", "whoami", "--addr", tn.addr("CBG"), "--token", created.Token)

	r := runCLI(t, append([]string{"user", "revoke", created.User.Id}, admin...)...)
	skipIfUnimplemented(t, r.err)
	if r.err != nil {
		t.Fatalf("user revoke: %v\n%s", r.err, r.stderr)
	}
	if rows := tableRows(r.stdout, created.User.Id); len(rows) != 1 || rows[0][len(rows[0])-1] == "-" {
		t.Errorf("user revoke: got\n%s\nwant the user with its revocation time", r.stdout)
	}
	for _, site := range []string{"CGO", "BOS", "CBG"} {
		eventually(t, site+" refuses the revoked token", func() error {
			r := runCLI(t, "user", "whoami", "--addr", tn.addr(site), "--token", created.Token)
			if status.Code(r.err) != codes.Unauthenticated {
				return r.err
			}
			return nil
		})
	}
	var list pb.ListUsersResponse
	cliJSON(t, &list, append([]string{"user", "list"}, admin...)...)
	for _, u := range list.Users {
		if u.Id == created.User.Id && (u.RevokeTime == nil || u.RevokedBy == "") {
			t.Errorf("user list: got %v, want a revoke time and who revoked it", u)
		}
	}
	// The admin cannot revoke itself; which code says so is the server's choice.
	if r := runCLI(t, append([]string{"user", "revoke", "user-0001"}, admin...)...); r.err == nil {
		t.Error("user revoke of the caller itself: got success, want an error")
	}
}
