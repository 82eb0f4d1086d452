package pipeline

import (
	"bytes"
	"strings"
	"testing"
)

func TestSetFormat(t *testing.T) {
	f := newFixture(t)
	if got := f.st.Format(); got != Format1 {
		t.Fatalf("Format of a new state = %d, want %d", got, Format1)
	}
	raise := func(v int) any {
		data, err := Command{Op: OpSetFormat, SetFormat: v, Time: clock(f.index + 1).UnixNano()}.Encode()
		if err != nil {
			t.Fatal(err)
		}
		return f.applyRaw(data)
	}
	if res := wantResult(t, raise(Format2)); res.Replayed {
		t.Errorf("first raise to %d: Replayed, want a change", Format2)
	}
	if got := f.st.Format(); got != Format2 {
		t.Errorf("Format = %d, want %d", got, Format2)
	}
	// A second leader proposing the same raise, or an older one, changes nothing.
	before := snapshotBytes(t, f.st)
	if res := wantResult(t, raise(Format2)); !res.Replayed {
		t.Errorf("second raise: not Replayed")
	}
	if after := snapshotBytes(t, f.st); !bytes.Equal(before[bytes.IndexByte(before, '\n'):], after[bytes.IndexByte(after, '\n'):]) {
		t.Errorf("a repeated raise changed the state")
	}
	// The format outlives a snapshot.
	g := New()
	if err := g.Restore(bytes.NewReader(snapshotBytes(t, f.st))); err != nil {
		t.Fatal(err)
	}
	if got := g.Format(); got != Format2 {
		t.Errorf("Format after restore = %d, want %d", got, Format2)
	}
}

func TestSetFormatValidation(t *testing.T) {
	for _, v := range []int{0, 1, FormatVersion + 1, -5} {
		err := Command{Op: OpSetFormat, SetFormat: v}.Validate()
		wantInvalid(t, err, "set_format")
	}
}

// TestUnreadableEntries: what a site cannot fully understand stops it
// (CodeUnreadable), and changes nothing.
func TestUnreadableEntries(t *testing.T) {
	valid := `"op":"withdraw","requestId":"g1","actor":"user-0003","leadId":"BOS-0001"`
	for _, tt := range []struct{ name, data, msg string }{
		{"newer format", `{"v":3,` + valid + `}`, "reads formats up to"},
		{"unknown field", `{"v":1,"priority":"high",` + valid + `}`, `unknown field "priority"`},
		{"format-2 field marked format 1", `{"v":1,"op":"set_format","setFormat":2}`, "what it holds is of format 2"},
		{"format-1 command marked format 2", `{"v":2,` + valid + `}`, "what it holds is of format 1"},
		{"committed but invalid", `{"v":1,"op":"review","requestId":"g1","actor":"user-0002","leadId":"BOS-0001","decision":3}`, "comment: is required"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.leadIn(Submitted)
			var res any
			assertUnchanged(t, f.st, func() { res = f.applyRaw([]byte(tt.data)) })
			e := wantError(t, res, ErrUnreadable)
			if !strings.Contains(e.Msg, tt.msg) {
				t.Errorf("Apply = %q, want it to say %q", e.Msg, tt.msg)
			}
			if !IsUnreadable(res) {
				t.Errorf("IsUnreadable(%v) = false", res)
			}
		})
	}
}

func TestEncodeMarksFormat(t *testing.T) {
	for _, c := range []Command{
		{Op: OpWithdraw, RequestID: "r", LeadID: "BOS-0001"},
		{Op: OpSetFormat, SetFormat: Format2},
	} {
		data, err := c.Encode()
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodeCommand(data)
		if err != nil {
			t.Fatalf("DecodeCommand(%s): %v", data, err)
		}
		if got.V != c.Format() {
			t.Errorf("%s encoded as format %d, want %d", c.Op, got.V, c.Format())
		}
	}
}
