package node

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/reflect/protoreflect"
)

// Values as REST takes them, in a query parameter (restquery.go) as in a
// JSON body (restbody.go): an enum value in any case, with dashes or
// spaces for underscores, with or without its type's prefix (it_ai,
// SECTOR_IT_AI, "deal-type investment"), or by number; a time as a date
// (midnight UTC) or an RFC 3339 time; a duration as Go writes it (90s,
// 1h30m). A value that is none of these is refused naming the field and
// what it takes.

// lookupEnum finds the value of ed that v names, or nil.
func lookupEnum(ed protoreflect.EnumDescriptor, v string) protoreflect.EnumValueDescriptor {
	name := strings.ToUpper(strings.NewReplacer("-", "_", " ", "_").Replace(strings.TrimSpace(v)))
	if name == "" {
		return nil
	}
	prefix := enumPrefix(ed)
	values := ed.Values()
	for _, n := range []string{name, strings.TrimPrefix(name, prefix), prefix + name} {
		if ev := values.ByName(protoreflect.Name(n)); ev != nil {
			return ev
		}
	}
	if i, err := strconv.ParseInt(name, 10, 32); err == nil {
		return values.ByNumber(protoreflect.EnumNumber(i))
	}
	return nil
}

// enumValue reads an enum value of a query parameter and writes it by
// its name. The zero value is refused: it means "none".
func enumValue(key string, ed protoreflect.EnumDescriptor, v string) (string, error) {
	if ev := lookupEnum(ed, v); ev != nil && ev.Number() != 0 {
		return string(ev.Name()), nil
	}
	return "", enumError(key, ed, strconv.Quote(clip(v)))
}

// enumError refuses shown (the value as the caller wrote it, quoted if
// text) for field key of enum type ed, listing the values it takes.
func enumError(key string, ed protoreflect.EnumDescriptor, shown string) error {
	words := enumWords(ed)
	return fmt.Errorf("%s: %s is not %s %s; valid values: %s (any case, with or without the %s prefix)",
		key, shown, article(words), words, enumValueNames(ed), enumPrefix(ed))
}

// enumPrefix is the prefix of an enum type's values in UPPER_SNAKE_CASE:
// DEAL_TYPE_ for DealType.
func enumPrefix(ed protoreflect.EnumDescriptor) string {
	return strings.ToUpper(strings.ReplaceAll(camelWords(string(ed.Name())), " ", "_")) + "_"
}

// enumWords is an enum type's name in words: "deal type"; an enum
// declared in a message is named with it ("site kind", "comment
// visibility"), and one declared in a request with the request's verb
// ("close reason" for CloseLeadRequest.Reason).
func enumWords(ed protoreflect.EnumDescriptor) string {
	words := strings.ToLower(camelWords(string(ed.Name())))
	if md, ok := ed.Parent().(protoreflect.MessageDescriptor); ok {
		owner := string(md.Name())
		if verb, ok := strings.CutSuffix(owner, "Request"); ok {
			owner = strings.TrimSuffix(verb, "Lead")
		}
		words = strings.ToLower(camelWords(owner)) + " " + words
	}
	return words
}

// camelWords splits a CamelCase name into words: "Deal Type".
func camelWords(s string) string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 && r >= 'A' && r <= 'Z' {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// article is "a" or "an" for words.
func article(words string) string {
	if words != "" && strings.ContainsRune("aeiou", rune(words[0])) {
		return "an"
	}
	return "a"
}

// enumValueNames lists an enum's values but the zero value.
func enumValueNames(ed protoreflect.EnumDescriptor) string {
	var names []string
	for i := 0; i < ed.Values().Len(); i++ {
		if ev := ed.Values().Get(i); ev.Number() != 0 {
			names = append(names, string(ev.Name()))
		}
	}
	return strings.Join(names, ", ")
}

// timeValue accepts an RFC 3339 time, or a date for midnight UTC.
func timeValue(key, v string) (string, error) {
	if d, err := time.Parse(time.DateOnly, v); err == nil {
		return d.Format(time.RFC3339), nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil || t.Year() < 1 || t.Year() > 9999 {
		return "", fmt.Errorf("%s: %q is not a time: give a date (2026-01-31, midnight UTC) or an RFC 3339 time (2026-01-31T09:30:00Z)", key, clip(v))
	}
	return v, nil
}

// durationError refuses v for a duration field.
func durationError(key, v string) error {
	return fmt.Errorf("%s: %q is not a duration such as 5s, 2m or 1h30m", key, clip(v))
}
