package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/durationpb"

	pb "innonet/proto/innonet/v1"
)

// userCommand is `innonet user`: users, their roles and tokens.
type userCommand struct{ streams }

func (c *userCommand) Run(ctx context.Context, args []string) error {
	return userGroup.run(ctx, c.streams, args)
}

var userGroup = group{
	name: "user",
	summary: `Manages users. Each user has one role (admin, hq-reviewer, division,
node-staff) bound to a site or division, and one or more bearer tokens.`,
	subs: []subcommand{
		{"add", "add a user and print its first token, once (admin)", userAdd},
		{"invite", "invite a person to set a password and sign in to the web console (admin)", userInvite},
		{"list", "list the users (admin)", userList},
		{"revoke", "revoke a user and all its tokens (admin)", userRevoke},
		{"whoami", "show the user your token belongs to", userWhoAmI},
		{"token", "create, list and revoke a user's tokens: expiry, rotation (admin, or yourself)", userToken},
	},
	examples: `  export INNONET_TOKEN=$(cat innonet-demo/admin.token)
  innonet user add --name "Sofia Rossi" --role node-staff --site MUC
  innonet user add --name "Jonas Weber" --role node-staff --site MUC-TUM      # staff of a sub-node (innonet site add)
  innonet user add --name "Li Wei" --role hq-reviewer --token-ttl 2160h
  innonet user add --name "Chen Jie" --role division --division YRD --json | jq -r .token > chen.token
  innonet user invite --name "Anna Schmidt" --role node-staff --site MUC     # prints a one-time sign-up link
  innonet user invite --user user-0007                                       # password reset
  innonet user list
  innonet user revoke user-0007
  innonet user token list user-0007
  INNONET_TOKEN=$(cat chen.token) innonet user whoami
`,
}

func userAdd(ctx context.Context, std streams, args []string) error {
	f := newFlags(std, "user add", `Usage: innonet user add --name NAME --role ROLE [--site SITE | --division DIVISION] [flags]

Adds a user and prints its first bearer token. The token is shown only
this once (the cluster keeps only its hash): hand it to the user over a
secure channel. With --token-ttl the token stops working after that time;
the user can rotate it with 'innonet user token create'. Node staff need
--site, divisions --division. Admins only.

Examples:
  innonet user add --name "Sofia Rossi" --role node-staff --site MUC
  innonet user add --name "Chen Jie" --role division --division YRD --token-ttl 2160h
  innonet user add --name "Li Wei" --role hq-reviewer --json | jq -r .token > liwei.token
`)
	cf, wf := addClientFlags(f, defaultTimeout), addWriteFlags(f)
	req := &pb.CreateUserRequest{}
	f.StringVar(&req.Name, "name", "", "the user's name (required)")
	f.Var(enumFlag(&req.Role, pb.Role_value), "role", "`ROLE`: "+enumChoices(pb.Role_value)+" (required)")
	f.StringVar(&req.Site, "site", "", "for node-staff: the registered `SITE` or sub-node code (BOS, CBG, MUC, TLV, MUC-TUM...: innonet site list)")
	f.StringVar(&req.Division, "division", "", "for division: BOHAI, YRD or PRD")
	ttl := addTTLFlag(f, "token-ttl", "how long the first token works, e.g. 2160h (90 days); at most 5 years (default: no expiry)")
	f.check(func() error {
		switch {
		case req.Name == "":
			return fmt.Errorf("--name is required")
		case req.Role == pb.Role_ROLE_UNSPECIFIED:
			return fmt.Errorf("--role is required: %s", enumChoices(pb.Role_value))
		}
		return nil
	})
	if _, err := f.parse(args, 0, 0); err != nil {
		return err
	}
	req.RequestId, req.TokenTtl = wf.id(), ttl.duration()
	c, err := cf.connect()
	if err != nil {
		return err
	}
	defer c.Close()
	var resp *pb.CreateUserResponse
	err = c.write(ctx, std, wf.retries, wf.id(), func(ctx context.Context) (err error) {
		resp, err = c.users.CreateUser(ctx, req)
		return err
	})
	if err != nil {
		return err
	}
	tokenNotice(std, resp.Token, req.RequestId, "the user exists, and its token was shown then only")
	if cf.json {
		return printJSON(std.out(), resp)
	}
	if err := printUsers(std.out(), []*pb.User{resp.User}); err != nil {
		return err
	}
	return printNewToken(std.out(), resp.TokenInfo, resp.Token)
}

