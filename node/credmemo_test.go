package node

import (
	"context"
	"errors"
	"testing"

	innonetpb "innonet/proto/innonet/v1"

	"innonet/node/pipeline"
)

// One request looks its token up once: a later step of the same request
// sees the token as the first found it, a new request sees the state as
// it is now, and a token not found is looked up again.
func TestTokenLookedUpOncePerRequest(t *testing.T) {
	tc := newTestCluster(t, testVoters[:1], nil)
	tok := tc.addUser("Memo", innonetpb.Role_NODE_STAFF, "BOS", "")
	n := tc.leaderNode()

	req := withTokenMemo(context.Background())
	u, first, err := n.lookupToken(req, tok)
	if err != nil {
		t.Fatalf("look up a valid token: %v", err)
	}
	admin := tc.clients(n, testAdminToken)
	if _, err := admin.users.RevokeToken(admin.ctx(t), &innonetpb.RevokeTokenRequest{UserId: u.ID, TokenId: first.ID, RequestId: rid()}); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	if _, again, err := n.lookupToken(req, tok); err != nil || again.Revoked != nil {
		t.Errorf("the same request, after the revocation: token %+v, %v; want the token as first found, not revoked", again, err)
	}
	if _, now, err := n.lookupToken(withTokenMemo(context.Background()), tok); err != nil || now.Revoked == nil {
		t.Errorf("a new request, after the revocation: token %+v, %v; want it revoked", now, err)
	}
	if _, now, err := n.lookupToken(context.Background(), tok); err != nil || now.Revoked == nil {
		t.Errorf("without a memo, after the revocation: token %+v, %v; want it revoked", now, err)
	}

	unknown := withTokenMemo(context.Background())
	if _, _, err := n.lookupToken(unknown, "no-such-token"); !errors.Is(err, pipeline.ErrUnauthenticated) {
		t.Errorf("an unknown token: %v; want %v", err, pipeline.ErrUnauthenticated)
	}
	if _, _, err := n.lookupToken(unknown, tok); err != nil {
		t.Errorf("the same request with a known token after an unknown one: %v", err)
	}
}
