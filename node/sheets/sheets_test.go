package sheets

import (
	"bytes"
	"encoding/csv"
	"testing"

	"github.com/xuri/excelize/v2"
)

func TestSheetNames(t *testing.T) {
	used := map[string]bool{}
	for _, c := range []struct{ in, want string }{{"Funnel", "Funnel"}, {"Funnel", "Funnel 2"}, {"a/b:c", "a-b-c"}, {"", "innonet"},
		{"A very long name of a sheet that Excel refuses", "A very long name of a sheet "}} {
		if got := sheetName(c.in, used); got != c.want {
			t.Errorf("sheetName(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestFiles(t *testing.T) {
	s := Sheet{Name: "漏斗", Header: []string{"节点", "推送"}, Rows: [][]any{{"BOS", 3}, {"=HYPERLINK(1)", 1.5}, {nil, "-1"}}}
	var buf bytes.Buffer
	if err := WriteCSV(&buf, s); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(buf.Bytes(), []byte("\uFEFF")) {
		t.Fatal("no byte-order mark")
	}
	recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(buf.Bytes(), []byte("\uFEFF")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 4 || recs[0][0] != "节点" || recs[1][1] != "3" || recs[2][0] != "'=HYPERLINK(1)" || recs[2][1] != "1.5" || recs[3][1] != "'-1" {
		t.Errorf("CSV: %q", recs)
	}
	buf.Reset()
	if err := WriteXLSX(&buf, []Sheet{s, {Name: "漏斗", Header: []string{"a"}}}); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.GetSheetList(); len(got) != 2 || got[0] != "漏斗" || got[1] != "漏斗 2" {
		t.Errorf("sheets %v", got)
	}
	rows, err := f.GetRows("漏斗")
	if err != nil || len(rows) != 4 || rows[2][0] != "=HYPERLINK(1)" {
		t.Errorf("rows %q %v", rows, err)
	}
}