func userInvite(ctx context.Context, std streams, args []string) error {
	f := newFlags(std, "user invite", `Usage: innonet user invite --name NAME --role ROLE [--site SITE | --division DIVISION] [flags]
       innonet user invite --user USER-ID [flags]

Invites a person to the web console. The command prints a one-time link;
send it to the person, who opens it, chooses a password and from then on
signs in with their name and that password. The link works once, for
--ttl (72 hours unless given, at most 30 days); the cluster keeps only a
hash of it, so it is shown only this once. Inviting the same user again
replaces an unused link.

With --name and --role the user is new (node staff need --site, divisions
--division, as for 'innonet user add'); it gets no API token, only the
password it sets. With --user an existing user is invited again: that
resets its password once the person has used the new link, and signs out
its sessions. Admins only.

The link is <console-url>/invite/<code>. The console is served by every
site at https://<its API address>/; give --console-url when people reach
it at another address (a proxy, a DNS name).

Examples:
  innonet user invite --name "Anna Schmidt" --role node-staff --site MUC
  innonet user invite --name "Li Wei" --role hq-reviewer --ttl 24h --console-url https://innonet.example.cn
  innonet user invite --user user-0007          # the person forgot the password
`)
	cf, wf := addClientFlags(f, defaultTimeout), addWriteFlags(f)
	req := &pb.InviteUserRequest{}
	f.StringVar(&req.Name, "name", "", "a new user's name, with which the person signs in")
	f.Var(enumFlag(&req.Role, pb.Role_value), "role", "a new user's `ROLE`: "+enumChoices(pb.Role_value))
	f.StringVar(&req.Site, "site", "", "for node-staff: the registered `SITE` or sub-node code (innonet site list)")
	f.StringVar(&req.Division, "division", "", "for division: BOHAI, YRD or PRD")
	f.StringVar(&req.UserId, "user", "", "an existing `USER-ID` to invite again (password reset), instead of --name and --role")
	ttl := addTTLFlag(f, "ttl", "how long the link works, e.g. 24h (default 72h; at most 720h, 30 days)")
	consoleURL := f.String("console-url", "", "the web console's `URL` for the link (default https://<--addr>)")
	f.check(func() error {
		switch {
		case req.UserId != "" && (req.Name != "" || req.Role != pb.Role_ROLE_UNSPECIFIED || req.Site != "" || req.Division != ""):
			return fmt.Errorf("give either --user (an existing user) or --name and --role (a new one), not both")
		case req.UserId != "":
		case req.Name == "":
			return fmt.Errorf("--name is required (or --user USER-ID to invite an existing user again)")
		case req.Role == pb.Role_ROLE_UNSPECIFIED:
			return fmt.Errorf("--role is required: %s", enumChoices(pb.Role_value))
		}
		return nil
	})
	if _, err := f.parse(args, 0, 0); err != nil {
		return err
	}
	req.RequestId, req.Ttl = wf.id(), ttl.duration()
	c, err := cf.connect()
	if err != nil {
		return err
	}
	defer c.Close()
	var resp *pb.InviteUserResponse
	err = c.write(ctx, std, wf.retries, wf.id(), func(ctx context.Context) (err error) {
		resp, err = c.users.InviteUser(ctx, req)
		return err
	})
	if err != nil {
		return err
	}
	if resp.Code == "" {
		fmt.Fprintf(std.errOut(), "innonet: request ID %s was used before: the invitation exists, and its link was shown then only\n", req.RequestId)
	} else {
		fmt.Fprintln(std.errOut(), "innonet: the link is shown only this once; the cluster keeps only a hash of it")
	}
	if cf.json {
		return printJSON(std.out(), resp)
	}
	if err := printUsers(std.out(), []*pb.User{resp.User}); err != nil {
		return err
	}
	fmt.Fprintf(std.out(), "\ninvitation %s expires %s\n", resp.InvitationId, timeText(resp.ExpireTime))
	if resp.Code != "" {
		fmt.Fprintf(std.out(), "link: %s\n", inviteLink(*consoleURL, cf.addr, resp.Code))
	}
	return nil
}

// inviteLink is the console's page for an invitation code: under
// consoleURL, or the site's own console at addr.
func inviteLink(consoleURL, addr, code string) string {
	base := consoleURL
	if base == "" {
		base = "https://" + strings.TrimPrefix(strings.TrimPrefix(addr, "https://"), "http://")
	}
	return strings.TrimRight(base, "/") + "/invite/" + code
}

