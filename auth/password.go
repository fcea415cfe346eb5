package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/chuting/chuting"
	"golang.org/x/crypto/argon2"
)

// Params are the argon2id cost parameters. Each hash records the parameters it was made with,
// so raising them later does not invalidate stored hashes.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
}

// DefaultParams returns the OWASP password storage recommendation for argon2id
// (19 MiB, 2 passes, 1 thread): about 25 ms per hash on this project's machines.
func DefaultParams() Params { return Params{Memory: 19 * 1024, Time: 2, Threads: 1} }

// check refuses parameters argon2 cannot use (it panics on them) and costs no server should
// pay: a stored hash is data, and damaged data must not crash or exhaust the process.
func (p Params) check() error {
	if p.Time < 1 || p.Time > 100 || p.Threads < 1 || p.Memory < 8*uint32(p.Threads) || p.Memory > 1<<20 {
		return fmt.Errorf("argon2id parameters m=%d,t=%d,p=%d out of range", p.Memory, p.Time, p.Threads)
	}
	return nil
}

const (
	saltLen = 16
	keyLen  = 32
	// MinPasswordLength and MaxPasswordLength bound new passwords. The maximum stops a sign-in
	// request from making the server hash megabytes.
	MinPasswordLength = 10
	MaxPasswordLength = 256
)

// HashPassword returns the argon2id hash of password in the PHC string format
// ($argon2id$v=19$m=…,t=…,p=…$salt$hash).
func HashPassword(password string, p Params) (string, error) {
	if err := p.check(); err != nil {
		return "", err
	}
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, keyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// errBadHash is returned for a stored hash that is not an argon2id PHC string.
var errBadHash = errors.New("stored password hash is not argon2id")

// CheckPassword reports whether password matches the stored hash, in constant time.
func CheckPassword(hash, password string) (bool, error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errBadHash
	}
	var version int
	var p Params
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, errBadHash
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil || p.check() != nil {
		return false, errBadHash
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[4])
	want, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(salt) < 8 || len(want) < 16 || len(want) > 64 {
		return false, errBadHash
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// ValidatePassword checks a new password against the policy: 10 to 256 characters. Length is
// what matters most (NIST SP 800-63B); composition rules are not imposed.
func ValidatePassword(password string) error {
	n := utf8.RuneCountInString(password)
	switch {
	case n < MinPasswordLength:
		return chuting.FieldError("password", "密码至少 %d 个字符 / password must have at least %d characters",
			MinPasswordLength, MinPasswordLength)
	case len(password) > MaxPasswordLength:
		return chuting.FieldError("password", "密码过长 / password must have at most %d bytes", MaxPasswordLength)
	}
	return nil
}
