package node

import (
	"context"
	"time"

	"google.golang.org/grpc"

	"innonet/node/console"
	innonetpb "innonet/proto/innonet/v1"
)

// consoleAccounts is the console's sign-in, through this site's own
// UserService (so throttling, forwarding and Apply's checks are those of
// every other client).
type consoleAccounts struct{ users innonetpb.UserServiceClient }

func newConsoleAccounts(conn grpc.ClientConnInterface) consoleAccounts {
	return consoleAccounts{users: innonetpb.NewUserServiceClient(conn)}
}

func (a consoleAccounts) SignIn(ctx context.Context, name, password string) (string, error) {
	res, err := a.users.SignIn(ctx, &innonetpb.SignInRequest{RequestId: "signin-" + NewToken()[4:28], Name: name, Password: password})
	if err != nil {
		return "", err
	}
	return res.Token, nil
}

func (a consoleAccounts) SignOut(ctx context.Context) error {
	_, err := a.users.SignOut(ctx, &innonetpb.SignOutRequest{RequestId: "signout-" + NewToken()[4:28]})
	return err
}

func (a consoleAccounts) ExtendSession(ctx context.Context) error {
	_, err := a.users.ExtendSession(ctx, &innonetpb.ExtendSessionRequest{RequestId: "extend-" + NewToken()[4:28]})
	return err
}

func (a consoleAccounts) AcceptInvitation(ctx context.Context, code, password string) error {
	_, err := a.users.AcceptInvitation(ctx, &innonetpb.AcceptInvitationRequest{RequestId: "accept-" + NewToken()[4:28], Code: code, Password: password})
	return err
}

func (a consoleAccounts) Invite(ctx context.Context, inv console.Invitation) (string, time.Time, error) {
	res, err := a.users.InviteUser(ctx, &innonetpb.InviteUserRequest{RequestId: inv.RequestID, Name: inv.Name, Role: inv.Role,
		Site: inv.Site, Division: inv.Division, UserId: inv.UserID})
	if err != nil {
		return "", time.Time{}, err
	}
	return res.Code, res.ExpireTime.AsTime(), nil
}
