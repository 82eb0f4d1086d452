package node

import (
	"testing"

	innonetpb "innonet/proto/innonet/v1"
)

// TestViewNilAnswer: an answer that is a nil message passes the view.
func TestViewNilAnswer(t *testing.T) {
	v := &viewer{names: map[string]string{}, orgs: map[string]string{}}
	v.walk((*innonetpb.Lead)(nil).ProtoReflect())
	v.walk((*innonetpb.ListLeadsResponse)(nil).ProtoReflect())
	v.walk((&innonetpb.ListLeadsResponse{Leads: []*innonetpb.Lead{{}}}).ProtoReflect())
}
