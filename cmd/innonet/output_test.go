package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	pb "innonet/proto/innonet/v1"
)

func TestCLIParseContact(t *testing.T) {
	tests := []struct {
		in      string
		want    *pb.Contact
		wantErr string
	}{
		{"Dr. Ana Ruiz <ana@longwood.example> +1 617 555 0100", &pb.Contact{Name: "Dr. Ana Ruiz", Email: "ana@longwood.example", Phone: "+1 617 555 0100"}, ""},
		{"Ana Ruiz <ana@longwood.example>", &pb.Contact{Name: "Ana Ruiz", Email: "ana@longwood.example"}, ""},
		{"  Tom Lee  ", &pb.Contact{Name: "Tom Lee"}, ""},
		{"张伟 <zhang@example.cn> 138 0000 0000", &pb.Contact{Name: "张伟", Email: "zhang@example.cn", Phone: "138 0000 0000"}, ""},
		{"Ana <ana@x.example", nil, "missing '>'"},
		{"<ana@x.example>", nil, "want a name"},
		{"", nil, "empty contact"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseContact(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, %v; want an error with %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || !proto.Equal(got, tt.want) {
				t.Fatalf("got %v, %v; want %v", got, err, tt.want)
			}
			if back, _ := parseContact(contactText(got)); !proto.Equal(back, got) {
				t.Errorf("contactText does not round-trip: %q", contactText(got))
			}
		})
	}
}

func TestCLICodeName(t *testing.T) {
	tests := map[codes.Code]string{
		codes.Unauthenticated:    "UNAUTHENTICATED",
		codes.PermissionDenied:   "PERMISSION_DENIED",
		codes.FailedPrecondition: "FAILED_PRECONDITION",
		codes.DeadlineExceeded:   "DEADLINE_EXCEEDED",
		codes.Unavailable:        "UNAVAILABLE",
		codes.InvalidArgument:    "INVALID_ARGUMENT",
	}
	for c, want := range tests {
		if got := codeName(c); got != want {
			t.Errorf("codeName(%v): got %q, want %q", c, got, want)
		}
	}
}

func TestCLIReadInfoHeaders(t *testing.T) {
	header := metadata.Pairs(mdReadSite, "YRD", mdReadConsistency, "STALE", mdAppliedIndex, "42",
		mdLastContactMS, "1500", mdLeader, "CGO")
	want := &pb.ReadInfo{Site: "YRD", Consistency: pb.Consistency_STALE, AppliedIndex: 42,
		LastContact: durationpb.New(1500 * time.Millisecond), Leader: "CGO"}
	tests := []struct {
		name   string
		body   *pb.ReadInfo
		header metadata.MD
		want   *pb.ReadInfo
	}{
		{"headers", nil, header, want},
		{"numeric consistency", nil, metadata.Pairs(mdReadSite, "BOS", mdReadConsistency, "1"), &pb.ReadInfo{Site: "BOS", Consistency: pb.Consistency_LEADER}},
		{"body wins", &pb.ReadInfo{Site: "CGO", AppliedIndex: 7}, header, &pb.ReadInfo{Site: "CGO", AppliedIndex: 7}},
		{"empty body, headers", &pb.ReadInfo{}, header, want},
		{"neither", nil, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := readInfo(tt.body, tt.header); !proto.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	var buf bytes.Buffer
	printReadInfo(&buf, want)
	if got := buf.String(); got != "read: answered by YRD (STALE), applied index 42, leader CGO, last contact with the leader 1.5s ago\n" {
		t.Errorf("printReadInfo: got %q", got)
	}
}

// TestCLIFlagsAfterArguments parses flags that follow positional
// arguments, and "--".
func TestCLIFlagsAfterArguments(t *testing.T) {
	tests := []struct {
		args     []string
		wantPos  string
		wantJSON bool
	}{
		{[]string{"BOS-0001", "--json"}, "BOS-0001", true},
		{[]string{"--json", "BOS-0001"}, "BOS-0001", true},
		{[]string{"BOS-0001"}, "BOS-0001", false},
		{[]string{"A", "--json", "B"}, "A B", true},
		{[]string{"--", "-x", "--json"}, "-x --json", false},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			f := newFlags(streams{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}}, "test", "Usage: test")
			json := f.Bool("json", false, "")
			pos, err := f.parse(tt.args, 0, -1)
			if err != nil || strings.Join(pos, " ") != tt.wantPos || *json != tt.wantJSON {
				t.Errorf("got %q, json %v, err %v; want %q, json %v", pos, *json, err, tt.wantPos, tt.wantJSON)
			}
		})
	}
}

func TestCLIEnumFlag(t *testing.T) {
	var role pb.Role
	f := enumFlag(&role, pb.Role_value)
	for in, want := range map[string]pb.Role{"hq-reviewer": pb.Role_HQ_REVIEWER, "NODE_STAFF": pb.Role_NODE_STAFF, " Admin ": pb.Role_ADMIN} {
		if err := f.Set(in); err != nil || role != want {
			t.Errorf("Set(%q): got %v, %v; want %v", in, role, err, want)
		}
	}
	for _, in := range []string{"boss", "ROLE_UNSPECIFIED", ""} {
		if err := f.Set(in); err == nil || !strings.Contains(err.Error(), "admin, hq-reviewer, division, node-staff") {
			t.Errorf("Set(%q): got %v, want an error listing the roles", in, err)
		}
	}
}

func TestCLIOutputFormats(t *testing.T) {
	l := &pb.Lead{Id: "BOS-0001", Title: "Tab\there,\nnewline", Stage: pb.Stage_SUBMITTED, Version: 3}
	var a, b bytes.Buffer
	for _, buf := range []*bytes.Buffer{&a, &b} {
		if err := printJSON(buf, l); err != nil {
			t.Fatal(err)
		}
	}
	if a.String() != b.String() {
		t.Errorf("JSON output is not stable:\n%s\n%s", a.String(), b.String())
	}
	for _, want := range []string{"{\n  \"id\": \"BOS-0001\",", `"stage": "SUBMITTED"`, `"version": "3"`, `"dealType": "DEAL_TYPE_UNSPECIFIED"`} {
		if !strings.Contains(a.String(), want) {
			t.Errorf("JSON lacks %q:\n%s", want, a.String())
		}
	}

	var tbl bytes.Buffer
	if err := printLeads(&tbl, []*pb.Lead{l}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(tbl.String(), "\n"), "\n")
	if len(lines) != 2 || !strings.Contains(lines[1], "Tab here, newline") || !strings.Contains(lines[1], "SUBMITTED") {
		t.Errorf("a title with a tab and a newline broke the table:\n%s", tbl.String())
	}
}
