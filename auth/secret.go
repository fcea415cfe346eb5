package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
)

// TokenPrefix starts every API token secret, so that a leaked one is recognisable (secret
// scanners) and cannot be confused with a session cookie.
const TokenPrefix = "cht_"

// NewSecret returns 32 random bytes, URL-safe base64 encoded: the value of a session cookie,
// a CSRF token or the body of an API token.
func NewSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b)
}

// HashSecret returns the hex SHA-256 of a secret. Secrets are 256 random bits, so a fast hash
// is enough: what is stored cannot be turned back into a usable credential.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// looksLikeToken reports whether s has the shape of an API token secret, so that garbage is
// refused before a store look-up.
func looksLikeToken(s string) bool {
	body, ok := strings.CutPrefix(s, TokenPrefix)
	return ok && len(body) == 43 && strings.Trim(body, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == ""
}