func userList(ctx context.Context, std streams, args []string) error {
	f := newFlags(std, "user list", `Usage: innonet user list [flags]

Lists every user with role, site or division, and whether the token was
revoked. Admins only.

Examples:
  innonet user list
  innonet user list --json | jq -r '.users[] | select(.role == "NODE_STAFF") | .name'
`)
	cf := addClientFlags(f, defaultTimeout)
	rf := addReadFlags(f)
	if _, err := f.parse(args, 0, 0); err != nil {
		return err
	}
	c, err := cf.connect()
	if err != nil {
		return err
	}
	defer c.Close()
	var resp *pb.ListUsersResponse
	var header metadata.MD
	err = c.call(ctx, func(ctx context.Context) (err error) {
		resp, err = c.users.ListUsers(ctx, &pb.ListUsersRequest{Consistency: rf.consistency, MaxStaleness: rf.staleness()}, grpc.Header(&header))
		return err
	})
	if err != nil {
		return err
	}
	resp.Read = readInfo(resp.Read, header)
	if cf.json {
		return printJSON(std.out(), resp)
	}
	if err := printUsers(std.out(), resp.Users); err != nil {
		return err
	}
	printReadInfo(std.errOut(), resp.Read)
	return nil
}

func userRevoke(ctx context.Context, std streams, args []string) error {
	f := newFlags(std, "user revoke", `Usage: innonet user revoke USER-ID [flags]

Revokes a user and every token it holds: from the moment a site applies
the revocation it refuses them (UNAUTHENTICATED), and no new token can be
created for the user. The user and its history stay; add a new user to
give the person access again. To revoke one token only (rotation), use
'innonet user token revoke'. An admin cannot revoke itself. Admins only.

Examples:
  innonet user list
  innonet user revoke user-0007
`)
	cf, wf := addClientFlags(f, defaultTimeout), addWriteFlags(f)
	pos, err := f.parse(args, 1, 1)
	if err != nil {
		return err
	}
	c, err := cf.connect()
	if err != nil {
		return err
	}
	defer c.Close()
	req := &pb.RevokeUserRequest{Id: pos[0], RequestId: wf.id()}
	var u *pb.User
	err = c.write(ctx, std, wf.retries, wf.id(), func(ctx context.Context) (err error) {
		u, err = c.users.RevokeUser(ctx, req)
		return err
	})
	if err != nil {
		return err
	}
	if cf.json {
		return printJSON(std.out(), u)
	}
	return printUsers(std.out(), []*pb.User{u})
}

func userWhoAmI(ctx context.Context, std streams, args []string) error {
	f := newFlags(std, "user whoami", `Usage: innonet user whoami [flags]

Shows the user the token belongs to: a quick check that a token works.

Examples:
  INNONET_TOKEN=$(cat chen.token) innonet user whoami
  innonet user whoami --token-file ~/.innonet/token --addr 127.0.0.1:7107
`)
	cf := addClientFlags(f, defaultTimeout)
	if _, err := f.parse(args, 0, 0); err != nil {
		return err
	}
	c, err := cf.connect()
	if err != nil {
		return err
	}
	defer c.Close()
	var u *pb.User
	err = c.call(ctx, func(ctx context.Context) (err error) {
		u, err = c.users.WhoAmI(ctx, &pb.WhoAmIRequest{})
		return err
	})
	if err != nil {
		return err
	}
	if cf.json {
		return printJSON(std.out(), u)
	}
	return printUsers(std.out(), []*pb.User{u})
}

// printNewToken prints a created token's metadata, then the token itself,
// which the server shows only once (empty on a retried request).
func printNewToken(w io.Writer, info *pb.Token, token string) error {
	if info != nil {
		fmt.Fprintln(w)
		if err := printTokens(w, []*pb.Token{info}); err != nil {
			return err
		}
	}
	if token != "" {
		fmt.Fprintf(w, "\ntoken: %s\n", token)
	}
	return nil
}

// printUsers prints users as a table, one per row.
func printUsers(w io.Writer, users []*pb.User) error {
	t := newTable(w, "ID", "NAME", "ROLE", "SITE", "DIVISION", "CREATED", "CREATED BY", "REVOKED")
	for _, u := range users {
		revoked := ""
		if u.RevokeTime != nil {
			revoked = timeText(u.RevokeTime)
			if u.RevokedBy != "" {
				revoked += " by " + userText(u.RevokedByName, u.RevokedBy)
			}
		}
		t.row(u.Id, u.Name, enumText(u.Role), u.Site, u.Division, timeText(u.CreateTime), userText(u.CreatedByName, u.CreatedBy), revoked)
	}
	return t.flush()
}

