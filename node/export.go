package node

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"innonet/node/sheets"
)

// Exports. Every report and every lead list of the REST API also comes as
// a file: ?format=csv (UTF-8 with a byte-order mark, so that Excel reads
// Chinese right) or ?format=xlsx, with the column headers in the language
// of Accept-Language (Chinese or English). The file is made from the
// REST answer itself: the request, without format, goes through the
// gateway as any other (authentication, the caller's view, the strict
// query), and a lead list is followed through all its pages (at most
// maxExportLeads leads). GET /v1/reports/monthly?month=2026-11 is the
// monthly workbook: progress against the year's targets, the month's
// funnel by node and by division, the year's by month, the leads waiting
// longest for review, and the deals signed and landed.

// maxExportLeads bounds the leads one export follows pages for, and
// maxExportPages the pages (a filter few leads pass reads many short
// ones).
const (
	maxExportLeads = 100_000
	maxExportPages = 2000
)

// table is one sheet of an export (package node/sheets writes it).
type table = sheets.Sheet

// exportKinds maps a REST route to the tables of its answer.
var exportKinds = map[string]func(lang string, body map[string]any) table{
	"/v1/leads": func(lang string, b map[string]any) table { return leadTable(lang, jsonList(b, "leads"), nil) },
	"/v1/search": func(lang string, b map[string]any) table {
		return leadTable(lang, jsonField(jsonList(b, "hits"), "lead"), nil)
	},
	"/v1/reports/funnel": funnelTable,
	"/v1/reports/targets": func(lang string, b map[string]any) table {
		return targetTable(lang, b)
	},
}

// exportRoute returns the table maker of path, and whether the answer is
// a lead list that pages.
func exportRoute(path string) (func(string, map[string]any) table, bool) {
	if f, ok := exportKinds[path]; ok {
		return f, path == "/v1/leads" || path == "/v1/search"
	}
	if rest, ok := strings.CutPrefix(path, "/v1/divisions/"); ok && strings.HasSuffix(rest, "/matches") && strings.Count(rest, "/") == 1 {
		return func(lang string, b map[string]any) table {
			ms := jsonList(b, "matches")
			return leadTable(lang, jsonField(ms, "lead"), jsonField(ms, "match"))
		}, true
	}
	return nil, false
}

// exports serves ?format= of the routes above, and the monthly workbook,
// in front of the gateway.
func (n *Node) exports(gw http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if r.Method == http.MethodGet && r.URL.Path == "/v1/reports/monthly" {
			n.monthlyWorkbook(w, r, gw)
			return
		}
		if r.Method != http.MethodGet || !q.Has("format") {
			gw.ServeHTTP(w, r)
			return
		}
		mk, pages := exportRoute(r.URL.Path)
		if mk == nil {
			writeJSONError(w, http.StatusBadRequest, "format: files are offered for reports and lead lists only (GET /v1/leads, /v1/search, /v1/divisions/{division}/matches, /v1/reports/...)")
			return
		}
		format := q.Get("format")
		if len(q["format"]) > 1 || format != "csv" && format != "xlsx" {
			writeJSONError(w, http.StatusBadRequest, fmt.Sprintf("format: must be csv or xlsx, got %q", clip(strings.Join(q["format"], ","))))
			return
		}
		q.Del("format")
		lang := exportLanguage(r)
		var t table
		var err error
		if pages {
			t, err = n.exportPages(r, gw, q, lang, mk)
		} else {
			var body map[string]any
			if body, err = innerGet(r, gw, r.URL.Path, q); err == nil {
				t = mk(lang, body)
			}
		}
		if err != nil {
			writeInnerError(w, err)
			return
		}
		name := strings.ReplaceAll(strings.TrimPrefix(r.URL.Path, "/v1/"), "/", "-")
		writeTables(w, format, name, []table{t})
	})
}

