// Package sheets writes tables as the files people open in a spreadsheet:
// CSV in UTF-8 with a byte-order mark (so that Excel reads Chinese right)
// and XLSX workbooks (excelize), one sheet per table, headers bold and
// frozen, with a filter. Text that a spreadsheet would take for a formula
// is written as text. The REST exports (node/export.go) and the console's
// downloads use it.
package sheets

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"
)

// Sheet is one table: a name, the column headers and the rows (strings,
// numbers, or nil for an empty cell).
type Sheet struct {
	Name   string
	Header []string
	Rows   [][]any
}

// Cell is the text of a value in a CSV file. Text that starts like a
// formula (=, +, -, @, a tab or a carriage return: a title
// "=HYPERLINK(...)") is marked as text with a leading quote.
func Cell(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		if x != "" && strings.ContainsRune("=+-@\t\r", rune(x[0])) {
			return "'" + x
		}
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case int:
		return strconv.Itoa(x)
	}
	return fmt.Sprint(v)
}

// WriteCSV writes s as CSV, with a byte-order mark.
func WriteCSV(w io.Writer, s Sheet) error {
	var buf bytes.Buffer
	buf.WriteString("\uFEFF")
	cw := csv.NewWriter(&buf)
	_ = cw.Write(s.Header)
	for _, row := range s.Rows {
		rec := make([]string, len(row))
		for i, v := range row {
			rec[i] = Cell(v)
		}
		_ = cw.Write(rec)
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write CSV: %w", err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// WriteXLSX writes the sheets as one workbook.
func WriteXLSX(w io.Writer, sheets []Sheet) error {
	f := excelize.NewFile()
	defer func() { _ = f.Close() }()
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, Fill: excelize.Fill{Type: "pattern", Color: []string{"#E8EEF7"}, Pattern: 1}})
	if err != nil {
		return err
	}
	used := map[string]bool{}
	for i, sh := range sheets {
		name := sheetName(sh.Name, used)
		if i == 0 {
			if err := f.SetSheetName("Sheet1", name); err != nil {
				return err
			}
		} else if _, err := f.NewSheet(name); err != nil {
			return err
		}
		sw, err := f.NewStreamWriter(name)
		if err != nil {
			return err
		}
		for c := range sh.Header {
			width := 14.0
			if c == 1 && len(sh.Header) > 8 {
				width = 40 // a lead list's title
			}
			if err := sw.SetColWidth(c+1, c+1, width); err != nil {
				return err
			}
		}
		if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
			return err
		}
		head := make([]any, len(sh.Header))
		for c, h := range sh.Header {
			head[c] = excelize.Cell{StyleID: bold, Value: h}
		}
		if err := sw.SetRow("A1", head); err != nil {
			return err
		}
		for r, row := range sh.Rows {
			cell, _ := excelize.CoordinatesToCellName(1, r+2)
			if err := sw.SetRow(cell, row); err != nil {
				return err
			}
		}
		if err := sw.Flush(); err != nil {
			return err
		}
		if len(sh.Header) > 0 {
			last, _ := excelize.CoordinatesToCellName(len(sh.Header), len(sh.Rows)+1)
			if err := f.AutoFilter(name, "A1:"+last, nil); err != nil {
				return err
			}
		}
	}
	return f.Write(w)
}

// sheetName fits a sheet name to Excel's rules (31 characters, none of
// []:*?/\, unique in the workbook).
func sheetName(s string, used map[string]bool) string {
	s = strings.Map(func(r rune) rune {
		if strings.ContainsRune(`[]:*?/\`, r) {
			return '-'
		}
		return r
	}, s)
	if r := []rune(s); len(r) > 28 {
		s = string(r[:28])
	}
	if s == "" {
		s = "innonet"
	}
	name := s
	for i := 2; used[name]; i++ {
		name = s + " " + strconv.Itoa(i)
	}
	used[name] = true
	return name
}

// Serve answers with the sheets as a download named
// innonet-<name>-<date>.<format>: the first sheet for csv, all of them
// for xlsx.
func Serve(w http.ResponseWriter, format, name string, sheets []Sheet, now time.Time) error {
	var buf bytes.Buffer
	var ctype string
	switch format {
	case "csv":
		ctype = "text/csv; charset=utf-8"
		var first Sheet
		if len(sheets) > 0 {
			first = sheets[0]
		}
		if err := WriteCSV(&buf, first); err != nil {
			return err
		}
	case "xlsx":
		ctype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
		if err := WriteXLSX(&buf, sheets); err != nil {
			return err
		}
	default:
		return fmt.Errorf("format %q is neither csv nor xlsx", format)
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="innonet-%s-%s.%s"`, name, now.Format("20060102"), format))
	_, err := w.Write(buf.Bytes())
	return err
}
