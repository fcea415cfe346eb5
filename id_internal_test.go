package chuting

import (
	"strings"
	"testing"
)

func TestEncodeBase32(t *testing.T) {
	ones := [16]byte{}
	for i := range ones {
		ones[i] = 0xff
	}
	tests := []struct {
		name string
		in   [16]byte
		want string
	}{
		{"OKZero", [16]byte{}, strings.Repeat("0", 26)},
		{"OKOne", [16]byte{15: 1}, strings.Repeat("0", 25) + "1"},
		{"OKLastDigit", [16]byte{15: 31}, strings.Repeat("0", 25) + "z"},
		{"OKCarry", [16]byte{15: 32}, strings.Repeat("0", 24) + "10"},
		// The 3 top bits land in the first digit: 128 bits = 3 + 25*5.
		{"OKTopBit", [16]byte{0: 0x80}, "4" + strings.Repeat("0", 25)},
		{"OKAllOnes", ones, "7" + strings.Repeat("z", 25)},
		// Bits that cross the 64-bit halves: bit 64 is digit 12 from the right, bit 4 of it.
		{"OKAcrossHalves", [16]byte{7: 1}, strings.Repeat("0", 13) + "g" + strings.Repeat("0", 12)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := encodeBase32(tt.in)
			if got != tt.want {
				t.Errorf("encodeBase32(%x) = %q, want %q", tt.in, got, tt.want)
			}
			if !ValidID(got) {
				t.Errorf("ValidID(%q) = false", got)
			}
		})
	}
}
