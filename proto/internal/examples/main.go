// Command examples adds an example to every schema of the generated
// OpenAPI document (proto/innonet/v1/innonet.swagger.json) and to every
// operation's answers, built from the schemas themselves, so that every
// REST operation shows the shape of its request and answer. It runs after
// buf generate (go generate ./proto, scripts/check-generated.sh); its
// output depends on the document alone.
//
//	go run ./proto/internal/examples proto/innonet/v1/innonet.swagger.json
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: examples FILE.swagger.json")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "examples:", err)
		os.Exit(1)
	}
}

func run(path string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	defs, _ := doc["definitions"].(map[string]any)
	names := make([]string, 0, len(defs))
	for n := range defs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if d, ok := defs[n].(map[string]any); ok {
			d["example"] = example(defs, d, map[string]bool{n: true}, 0)
		}
	}
	paths, _ := doc["paths"].(map[string]any)
	for _, item := range paths {
		ops, _ := item.(map[string]any)
		for _, o := range ops {
			op, _ := o.(map[string]any)
			responses, _ := op["responses"].(map[string]any)
			for _, r := range responses {
				resp, _ := r.(map[string]any)
				if schema, ok := resp["schema"].(map[string]any); ok {
					resp["examples"] = map[string]any{"application/json": example(defs, schema, map[string]bool{}, 0)}
				}
			}
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// example is a value of schema s: the first enum value that is not
// unspecified, a string of the format, a one-item list, an object of its
// properties (a definition met again on the way, or past a depth, is
// left out).
func example(defs map[string]any, s map[string]any, seen map[string]bool, depth int) any {
	if ref, ok := s["$ref"].(string); ok {
		name := strings.TrimPrefix(ref, "#/definitions/")
		d, ok := defs[name].(map[string]any)
		if !ok || seen[name] || depth > 8 {
			return nil // left out: a definition met again, or too deep
		}
		seen[name] = true
		defer delete(seen, name)
		return example(defs, d, seen, depth+1)
	}
	if enum, ok := s["enum"].([]any); ok && len(enum) > 0 {
		for _, v := range enum {
			if str, ok := v.(string); ok && !strings.HasSuffix(str, "UNSPECIFIED") {
				return str
			}
		}
		return enum[0]
	}
	switch t, _ := s["type"].(string); t {
	case "string":
		switch s["format"] {
		case "date-time":
			return "2026-12-01T09:00:00Z"
		case "int64", "uint64":
			return "1"
		case "byte":
			return "aW5ub25ldA=="
		}
		return "string"
	case "integer":
		return 1
	case "number":
		return 1.5
	case "boolean":
		return true
	case "array":
		items, _ := s["items"].(map[string]any)
		if items == nil {
			return []any{}
		}
		if v := example(defs, items, seen, depth+1); v != nil {
			return []any{v}
		}
		return []any{}
	case "object", "":
		props, _ := s["properties"].(map[string]any)
		out := map[string]any{}
		for k, p := range props {
			if ps, ok := p.(map[string]any); ok {
				if v := example(defs, ps, seen, depth+1); v != nil {
					out[k] = v
				}
			}
		}
		if add, ok := s["additionalProperties"].(map[string]any); ok && len(props) == 0 {
			if v := example(defs, add, seen, depth+1); v != nil {
				out["key"] = v
			}
		}
		return out
	}
	return nil
}
