package pipeline

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// garbage are log entries no proposer would write.
func garbage() []struct {
	name string
	data []byte
	want error
} {
	rnd := make([]byte, 512)
	r := rand.NewChaCha8([32]byte{1, 2, 3})
	r.Read(rnd)
	valid := `"op":"withdraw","requestId":"g1","actor":"user-0003","leadId":"BOS-0001"`
	return []struct {
		name string
		data []byte
		want error
	}{
		{"nil", nil, ErrInvalid},
		{"empty", []byte(""), ErrInvalid},
		{"open brace", []byte("{"), ErrInvalid},
		{"null", []byte("null"), ErrInvalid},
		{"array", []byte(`[1,2,3]`), ErrInvalid},
		{"string", []byte(`"submit"`), ErrInvalid},
		{"random bytes", rnd, ErrInvalid},
		{"no version", []byte(`{` + valid + `}`), ErrInvalid},
		{"version 2", []byte(`{"v":2,` + valid + `}`), ErrInvalid},
		{"version -1", []byte(`{"v":-1,` + valid + `}`), ErrInvalid},
		{"unknown op", []byte(`{"v":1,"op":"delete_everything","requestId":"g1","actor":"user-0001"}`), ErrInvalid},
		{"huge version", []byte(`{"v":1e400,` + valid + `}`), ErrInvalid},
		{"version beyond int64", []byte(`{"v":99999999999999999999,` + valid + `}`), ErrInvalid},
		{"time beyond int64", []byte(`{"v":1,"time":9223372036854775808,` + valid + `}`), ErrInvalid},
		{"fractional time", []byte(`{"v":1,"time":1.5,` + valid + `}`), ErrInvalid},
		{"stage beyond range", []byte(`{"v":1,"op":"advance","requestId":"g1","actor":"user-0006","leadId":"BOS-0001","stage":9223372036854775807}`), ErrInvalid},
		{"decision beyond range", []byte(`{"v":1,"op":"review","requestId":"g1","actor":"user-0002","leadId":"BOS-0001","decision":-9223372036854775808}`), ErrInvalid},
		{"trl beyond range", []byte(`{"v":1,"op":"update","requestId":"g1","actor":"user-0003","leadId":"BOS-0001","patch":{"trl":4294967306}}`), ErrInvalid},
		{"draft of wrong type", []byte(`{"v":1,"op":"submit","requestId":"g1","actor":"user-0003","draft":"lead"}`), ErrInvalid},
		{"huge title", []byte(`{"v":1,"op":"submit","requestId":"g1","actor":"user-0003","draft":{"title":"` + strings.Repeat("A", 1<<20) + `"}}`), ErrInvalid},
		{"trailing garbage", []byte(`{"v":1,` + valid + `}}`), ErrInvalid},
		{"unknown actor", []byte(`{"v":1,"op":"withdraw","requestId":"g1","actor":"user-0999","leadId":"BOS-0001"}`), ErrUnauthenticated},
		{"no actor", []byte(`{"v":1,"op":"withdraw","requestId":"g1","leadId":"BOS-0001"}`), ErrUnauthenticated},
	}
}

func TestApplyGarbage(t *testing.T) {
	for _, tt := range garbage() {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.leadIn(Claimed)
			var res any
			assertUnchanged(t, f.st, func() { res = f.applyRaw(tt.data) })
			wantError(t, res, tt.want)
			if got := f.st.AppliedIndex(); got != f.index {
				t.Errorf("AppliedIndex = %d, want %d", got, f.index)
			}
		})
	}
}

// FuzzApply feeds Apply arbitrary entries on top of a state holding a lead
// in each of several stages. Apply must answer with a Result or an *Error,
// never panic (which Apply would report as CodeInternal), and change
// nothing when it refuses.
func FuzzApply(f *testing.F) {
	seed := newFixture(f)
	for _, c := range []struct {
		actor string
		cmd   Command
	}{
		{"bos", Command{Op: OpSubmit, Draft: validDraft()}},
		{"bos", Command{Op: OpUpdate, LeadID: "BOS-0001", Patch: &Patch{Title: new("t"), Tags: []string{"a"}}}},
		{"hq", Command{Op: OpReview, LeadID: "BOS-0001", Decision: Return, Comment: "why"}},
		{"yrd", Command{Op: OpClaim, LeadID: "BOS-0002", ExpectedVersion: 2}},
		{"yrd", Command{Op: OpAdvance, LeadID: "BOS-0003", Stage: Negotiating}},
		{"hq", Command{Op: OpRelease, LeadID: "BOS-0003"}},
		{"bos", Command{Op: OpWithdraw, LeadID: "BOS-0002"}},
		{"admin", Command{Op: OpAddUser, NewUser: testUser("Max", NodeStaff, "MUC", "")}},
		{"", Command{Op: OpBootstrap, NewUser: testUser("Ada Admin", Admin, "", "")}},
	} {
		f.Add(seed.encode(c.actor, c.cmd))
	}
	for _, g := range garbage() {
		if len(g.data) < 4096 {
			f.Add(g.data)
		}
	}
	base := newFixture(f)
	for _, s := range []Stage{Submitted, Approved, Claimed, Landed} {
		base.leadIn(s)
	}
	var snap bytes.Buffer
	if _, err := base.st.Snapshot().WriteTo(&snap); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		st := New()
		if err := st.Restore(bytes.NewReader(snap.Bytes())); err != nil {
			t.Fatal(err)
		}
		before := readView(t, st)
		switch res := st.Apply(base.index+1, data).(type) {
		case Result:
		case *Error:
			if res.Code == CodeInternal {
				t.Fatalf("Apply(%q) = internal error %q", data, res.Msg)
			}
			if after := readView(t, st); !reflect.DeepEqual(after, before) {
				t.Fatalf("Apply(%q) = %q but changed the state", data, res.Msg)
			}
			if json.Valid(data) && res.Msg == "" {
				t.Fatalf("Apply(%q) = error with no message", data)
			}
		default:
			t.Fatalf("Apply(%q) = %#v, want a Result or an *Error", data, res)
		}
	})
}
