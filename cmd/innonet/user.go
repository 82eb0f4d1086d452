package main

import (
	"context"
	"fmt"
	"io"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

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
node-staff) bound to a site or division, and one bearer token.`,
	subs: []subcommand{
		{"add", "add a user and print its token, once (admin)", userAdd},
		{"list", "list the users (admin)", userList},
		{"revoke", "revoke a user's token (admin)", userRevoke},
		{"whoami", "show the user your token belongs to", userWhoAmI},
	},
	examples: `  export INNONET_TOKEN=$(cat innonet-demo/admin.token)
  innonet user add --name "Sofia Rossi" --role node-staff --site MUC
  innonet user add --name "Li Wei" --role hq-reviewer
  innonet user add --name "Chen Jie" --role division --division YRD --json | jq -r .token > chen.token
  innonet user list
  innonet user revoke user-0007
  INNONET_TOKEN=$(cat chen.token) innonet user whoami
`,
}

func userAdd(ctx context.Context, std streams, args []string) error {
	f := newFlags(std, "user add", `Usage: innonet user add --name NAME --role ROLE [--site SITE | --division DIVISION] [flags]

Adds a user and prints its bearer token. The token is shown only this
once (the cluster keeps only its hash): hand it to the user over a secure
channel. Node staff need --site, divisions --division. Admins only.

Examples:
  innonet user add --name "Sofia Rossi" --role node-staff --site MUC
  innonet user add --name "Chen Jie" --role division --division YRD
  innonet user add --name "Li Wei" --role hq-reviewer --json | jq -r .token > liwei.token
`)
	cf, wf := addClientFlags(f, defaultTimeout), addWriteFlags(f)
	req := &pb.CreateUserRequest{}
	f.StringVar(&req.Name, "name", "", "the user's name (required)")
	f.Var(enumFlag(&req.Role, pb.Role_value), "role", "`ROLE`: "+enumChoices(pb.Role_value)+" (required)")
	f.StringVar(&req.Site, "site", "", "for node-staff: the `SITE` code (BOS, CBG, MUC, TLV...)")
	f.StringVar(&req.Division, "division", "", "for division: BOHAI, YRD or PRD")
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
	req.RequestId = wf.id()
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
	if resp.Token == "" {
		fmt.Fprintf(std.errOut(), "innonet: request ID %s was used before: the user exists, and its token was shown then only\n", req.RequestId)
	} else {
		fmt.Fprintln(std.errOut(), "innonet: the token is shown only this once; the cluster keeps only its hash")
	}
	if cf.json {
		return printJSON(std.out(), resp)
	}
	if err := printUsers(std.out(), []*pb.User{resp.User}); err != nil {
		return err
	}
	if resp.Token != "" {
		fmt.Fprintf(std.out(), "\ntoken: %s\n", resp.Token)
	}
	return nil
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

Revokes a user's token: from the moment a site applies the revocation it
refuses the token (UNAUTHENTICATED). The user and its history stay; add a
new user to give the person a new token. An admin cannot revoke itself.
Admins only.

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

// printUsers prints users as a table, one per row.
func printUsers(w io.Writer, users []*pb.User) error {
	t := newTable(w, "ID", "NAME", "ROLE", "SITE", "DIVISION", "CREATED", "CREATED BY", "REVOKED")
	for _, u := range users {
		revoked := ""
		if u.RevokeTime != nil {
			revoked = timeText(u.RevokeTime)
			if u.RevokedBy != "" {
				revoked += " by " + u.RevokedBy
			}
		}
		t.row(u.Id, u.Name, enumText(u.Role), u.Site, u.Division, timeText(u.CreateTime), u.CreatedBy, revoked)
	}
	return t.flush()
}