// userTokenGroup is `innonet user token`: a user's tokens.
var userTokenGroup = group{
	name: "user token",
	summary: `Manages a user's bearer tokens. A user may hold several; each can expire
and be revoked on its own. Admins manage anyone's tokens, every user its
own: USER-ID "me" stands for the user of the token you present. To rotate
a token without downtime, create a new one, move your clients to it, then
revoke the old one. Each subcommand takes the client flags --addr,
--token, --token-file, --json and --timeout.`,
	subs: []subcommand{
		{"create", "create a token for a user and print it, once", userTokenCreate},
		{"list", "list a user's tokens: metadata, never the tokens", userTokenList},
		{"revoke", "revoke one token of a user", userTokenRevoke},
	},
	examples: `  innonet user token create me --ttl 720h --description "laptop" --json | jq -r .token > new.token
  INNONET_TOKEN=$(cat new.token) innonet user token list me
  INNONET_TOKEN=$(cat new.token) innonet user token revoke me tok-0003
  innonet user token create user-0007 --ttl 2160h     # as an admin
`,
}

func userToken(ctx context.Context, std streams, args []string) error {
	return userTokenGroup.run(ctx, std, args)
}

func userTokenCreate(ctx context.Context, std streams, args []string) error {
	f := newFlags(std, "user token create", `Usage: innonet user token create USER-ID|me [--ttl DURATION] [--description TEXT] [flags]

Creates one more bearer token for a user and prints it. The token is
shown only this once (the cluster keeps only its hash); the user's other
tokens keep working. With --ttl the token stops working after that time.
Admins may create tokens for anyone, every user for itself.

Examples:
  innonet user token create me --ttl 720h --description "laptop"
  innonet user token create me --json | jq -r .token > new.token
  innonet user token create user-0007 --ttl 2160h --description "CI at BOS"
`)
	cf, wf := addClientFlags(f, defaultTimeout), addWriteFlags(f)
	ttl := addTTLFlag(f, "ttl", "how long the token works, e.g. 720h (30 days); at most 5 years (default: no expiry)")
	var desc string
	f.StringVar(&desc, "description", "", "what the token is for, e.g. which client uses it (at most 200 characters)")
	pos, err := f.parse(args, 1, 1)
	if err != nil {
		return err
	}
	c, err := cf.connect()
	if err != nil {
		return err
	}
	defer c.Close()
	id, err := c.resolveUser(ctx, pos[0])
	if err != nil {
		return err
	}
	req := &pb.CreateTokenRequest{UserId: id, RequestId: wf.id(), Ttl: ttl.duration(), Description: desc}
	var resp *pb.CreateTokenResponse
	err = c.write(ctx, std, wf.retries, wf.id(), func(ctx context.Context) (err error) {
		resp, err = c.users.CreateToken(ctx, req)
		return err
	})
	if err != nil {
		return err
	}
	tokenNotice(std, resp.Token, req.RequestId, "the token exists, and was shown then only")
	if cf.json {
		return printJSON(std.out(), resp)
	}
	if err := printTokens(std.out(), []*pb.Token{resp.TokenInfo}); err != nil {
		return err
	}
	if resp.Token != "" {
		fmt.Fprintf(std.out(), "\ntoken: %s\n", resp.Token)
	}
	return nil
}

func userTokenList(ctx context.Context, std streams, args []string) error {
	f := newFlags(std, "user token list", `Usage: innonet user token list USER-ID|me [flags]

Lists a user's tokens in the order they were created, with their state
(ACTIVE, EXPIRED or REVOKED, by the answering site's clock), expiry and
description. Never shows a token or its hash. Admins may list anyone's
tokens, every user its own.

Examples:
  innonet user token list me
  innonet user token list user-0007 --json | jq -r '.tokens[] | select(.state == "ACTIVE") | .id'
`)
	cf := addClientFlags(f, defaultTimeout)
	rf := addReadFlags(f)
	pos, err := f.parse(args, 1, 1)
	if err != nil {
		return err
	}
	c, err := cf.connect()
	if err != nil {
		return err
	}
	defer c.Close()
	id, err := c.resolveUser(ctx, pos[0])
	if err != nil {
		return err
	}
	var resp *pb.ListTokensResponse
	var header metadata.MD
	err = c.call(ctx, func(ctx context.Context) (err error) {
		resp, err = c.users.ListTokens(ctx, &pb.ListTokensRequest{UserId: id, Consistency: rf.consistency, MaxStaleness: rf.staleness()}, grpc.Header(&header))
		return err
	})
	if err != nil {
		return err
	}
	resp.Read = readInfo(resp.Read, header)
	if cf.json {
		return printJSON(std.out(), resp)
	}
	if err := printTokens(std.out(), resp.Tokens); err != nil {
		return err
	}
	printReadInfo(std.errOut(), resp.Read)
	return nil
}

