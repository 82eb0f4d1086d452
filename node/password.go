package node

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Passwords are hashed here, by the site that handles the request (the
// leader: every sign-in request is a write), and only the hash enters the
// log; the pipeline never sees a password. The hash is argon2id with
// OWASP's parameters (19 MiB, 2 passes, 1 lane), in the PHC string form
// so that the parameters can change later and old hashes still verify.

// argon2id parameters of new hashes.
const (
	argonMemory  = 19 * 1024 // KiB
	argonTime    = 2
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
)

// Password policy.
const (
	minPassword = 10
	maxPassword = 256
)

// Bounds on the parameters of a hash read back, so that a damaged or
// hostile hash cannot make a verification eat the site's memory or time.
const (
	maxArgonMemory = 256 * 1024
	maxArgonTime   = 10
)

var b64 = base64.RawStdEncoding

// hashPassword returns the argon2id hash of password in PHC form, with a
// fresh random salt.
func hashPassword(password string) string {
	salt := make([]byte, argonSaltLen)
	_, _ = rand.Read(salt) // crypto/rand.Read never fails (Go 1.24+)
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

// verifyPassword reports whether password matches the PHC hash, comparing
// in constant time. A hash it cannot read matches nothing.
func verifyPassword(hash, password string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil ||
		m == 0 || m > maxArgonMemory || t == 0 || t > maxArgonTime || p == 0 {
		return false
	}
	salt, err := b64.DecodeString(parts[4])
	if err != nil || len(salt) < 8 {
		return false
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) < 16 || len(want) > 64 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// dummyHash is verified against when no user could match a sign-in, so
// that a wrong name takes as long as a wrong password.
var dummyHash = hashPassword("innonet: no such user")

// checkPassword applies the password policy for the user called name.
func checkPassword(password, name string) error {
	switch {
	case password == "":
		return status.Error(codes.InvalidArgument, "password: is required")
	case !utf8.ValidString(password):
		return status.Error(codes.InvalidArgument, "password: must be valid UTF-8 text")
	case len(password) < minPassword:
		return status.Errorf(codes.InvalidArgument, "password: must be at least %d bytes long, got %d", minPassword, len(password))
	case len(password) > maxPassword:
		return status.Errorf(codes.InvalidArgument, "password: must be at most %d bytes long, got %d", maxPassword, len(password))
	case strings.EqualFold(strings.TrimSpace(password), strings.TrimSpace(name)):
		return status.Error(codes.InvalidArgument, "password: must not be the user's name")
	case oneCharacter(password):
		return status.Error(codes.InvalidArgument, "password: must not be one character repeated")
	}
	return nil
}

func oneCharacter(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return strings.Trim(s, string(r)) == ""
}
