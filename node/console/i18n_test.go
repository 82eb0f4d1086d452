package console

import (
	"io/fs"
	"os"
	"regexp"
	"strings"
	"testing"

	innonetpb "innonet/proto/innonet/v1"
)

// TestCatalogueComplete checks that every key is in both languages, that
// every key the templates and the code use exists, and that every value
// of the enums the console shows has its words.
func TestCatalogueComplete(t *testing.T) {
	c, err := loadCatalogue()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range c.missing() {
		t.Errorf("missing translation %s", m)
	}
	used := map[string]bool{}
	keyRef := regexp.MustCompile(`(?:\.T\.T|\bT\.T\(|\.T\(|\bT\b) ?\(?"([a-z][a-zA-Z0-9_.-]+)"`)
	literal := regexp.MustCompile(`"((?:signin|invite|done|api|error|fresh|age)\.[a-zA-Z0-9_.-]+)"`)
	scan := func(name string, b []byte) {
		for _, re := range []*regexp.Regexp{keyRef, literal} {
			for _, m := range re.FindAllSubmatch(b, -1) {
				k := string(m[1])
				if strings.HasSuffix(k, ".") {
					continue // a prefix completed at run time (done.review.)
				}
				used[k] = true
			}
		}
	}
	_ = fs.WalkDir(templateFS, "templates", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := templateFS.ReadFile(p)
			scan(p, b)
		}
		return nil
	})
	files, _ := os.ReadDir(".")
	for _, f := range files {
		if strings.HasSuffix(f.Name(), ".go") && !strings.HasSuffix(f.Name(), "_test.go") {
			b, _ := os.ReadFile(f.Name())
			scan(f.Name(), b)
		}
	}
	for k := range used {
		if !c.has(k) {
			t.Errorf("key %q is used but not in the catalogue", k)
		}
	}
	for _, a := range []string{"claim", "release", "advance", "withdraw", "close", "reopen", "interest",
		"withdraw-interest", "assign", "comment", "reply", "edit", "deal", "translate", "remove-file", "upload", "merge"} {
		if !c.has("done." + a) {
			t.Errorf("action %s has no done.%s message", a, a)
		}
	}
	for _, r := range append(append([]reasonRule(nil), reasonRules...), refusals...) {
		if !c.has(r.key) {
			t.Errorf("rule %s has no words %q", r.re, r.key)
		}
	}
	for _, a := range []string{"MERGE", "MERGE_IN"} {
		if !c.has("action." + a) {
			t.Errorf("history action %s has no words", a)
		}
	}
	for _, d := range []string{"APPROVE", "RETURN", "DECLINE"} {
		if !c.has("done.review." + d) {
			t.Errorf("no done.review.%s", d)
		}
	}
	enums := map[string]map[int32]string{"stage": innonetpb.Stage_name, "sector": innonetpb.Sector_name,
		"dealtype": innonetpb.DealType_name, "role": innonetpb.Role_name, "reason": innonetpb.CloseLeadRequest_Reason_name,
		"visibility": innonetpb.Comment_Visibility_name, "outcome": innonetpb.Interest_Outcome_name,
		"tstatus": innonetpb.TranslationStatus_name, "claimmode": innonetpb.ClaimMode_name, "sitekind": innonetpb.Site_Kind_name}
	for fam, names := range enums {
		for n, name := range names {
			if n == 0 && fam == "orgkind" {
				continue
			}
			if !c.has(fam + "." + name) {
				t.Errorf("enum %s value %s has no words", fam, name)
			}
		}
	}
	for _, name := range innonetpb.Attachment_Visibility_name {
		if !c.has("visibility." + name) {
			t.Errorf("attachment visibility %s has no words", name)
		}
	}
	for _, code := range []string{"InvalidArgument", "NotFound", "AlreadyExists", "PermissionDenied", "FailedPrecondition",
		"Aborted", "Unavailable", "DeadlineExceeded", "Unauthenticated", "ResourceExhausted", "Internal"} {
		if !c.has("api." + code) {
			t.Errorf("refusal %s has no headline", code)
		}
	}
}

func TestFormatsLocalized(t *testing.T) {
	c, err := loadCatalogue()
	if err != nil {
		t.Fatal(err)
	}
	zh, en := c.printer("zh"), c.printer("en")
	if got := en.N(1234567); got != "1,234,567" {
		t.Errorf("English number: %q", got)
	}
	if got := zh.Age(72 * 3600e9); got != "3 天" {
		t.Errorf("Chinese age: %q", got)
	}
}