func userTokenRevoke(ctx context.Context, std streams, args []string) error {
	f := newFlags(std, "user token revoke", `Usage: innonet user token revoke USER-ID|me TOKEN-ID [flags]

Revokes one token of a user: from the moment a site applies the
revocation it refuses the token (UNAUTHENTICATED); the user's other tokens
keep working. Revoking a revoked token changes nothing. An admin cannot
revoke its own last active token. Admins may revoke anyone's tokens, every
user its own.

Examples:
  innonet user token list me
  innonet user token revoke me tok-0003
  innonet user token revoke user-0007 tok-0012
`)
	cf, wf := addClientFlags(f, defaultTimeout), addWriteFlags(f)
	pos, err := f.parse(args, 2, 2)
	if err != nil {
		return err
	}
	c, err := cf.connect()
	if err != nil {
		return err
	}
	defer c.Close()
	id, err := c.resolveUser(ctx, pos[0])
	if err != nil {
		return err
	}
	req := &pb.RevokeTokenRequest{UserId: id, TokenId: pos[1], RequestId: wf.id()}
	var tok *pb.Token
	err = c.write(ctx, std, wf.retries, wf.id(), func(ctx context.Context) (err error) {
		tok, err = c.users.RevokeToken(ctx, req)
		return err
	})
	if err != nil {
		return err
	}
	if cf.json {
		return printJSON(std.out(), tok)
	}
	return printTokens(std.out(), []*pb.Token{tok})
}

// resolveUser returns id, or for "me" the ID of the caller's user.
func (c *client) resolveUser(ctx context.Context, id string) (string, error) {
	if id != "me" {
		return id, nil
	}
	var u *pb.User
	err := c.call(ctx, func(ctx context.Context) (err error) {
		u, err = c.users.WhoAmI(ctx, &pb.WhoAmIRequest{})
		return err
	})
	if err != nil {
		return "", err
	}
	return u.Id, nil
}

// ttlFlag is a token time to live on the command line.
type ttlFlag struct{ d time.Duration }

// addTTLFlag registers a duration flag for a token's time to live.
func addTTLFlag(f *cmdFlags, name, usage string) *ttlFlag {
	t := &ttlFlag{}
	f.DurationVar(&t.d, name, 0, usage)
	f.check(func() error {
		if t.d < 0 {
			return fmt.Errorf("--%s must not be negative", name)
		}
		return nil
	})
	return t
}

// duration is the flag for a request (nil when not given: no expiry).
func (t *ttlFlag) duration() *durationpb.Duration {
	if t.d == 0 {
		return nil
	}
	return durationpb.New(t.d)
}

// printTokens prints tokens as a table, one per row, with the names of
// the users they name.
func printTokens(w io.Writer, tokens []*pb.Token) error {
	t := newTable(w, "ID", "USER", "STATE", "CREATED", "CREATED BY", "EXPIRES", "REVOKED", "DESCRIPTION")
	for _, tok := range tokens {
		revoked := ""
		if tok.RevokeTime != nil {
			revoked = timeText(tok.RevokeTime)
			if tok.RevokedBy != "" {
				revoked += " by " + userText(tok.RevokedByName, tok.RevokedBy)
			}
		}
		t.row(tok.Id, userText(tok.UserName, tok.UserId), enumText(tok.State), timeText(tok.CreateTime),
			userText(tok.CreatedByName, tok.CreatedBy), timeText(tok.ExpireTime), revoked, clipText(tok.Description, 40))
	}
	return t.flush()
}

// tokenNotice tells, on stderr, that a new token is shown only this once,
// or that a retried request's token was shown the first time (retried
// says what exists then).
func tokenNotice(std streams, token, requestID, retried string) {
	if token == "" {
		fmt.Fprintf(std.errOut(), "innonet: request ID %s was used before: %s\n", requestID, retried)
		return
	}
	fmt.Fprintln(std.errOut(), "innonet: the token is shown only this once; the cluster keeps only its hash")
}