// exportPages follows a lead list through its pages.
func (n *Node) exportPages(r *http.Request, gw http.Handler, q url.Values, lang string, mk func(string, map[string]any) table) (table, error) {
	var t table
	q.Set("pageSize", strconv.Itoa(maxPageSize))
	if strings.HasPrefix(r.URL.Path, "/v1/search") || strings.HasPrefix(r.URL.Path, "/v1/divisions/") {
		q.Set("pageSize", "100")
	}
	pages := 0
	for seen := 0; seen < maxExportLeads; {
		body, err := innerGet(r, gw, r.URL.Path, q)
		if err != nil {
			return t, err
		}
		page := mk(lang, body)
		if t.Header == nil {
			t = page
		} else {
			t.Rows = append(t.Rows, page.Rows...)
		}
		seen += len(page.Rows)
		// A page may be short, even empty, and still have a next one (a
		// list reads a bounded number of leads per page).
		next, _ := body["nextPageToken"].(string)
		if next == "" {
			break
		}
		if pages++; pages >= maxExportPages {
			return t, &innerError{code: http.StatusBadRequest, body: []byte(fmt.Sprintf(`{"code":3,"message":"format: the list is longer than an export follows (%d pages); narrow it with filters","details":[]}`, maxExportPages))}
		}
		q.Set("pageToken", next)
	}
	return t, nil
}

// innerError is a REST answer other than 200, passed on as it is.
type innerError struct {
	code int
	body []byte
}

func (e *innerError) Error() string { return fmt.Sprintf("%d %s", e.code, e.body) }

// innerGet sends GET path?q through the gateway with the caller's
// headers and decodes the JSON answer.
func innerGet(r *http.Request, gw http.Handler, path string, q url.Values) (map[string]any, error) {
	in := r.Clone(r.Context())
	in.URL = &url.URL{Path: path, RawQuery: q.Encode()}
	in.RequestURI = in.URL.RequestURI()
	in.Header.Set("Accept", "application/json")
	rec := &recorder{header: http.Header{}, code: http.StatusOK}
	gw.ServeHTTP(rec, in)
	if rec.code != http.StatusOK {
		return nil, &innerError{code: rec.code, body: rec.buf.Bytes()}
	}
	var body map[string]any
	if err := json.Unmarshal(rec.buf.Bytes(), &body); err != nil {
		return nil, fmt.Errorf("decode %s: %w", path, err)
	}
	return body, nil
}

// recorder keeps an inner answer.
type recorder struct {
	header http.Header
	code   int
	buf    bytes.Buffer
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) WriteHeader(code int)        { r.code = code }
func (r *recorder) Write(b []byte) (int, error) { return r.buf.Write(b) }

func writeInnerError(w http.ResponseWriter, err error) {
	if ie, ok := err.(*innerError); ok {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(ie.code)
		_, _ = w.Write(ie.body)
		return
	}
	writeJSONError(w, http.StatusInternalServerError, err.Error())
}

func writeJSONError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	b, _ := json.Marshal(map[string]any{"code": grpcCodeOf(code), "message": msg, "details": []any{}})
	_, _ = w.Write(b)
}

func grpcCodeOf(httpCode int) int {
	switch httpCode {
	case http.StatusBadRequest:
		return 3
	case http.StatusNotFound:
		return 5
	}
	return 13
}

// exportLanguage is zh when the caller prefers Chinese, else en.
func exportLanguage(r *http.Request) string {
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag := strings.ToLower(strings.TrimSpace(strings.SplitN(part, ";", 2)[0]))
		switch {
		case strings.HasPrefix(tag, "zh"):
			return "zh"
		case strings.HasPrefix(tag, "en"):
			return "en"
		}
	}
	return "en"
}

// writeTables writes the tables as one CSV (the first table) or one
// workbook (a sheet each).
func writeTables(w http.ResponseWriter, format, name string, ts []table) {
	if err := sheets.Serve(w, format, name, ts, time.Now().UTC()); err != nil {
		writeJSONError(w, http.StatusInternalServerError, "write the file: "+err.Error())
	}
}

// The JSON helpers read the gateway's answers.
func jsonList(b map[string]any, key string) []map[string]any {
	raw, _ := b[key].([]any)
	out := make([]map[string]any, 0, len(raw))
	for _, x := range raw {
		if m, ok := x.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func jsonField(ms []map[string]any, key string) []map[string]any {
	out := make([]map[string]any, 0, len(ms))
	for _, m := range ms {
		sub, _ := m[key].(map[string]any)
		out = append(out, sub)
	}
	return out
}

func jsonStr(m map[string]any, key string) string {
	if m == nil {
		return ""
	}
	switch v := m[key].(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	}
	return ""
}

func jsonNum(m map[string]any, key string) any {
	if m == nil {
		return nil
	}
	switch v := m[key].(type) {
	case float64:
		return v
	case string:
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			return f
		}
		return v
	}
	return nil
}
