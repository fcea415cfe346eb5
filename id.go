package chuting

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"sync"
	"time"
)

// crockford is the Crockford base32 alphabet in lower case, as used by ULIDs: no i, l, o, u.
const crockford = "0123456789abcdefghjkmnpqrstvwxyz"

// IDLength is the length of every ID that NewID returns.
const IDLength = 26

// NewID returns a new record ID: 48 bits of Unix milliseconds then 80 random bits, in 26
// characters of lower-case Crockford base32 (the ULID layout). IDs sort by creation time,
// which keeps the id-ordered listings of the stores chronological: within one millisecond (or
// when the clock steps back) the process's next ID is its last plus one, as monotonic ULIDs
// are, so that records made in a row list in that order.
func NewID() string {
	ms := uint64(time.Now().UnixMilli())
	last.Lock()
	defer last.Unlock()
	var b [16]byte
	if ms <= last.ms {
		b = last.b
		for i := len(b) - 1; i >= 6; i-- { // the 80-bit random part, plus one
			if b[i]++; b[i] != 0 {
				break
			}
		}
	} else {
		binary.BigEndian.PutUint16(b[0:2], uint16(ms>>32))
		binary.BigEndian.PutUint32(b[2:6], uint32(ms))
		_, _ = rand.Read(b[6:]) // crypto/rand.Read never fails on supported platforms
		last.ms = ms
	}
	last.b = b
	return encodeBase32(b)
}

// last is the last ID NewID made, and the millisecond of its time part.
var last struct {
	sync.Mutex
	ms uint64
	b  [16]byte
}

// IDOf returns a stable ID made from seed: the same seed always gives the same ID, in the
// shape of NewID's. It is for records that must get the same ID each time they are written,
// so that writing them again is harmless (the demo world).
func IDOf(seed string) string {
	sum := sha256.Sum256([]byte(seed))
	return encodeBase32([16]byte(sum[:16]))
}

// encodeBase32 writes 128 bits as 26 base32 digits, the first carrying the top 3 bits.
func encodeBase32(b [16]byte) string {
	hi := binary.BigEndian.Uint64(b[0:8])
	lo := binary.BigEndian.Uint64(b[8:16])
	var out [IDLength]byte
	for i := IDLength - 1; i >= 0; i-- {
		out[i] = crockford[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return string(out[:])
}

// ValidID reports whether s has the shape of an ID made by NewID. The HTTP adapter uses it to
// refuse malformed path parameters before they reach a store.
func ValidID(s string) bool {
	if len(s) != IDLength || s[0] > '7' { // 26 digits hold 130 bits; the top 2 must be 0
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' && c != 'i' && c != 'l' && c != 'o' && c != 'u') {
			return false
		}
	}
	return true
}
