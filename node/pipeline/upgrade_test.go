package pipeline

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// testdata/format1 holds a log of format 1 (log.jsonl: users, leads and
// tokens made, retries, a claim race, a leadership move to a site whose
// clock is an hour behind, an expired token, revocations) and what the
// last release that wrote format 1 (commit 0205aa6) made of it: its answer
// to every entry (answers.jsonl) and its snapshot after the last one
// (snapshot.jsonl). While the cluster runs format 1, sites of this
// version and of that one apply the same log side by side, so this
// version must answer the same and hold the same bytes.

// goldenAnswer is an Apply answer as answers.jsonl records it.
type goldenAnswer struct {
	Lead     *Lead  `json:"lead,omitempty"`
	User     *User  `json:"user,omitempty"`
	Token    *Token `json:"token,omitempty"`
	Replayed bool   `json:"replayed,omitempty"`
	Code     Code   `json:"code,omitempty"`
	Error    string `json:"error,omitempty"`
}

func readLines(t *testing.T, name string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		out = append(out, append([]byte(nil), sc.Bytes()...))
	}
	return out
}

func TestFormat1AsTheLastRelease(t *testing.T) {
	log := readLines(t, "testdata/format1/log.jsonl")
	answers := readLines(t, "testdata/format1/answers.jsonl")
	if len(log) != len(answers) {
		t.Fatalf("testdata/format1: %d entries, %d answers", len(log), len(answers))
	}
	st := New()
	for i, data := range log {
		c, err := DecodeCommand(data)
		if err != nil || c.Format() != Format1 {
			t.Fatalf("entry %d is not a command of format 1 (%v): %s", i+1, err, data)
		}
		var a goldenAnswer
		switch res := st.Apply(uint64(i+1), data).(type) {
		case Result:
			a = goldenAnswer{Lead: res.Lead, User: res.User, Token: res.Token, Replayed: res.Replayed}
		case *Error:
			a = goldenAnswer{Code: res.Code, Error: res.Msg}
		}
		got, _ := json.Marshal(a)
		if !bytes.Equal(got, answers[i]) {
			t.Errorf("entry %d (%s): answered\n%s\nthe last release answered\n%s", i+1, c.Op, got, answers[i])
		}
	}
	want, err := os.ReadFile("testdata/format1/snapshot.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if got := snapshotBytes(t, st); !bytes.Equal(got, want) {
		t.Errorf("after the log the snapshot is\n%s\nthe last release's is\n%s", got, want)
	}
	if !strings.HasPrefix(string(want), `{"format":"innonet-pipeline/2"`) {
		t.Errorf("the last release's snapshot starts %.40s", want)
	}
	if got := restored(t, want); got.Format() != Format1 {
		t.Errorf("the last release's state restores at format %d", got.Format())
	}
}
