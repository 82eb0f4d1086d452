package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"innonet/node/pipeline"
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
		{"https:// prefix accepted", []string{"--addr", "https://" + tn.addr("CBG")}, "NODE_STAFF"},
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

// TestCLIUserTokens rotates a token with the token subcommands: a user
// creates a second token for itself, moves to it and revokes the first.
func TestCLIUserTokens(t *testing.T) {
	tn := newTestNet(t, "CGO", "BOS", "CBG")
	admin := []string{"--addr", tn.addr("BOS"), "--token", cliAdminToken}
	var created pb.CreateUserResponse
	cliJSON(t, &created, append([]string{"user", "add", "--name", "Sofia Rossi", "--role", "node-staff", "--site", "MUC",
		"--token-ttl", "720h"}, admin...)...)
	if got := created.TokenInfo.ExpireTime.AsTime().Sub(created.TokenInfo.CreateTime.AsTime()); got != 720*time.Hour {
		t.Errorf("user add --token-ttl 720h: got a token expiring %s after its creation", got)
	}
	old, oldID, self := created.Token, created.TokenInfo.Id, created.User.Id
	other := tn.addUser("Emily Carter", pb.Role_NODE_STAFF, "BOS", "")
	as := func(token, site string) []string { return []string{"--addr", tn.addr(site), "--token", token} }

	// The user creates a second token for itself.
	var rotated pb.CreateTokenResponse
	cliJSON(t, &rotated, append([]string{"user", "token", "create", "me", "--ttl", "1h", "--description", "laptop",
		"--request-id", "rotate-1"}, as(old, "CBG")...)...)
	fresh := rotated.Token
	if !strings.HasPrefix(fresh, "inn_") || rotated.TokenInfo.UserId != self || rotated.TokenInfo.Description != "laptop" ||
		rotated.TokenInfo.State != pb.TokenState_ACTIVE {
		t.Fatalf("user token create me: got %v, want a new ACTIVE token of %s", &rotated, self)
	}
	r := runCLI(t, append([]string{"user", "token", "create", "me", "--ttl", "1h", "--description", "laptop",
		"--request-id", "rotate-1"}, as(old, "CBG")...)...)
	if r.err != nil || strings.Contains(r.stdout, "token: ") || !strings.Contains(r.stderr, "was used before") ||
		len(tableRows(r.stdout, rotated.TokenInfo.Id)) != 1 {
		t.Errorf("user token create again with the same request ID: got %v\n%s\n%s; want the token's row, no token", r.err, r.stdout, r.stderr)
	}
	for _, site := range []string{"CGO", "BOS", "CBG"} {
		eventually(t, site+" accepting the new token", func() error {
			return runCLI(t, append([]string{"user", "whoami"}, as(fresh, site)...)...).err
		})
	}

	out := cli(t, append([]string{"user", "token", "list", "me"}, as(fresh, "BOS")...)...)
	for _, id := range []string{oldID, rotated.TokenInfo.Id} {
		// The user is shown by name: "Sofia Rossi (user-0002)".
		if rows := tableRows(out, id); len(rows) != 1 || !strings.Contains(strings.Join(rows[0], " "), "Sofia Rossi ("+self+")") || !slices.Contains(rows[0], "ACTIVE") {
			t.Errorf("user token list me: got\n%s\nwant %s of Sofia Rossi ACTIVE", out, id)
		}
	}
	// Its first token was created by the admin, its second by itself: by
	// name too, though the user may not list users.
	if rows := tableRows(out, oldID); len(rows) != 1 || !strings.Contains(strings.Join(rows[0], " "), "admin (user-0001)") {
		t.Errorf("user token list me: got\n%s\nwant %s created by admin (user-0001)", out, oldID)
	}
	for _, secret := range []string{old, fresh} {
		if strings.Contains(out, secret) {
			t.Errorf("user token list shows a token:\n%s", out)
		}
	}

	// With the new token, the user revokes the first.
	out = cli(t, append([]string{"user", "token", "revoke", self, oldID}, as(fresh, "CGO")...)...)
	if rows := tableRows(out, oldID); len(rows) != 1 || !slices.Contains(rows[0], "REVOKED") {
		t.Errorf("user token revoke: got\n%s\nwant %s REVOKED", out, oldID)
	}
	for _, site := range []string{"CGO", "BOS", "CBG"} {
		eventually(t, site+" refusing the revoked token", func() error {
			r := runCLI(t, append([]string{"user", "whoami"}, as(old, site)...)...)
			if status.Code(r.err) != codes.Unauthenticated {
				return fmt.Errorf("got %v, want UNAUTHENTICATED", r.err)
			}
			return nil
		})
		cli(t, append([]string{"user", "whoami"}, as(fresh, site)...)...)
	}
	// A STALE read answers from CBG's own state, which may apply the
	// revocation after CBG refuses the token (whoami asks the leader).
	var list pb.ListTokensResponse
	eventually(t, "CBG's state showing the revocation", func() error {
		cliJSON(t, &list, append([]string{"user", "token", "list", self, "--consistency", "stale"}, as(fresh, "CBG")...)...)
		if len(list.Tokens) == 0 || list.Tokens[0].State != pb.TokenState_REVOKED {
			return fmt.Errorf("got %v", &list)
		}
		return nil
	})
	if len(list.Tokens) != 2 || list.Tokens[0].State != pb.TokenState_REVOKED || list.Tokens[0].RevokedBy != self ||
		list.Tokens[0].RevokedByName != "Sofia Rossi" || list.Tokens[0].UserName != "Sofia Rossi" ||
		list.Tokens[1].State != pb.TokenState_ACTIVE || list.Read.GetSite() != "CBG" {
		t.Errorf("user token list --json: got %v, want the first REVOKED by %s, the second ACTIVE, read on CBG", &list, self)
	}

	tests := []struct {
		name string
		code codes.Code
		args []string
	}{
		{"create for another", codes.PermissionDenied, append([]string{"user", "token", "create", self}, as(other, "BOS")...)},
		{"list another's", codes.PermissionDenied, append([]string{"user", "token", "list", self}, as(other, "BOS")...)},
		{"revoke another's", codes.PermissionDenied, append([]string{"user", "token", "revoke", self, rotated.TokenInfo.Id}, as(other, "BOS")...)},
		{"revoke an unknown token", codes.NotFound, append([]string{"user", "token", "revoke", self, "tok-9999"}, admin...)},
		{"create with a revoked token", codes.Unauthenticated, append([]string{"user", "token", "create", "me"}, as(old, "BOS")...)},
		{"ttl over five years", codes.InvalidArgument, append([]string{"user", "token", "create", "me", "--ttl", "50000h"}, as(fresh, "BOS")...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { cliErr(t, tt.code, tt.args...) })
	}
}

// TestCLIUserTokenUsage checks the token subcommands' help and mistakes
// on their command lines, which never reach the network.
func TestCLIUserTokenUsage(t *testing.T) {
	t.Setenv("INNONET_ADDR", "127.0.0.1:1")
	t.Setenv("INNONET_TOKEN", "")
	for _, s := range userTokenGroup.subs {
		t.Run(s.name+" --help", func(t *testing.T) {
			r := runCLI(t, "user", "token", s.name, "--help")
			if !errors.Is(r.err, flag.ErrHelp) {
				t.Fatalf("got %v, want flag.ErrHelp (exit 0)", r.err)
			}
			for _, want := range []string{"Usage: innonet user token " + s.name, "Examples:\n  ", "INNONET_TOKEN", "-addr", "-json", "-timeout"} {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("output lacks %q:\n%s", want, r.stdout)
				}
			}
		})
	}
	r := runCLI(t, "user", "token", "--help")
	if !errors.Is(r.err, flag.ErrHelp) || !strings.Contains(r.stdout, "Usage: innonet user token <subcommand>") {
		t.Errorf("user token --help: got %v\n%s", r.err, r.stdout)
	}
	for _, s := range userTokenGroup.subs {
		if !strings.Contains(r.stdout, s.summary) {
			t.Errorf("user token --help lacks subcommand %s:\n%s", s.name, r.stdout)
		}
	}

	tests := []struct {
		args []string
		want string
	}{
		{[]string{"user", "token"}, "Usage: innonet user token <subcommand>"},
		{[]string{"user", "token", "frob"}, `innonet user token: unknown subcommand "frob"`},
		{[]string{"user", "token", "create"}, "want 1 argument(s), got 0"},
		{[]string{"user", "token", "list", "a", "b"}, `unexpected argument(s) ["b"]`},
		{[]string{"user", "token", "revoke", "me"}, "want 2 argument(s), got 1"},
		{[]string{"user", "token", "create", "me", "--ttl", "-1h"}, "--ttl must not be negative"},
		{[]string{"user", "token", "create", "me", "--ttl", "soon"}, "invalid value"},
		{[]string{"user", "add", "--name", "X", "--role", "admin", "--token-ttl", "-5m"}, "--token-ttl must not be negative"},
	}
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
			if r.stdout != "" {
				t.Errorf("a usage error wrote to stdout: %q", r.stdout)
			}
		})
	}
}

