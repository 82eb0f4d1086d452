package node

import (
	"reflect"
	"strings"
	"testing"

	"innonet/node/pipeline"
)

func TestParseTopology(t *testing.T) {
	got, err := ParseTopology(FormatTopology(DefaultTopology))
	if err != nil || !reflect.DeepEqual(got, DefaultTopology) {
		t.Fatalf("ParseTopology(FormatTopology(default)) = %v, %v", got, err)
	}
	got, err = ParseTopology(" CGO=HQ:Zhengzhou ; SIN=node ;YRD=division:Yangtze River Delta, Shanghai;")
	want := []pipeline.SiteSpec{{Code: "CGO", Name: "Zhengzhou", Kind: pipeline.SiteHQ}, {Code: "SIN", Kind: pipeline.SiteNode},
		{Code: "YRD", Name: "Yangtze River Delta, Shanghai", Kind: pipeline.SiteDivision}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("ParseTopology = %v, %v\nwant %v", got, err, want)
	}
	if got, err := ParseTopology("none"); err != nil || got == nil || len(got) != 0 {
		t.Errorf(`ParseTopology("none") = %#v, %v; want an empty topology`, got, err)
	}
	for in, msg := range map[string]string{
		"BOS":               "want CODE=KIND:NAME",
		"BOS=office:x":      "want hq, node or division",
		"bos=node:Boston":   "site code",
		"YRD=node:Yangtze":  "DIVISION",
		"MUC-TUM=node:TUM":  "site code",
		"BOS=node;BOS=node": "twice",
	} {
		if _, err := ParseTopology(in); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("ParseTopology(%q) = %v, want an error mentioning %q", in, err, msg)
		}
	}
	if _, err := New(Config{Site: "CGO", Topology: []pipeline.SiteSpec{{Code: "X", Kind: pipeline.SiteNode}}}); err == nil || !strings.Contains(err.Error(), "topology") {
		t.Errorf("New with a bad topology = %v, want it refused", err)
	}
}
