package pipeline

import (
	"strings"
	"unicode/utf8"
)

// The oracle functions restate the documented input rules by hand, without
// the regular expressions and helpers of validate.go, so that FuzzValidate
// and the reference model check the code against an independent reading
// of the rules rather than against itself.

func isUpperASCII(b byte) bool { return 'A' <= b && b <= 'Z' }

func isDigitASCII(b byte) bool { return '0' <= b && b <= '9' }

func allBytes(s string, ok func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}

// oracleSiteCode: 2 to 8 capital ASCII letters (BOS, CGO, BOHAI).
func oracleSiteCode(s string) bool {
	return len(s) >= 2 && len(s) <= 8 && allBytes(s, isUpperASCII)
}

// oracleLeadID: a site code, a dash, 4 to 9 digits (BOS-0001).
func oracleLeadID(s string) bool {
	site, num, ok := strings.Cut(s, "-")
	return ok && oracleSiteCode(site) && len(num) >= 4 && len(num) <= 9 && allBytes(num, isDigitASCII)
}

// oracleUserID: "user-" and 4 to 9 digits.
func oracleUserID(s string) bool {
	num, ok := strings.CutPrefix(s, "user-")
	return ok && len(num) >= 4 && len(num) <= 9 && allBytes(num, isDigitASCII)
}

// oracleTokenID: "tok-" and 4 to 9 digits.
func oracleTokenID(s string) bool {
	num, ok := strings.CutPrefix(s, "tok-")
	return ok && len(num) >= 4 && len(num) <= 9 && allBytes(num, isDigitASCII)
}

// oracleTokenHash: a hex SHA-256 as the proposer writes it, 64 lower-case
// hex digits.
func oracleTokenHash(s string) bool {
	return len(s) == 64 && allBytes(s, func(b byte) bool { return isDigitASCII(b) || 'a' <= b && b <= 'f' })
}

// oracleRequestID: 1 to 128 printable ASCII characters from a fixed set.
func oracleRequestID(s string) bool {
	return len(s) >= 1 && len(s) <= 128 && allBytes(s, func(b byte) bool {
		return isUpperASCII(b) || 'a' <= b && b <= 'z' || isDigitASCII(b) || strings.IndexByte("._:~/+=@-", b) >= 0
	})
}

// oracleDivision: one of the three divisions of HQ.
func oracleDivision(s string) bool { return s == "BOHAI" || s == "YRD" || s == "PRD" }

// isControlRune is the C0 and C1 control ranges of Unicode.
func isControlRune(r rune) bool { return r < 0x20 || r >= 0x7f && r <= 0x9f }

// oracleText: valid UTF-8 of at most max runes, not blank when min > 0,
// and no control characters but tab, newline and carriage return.
func oracleText(s string, min, max int) bool {
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > max || min > 0 && strings.TrimSpace(s) == "" {
		return false
	}
	for _, r := range s {
		if isControlRune(r) && r != '\t' && r != '\n' && r != '\r' {
			return false
		}
	}
	return true
}

// oracleLine: oracleText on one line: no control characters at all and no
// Unicode line or paragraph separator.
func oracleLine(s string, min, max int) bool {
	return oracleText(s, min, max) && !strings.ContainsFunc(s, func(r rune) bool {
		return isControlRune(r) || r == '\u2028' || r == '\u2029'
	})
}

// oracleEmail: empty, or one line with an @ and no blanks.
func oracleEmail(s string) bool {
	return s == "" || oracleLine(s, 0, MaxEmail) && strings.Contains(s, "@") && !strings.ContainsAny(s, " \t")
}

// oracleLanguage: empty, or a BCP 47-shaped tag: 2 or 3 letters, then
// subtags of 1 to 8 letters or digits, at most 35 bytes in all.
func oracleLanguage(s string) bool {
	if s == "" {
		return true
	}
	if len(s) > 35 {
		return false
	}
	letter := func(b byte) bool { return 'a' <= b && b <= 'z' || isUpperASCII(b) }
	parts := strings.Split(s, "-")
	if len(parts[0]) < 2 || len(parts[0]) > 3 || !allBytes(parts[0], letter) {
		return false
	}
	for _, p := range parts[1:] {
		if len(p) < 1 || len(p) > 8 || !allBytes(p, func(b byte) bool { return letter(b) || isDigitASCII(b) }) {
			return false
		}
	}
	return true
}

// oraclePlausibleCountry is necessary, not sufficient, for an ISO 3166-1
// alpha-2 code: two capital letters, none of the user-assigned codes (AA,
// QM to QZ, XA to XZ, ZZ) and none of the reserved ones people mistake for
// countries (UK, EU, UN).
func oraclePlausibleCountry(s string) bool {
	if len(s) != 2 || !allBytes(s, isUpperASCII) {
		return false
	}
	switch {
	case s == "AA" || s == "ZZ" || s == "UK" || s == "EU" || s == "UN":
		return false
	case s[0] == 'Q' && s[1] >= 'M', s[0] == 'X':
		return false
	}
	return true
}

// oracleMediaType: a media type as the log keeps it, type/subtype in
// lower case without parameters, at most 127 characters.
func oracleMediaType(s string) bool {
	typ, sub, ok := strings.Cut(s, "/")
	token := func(t string) bool {
		return t != "" && (isDigitASCII(t[0]) || 'a' <= t[0] && t[0] <= 'z') && allBytes(t, func(b byte) bool {
			return isDigitASCII(b) || 'a' <= b && b <= 'z' || strings.IndexByte("!#$&^_.+-", b) >= 0
		})
	}
	return ok && len(s) <= 127 && token(typ) && token(sub)
}
