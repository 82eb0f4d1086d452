package proto

import (
	"context"
	"encoding/json"
	"os"
	"sort"
	"testing"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
)

// TestOpenAPIDocument checks the committed OpenAPI document with a real
// validator (kin-openapi, after converting the Swagger 2 document to
// OpenAPI 3, as client generators do; it checks the examples against the
// schemas too), and that every REST operation has a summary, its error
// response and an example of its answer.
func TestOpenAPIDocument(t *testing.T) {
	raw, err := os.ReadFile("innonet/v1/innonet.swagger.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc2 openapi2.T
	if err := json.Unmarshal(raw, &doc2); err != nil {
		t.Fatalf("read the Swagger 2 document: %v", err)
	}
	doc3, err := openapi2conv.ToV3(&doc2)
	if err != nil {
		t.Fatalf("convert to OpenAPI 3: %v", err)
	}
	if err := doc3.Validate(context.Background()); err != nil {
		t.Fatalf("the OpenAPI document is invalid: %v", err)
	}
	var missing []string
	for path, item := range doc2.Paths {
		for method, op := range item.Operations() {
			if op.Summary == "" {
				missing = append(missing, method+" "+path+": no summary (a comment on the RPC)")
			}
			if op.Responses == nil || op.Responses.Value("default") == nil {
				missing = append(missing, method+" "+path+": no error response")
			} else if ok := op.Responses.Value("200"); ok == nil || len(ok.Examples) == 0 {
				missing = append(missing, method+" "+path+": no example of its answer")
			}
		}
	}
	sort.Strings(missing)
	for _, m := range missing {
		t.Error(m)
	}
}