// TestCLIUserInvite invites a new user, which signs up with the link's
// code and signs in, and invites it again (a password reset).
func TestCLIUserInvite(t *testing.T) {
	tn := newTestNet(t, "CGO", "BOS", "CBG")
	eventually(t, "log format 2", func() error {
		if tn.leader().State().Format() < pipeline.Format2 {
			return errors.New("not yet")
		}
		return nil
	})
	admin := []string{"--addr", tn.addr("BOS"), "--token", cliAdminToken}
	r := runCLI(t, append([]string{"user", "invite", "--name", "Anna Schmidt", "--role", "node-staff", "--site", "MUC", "--ttl", "24h"}, admin...)...)
	if r.err != nil {
		t.Fatalf("user invite: %v\n%s", r.err, r.stderr)
	}
	prefix := "link: https://" + tn.addr("BOS") + "/invite/inv_"
	var link string
	for _, line := range strings.Split(r.stdout, "\n") {
		if strings.HasPrefix(line, prefix) {
			link = line
		}
	}
	if link == "" || len(tableRows(r.stdout, "user-0002")) != 1 || !strings.Contains(r.stdout, "expires") {
		t.Fatalf("user invite: got\n%s\nwant the user, the expiry and a line starting %q", r.stdout, prefix)
	}
	if !strings.Contains(r.stderr, "shown only this once") {
		t.Errorf("user invite: stderr lacks the notice:\n%s", r.stderr)
	}
	code := link[strings.LastIndex(link, "/")+1:]

	users := tn.rpc("CBG", "").users
	if _, err := users.AcceptInvitation(t.Context(), &pb.AcceptInvitationRequest{RequestId: "acc-1", Code: code, Password: "anna's long password"}); err != nil {
		t.Fatalf("accept: %v", err)
	}
	in, err := users.SignIn(t.Context(), &pb.SignInRequest{RequestId: "in-1", Name: "Anna Schmidt", Password: "anna's long password"})
	if err != nil {
		t.Fatalf("sign in: %v", err)
	}
	cli(t, "user", "whoami", "--addr", tn.addr("CGO"), "--token", in.Token)

	var again pb.InviteUserResponse
	cliJSON(t, &again, append([]string{"user", "invite", "--user", "user-0002", "--console-url", "https://console.example/"}, admin...)...)
	if again.User.GetId() != "user-0002" || !strings.HasPrefix(again.Code, "inv_") {
		t.Errorf("user invite --user: got %v", &again)
	}
	if got := inviteLink("https://console.example/", "x", "inv_1"); got != "https://console.example/invite/inv_1" {
		t.Errorf("got link %q", got)
	}

	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"user", "invite"}, "--name is required"},
		{[]string{"user", "invite", "--name", "X"}, "--role is required"},
		{[]string{"user", "invite", "--user", "user-0002", "--name", "X"}, "not both"},
		{[]string{"user", "invite", "--user", "user-0002", "--ttl", "-1h"}, "--ttl must not be negative"},
	} {
		r := runCLI(t, append(tt.args, admin...)...)
		var ue *usageError
		if !errors.As(r.err, &ue) || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("%v: got %v\n%s\nwant a usage error with %q", tt.args, r.err, r.stderr, tt.want)
		}
	}
	r = runCLI(t, "user", "invite", "--help")
	if !errors.Is(r.err, flag.ErrHelp) || !strings.Contains(r.stdout, "Usage: innonet user invite") || !strings.Contains(r.stdout, "Examples:\n  ") {
		t.Errorf("user invite --help: got %v\n%s", r.err, r.stdout)
	}
}
