package chuting_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chuting/chuting"
)

func TestNewID(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		for range 100 {
			id := chuting.NewID()
			if len(id) != 26 {
				t.Fatalf("NewID() = %q, %d characters, want 26", id, len(id))
			}
			if !chuting.ValidID(id) {
				t.Fatalf("ValidID(NewID() = %q) = false", id)
			}
		}
	})
	t.Run("OKSortsByTime", func(t *testing.T) {
		// 2 ms apart, the time part orders them.
		prev := chuting.NewID()
		for range 5 {
			time.Sleep(2 * time.Millisecond)
			id := chuting.NewID()
			if id <= prev {
				t.Fatalf("NewID() = %q after %q: does not sort after it", id, prev)
			}
			prev = id
		}
	})
	t.Run("OKSortsInARow", func(t *testing.T) {
		// Many in one millisecond: each sorts after the one before.
		prev := chuting.NewID()
		for range 10000 {
			id := chuting.NewID()
			if id <= prev {
				t.Fatalf("NewID() = %q right after %q: does not sort after it", id, prev)
			}
			prev = id
		}
	})
	t.Run("OKDistinct", func(t *testing.T) {
		const n = 10000
		seen := make(map[string]bool, n)
		for range n {
			id := chuting.NewID()
			if seen[id] {
				t.Fatalf("NewID() returned %q twice", id)
			}
			seen[id] = true
		}
	})
}

func TestValidID(t *testing.T) {
	valid := chuting.NewID()
	tests := []struct {
		name string
		id   string
		want bool
	}{
		{"OK", valid, true},
		{"OKZeros", strings.Repeat("0", 26), true},
		{"OKMax", "7" + strings.Repeat("z", 25), true},
		{"OKAllDigits", "0123456789abcdefghjkmnpqrs", true},
		{"ErrEmpty", "", false},
		{"ErrShort", valid[:25], false},
		{"ErrLong", valid + "0", false},
		{"ErrUpperCase", strings.ToUpper(valid), false},
		{"ErrOneUpperCase", "0A" + strings.Repeat("0", 24), false},
		{"ErrLetterI", "0000000000000000000000000i", false},
		{"ErrLetterL", "0000000000000000000000000l", false},
		{"ErrLetterO", "0000000000000000000000000o", false},
		{"ErrLetterU", "0000000000000000000000000u", false},
		{"ErrFirstCharOver7", "8" + strings.Repeat("0", 25), false},
		{"ErrFirstCharLetter", "z" + strings.Repeat("0", 25), false},
		{"ErrNonASCII", "é" + strings.Repeat("0", 24), false}, // 26 bytes, 25 runes
		{"ErrPunctuation", "0000000000000000000000000-", false},
		{"ErrSpace", " " + strings.Repeat("0", 25), false},
		{"ErrNUL", strings.Repeat("0", 25) + "\x00", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := chuting.ValidID(tt.id); got != tt.want {
				t.Errorf("ValidID(%q) = %v, want %v", tt.id, got, tt.want)
			}
		})
	}
}
