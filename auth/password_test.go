package auth

import (
	"strings"
	"testing"

	"github.com/chuting/chuting"
)

// cheap are argon2id parameters that make a hash take microseconds, for tests.
var cheap = Params{Memory: 64, Time: 1, Threads: 1}

// MustHash hashes password with p.
func MustHash(tb testing.TB, password string, p Params) string {
	tb.Helper()
	h, err := HashPassword(password, p)
	if err != nil {
		tb.Fatal(err)
	}
	return h
}

func TestHashPassword(t *testing.T) {
	tests := []struct {
		name   string
		params Params
		prefix string
	}{
		{"OKCheap", cheap, "$argon2id$v=19$m=64,t=1,p=1$"},
		{"OKOtherParams", Params{Memory: 128, Time: 2, Threads: 2}, "$argon2id$v=19$m=128,t=2,p=2$"},
		{"OKDefault", DefaultParams(), "$argon2id$v=19$m=19456,t=2,p=1$"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const pw = "correct horse battery"
			h1, h2 := MustHash(t, pw, tt.params), MustHash(t, pw, tt.params)
			if !strings.HasPrefix(h1, tt.prefix) {
				t.Errorf("HashPassword = %q, want the prefix %q", h1, tt.prefix)
			}
			if parts := strings.Split(h1, "$"); len(parts) != 6 || len(parts[4]) != 22 || len(parts[5]) != 43 {
				t.Errorf("HashPassword = %q: want a 16-byte salt and a 32-byte key in raw base64", h1)
			}
			if h1 == h2 {
				t.Errorf("two hashes of one password are equal (%q): no salt", h1)
			}
			for _, h := range []string{h1, h2} {
				if ok, err := CheckPassword(h, pw); err != nil || !ok {
					t.Errorf("CheckPassword(right password) = %v, %v; want true", ok, err)
				}
				for _, wrong := range []string{"correct horse batterY", "correct horse battery ", "", pw[:10]} {
					if ok, err := CheckPassword(h, wrong); err != nil || ok {
						t.Errorf("CheckPassword(%q) = %v, %v; want false", wrong, ok, err)
					}
				}
			}
		})
	}
}

func TestCheckPasswordParamsFromHash(t *testing.T) {
	// Hashes made before a change of parameters still verify: CheckPassword reads them from
	// the hash, not from the service's configuration.
	for _, p := range []Params{{Memory: 32, Time: 3, Threads: 1}, {Memory: 256, Time: 1, Threads: 4}} {
		t.Run("OK", func(t *testing.T) {
			h := MustHash(t, "密码是一句很长的话", p)
			if ok, err := CheckPassword(h, "密码是一句很长的话"); err != nil || !ok {
				t.Errorf("CheckPassword(%q) = %v, %v; want true", h, ok, err)
			}
			// The same salt and key under other parameters is another hash.
			other := strings.Replace(h, "$m=", "$m=1", 1)
			if ok, err := CheckPassword(other, "密码是一句很长的话"); err != nil || ok {
				t.Errorf("CheckPassword(%q) with changed params = %v, %v; want false", other, ok, err)
			}
		})
	}
}

func TestCheckPasswordErr(t *testing.T) {
	good := MustHash(t, "correct horse battery", cheap)
	parts := strings.Split(good, "$") // "", argon2id, v=19, m=…, salt, key
	join := func(p ...string) string { return strings.Join(p, "$") }
	tests := []struct {
		name string
		hash string
	}{
		{"ErrEmpty", ""},
		{"ErrGarbage", "not a hash at all"},
		{"ErrDollars", "$$$$$"},
		{"ErrBcrypt", "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"},
		{"ErrArgon2i", join("", "argon2i", parts[2], parts[3], parts[4], parts[5])},
		{"ErrScrypt", "$scrypt$ln=16,r=8,p=1$aM15713r3Xsvxbi31lqr1Q$nFNh2CVHVjNldFVKDHDlm4CbdRSCdEBsjjJxD+iCs5E"},
		{"ErrVersion", join("", "argon2id", "v=16", parts[3], parts[4], parts[5])},
		{"ErrNoVersion", join("", "argon2id", parts[3], parts[4], parts[5])},
		{"ErrTruncatedHalf", good[:len(good)/2]},
		{"ErrTruncatedNoKey", join(parts[:5]...)},
		{"ErrEmptyKey", join(parts[0], parts[1], parts[2], parts[3], parts[4], "")},
		{"ErrExtraField", good + "$x"},
		{"ErrParamsGarbage", join("", "argon2id", parts[2], "m=lots", parts[4], parts[5])},
		{"ErrParamsNegative", join("", "argon2id", parts[2], "m=-1,t=1,p=1", parts[4], parts[5])},
		{"ErrThreadsOverflow", join("", "argon2id", parts[2], "m=64,t=1,p=256", parts[4], parts[5])},
		{"ErrZeroTime", join("", "argon2id", parts[2], "m=64,t=0,p=1", parts[4], parts[5])},
		{"ErrZeroThreads", join("", "argon2id", parts[2], "m=64,t=1,p=0", parts[4], parts[5])},
		{"ErrHugeMemory", join("", "argon2id", parts[2], "m=4000000000,t=1,p=1", parts[4], parts[5])},
		{"ErrShortSalt", join("", "argon2id", parts[2], parts[3], "AAAA", parts[5])},
		{"ErrBadBase64Salt", join("", "argon2id", parts[2], parts[3], "!!!not*base64", parts[5])},
		{"ErrBadBase64Key", join("", "argon2id", parts[2], parts[3], parts[4], "@@@@")},
		{"ErrPaddedBase64", join("", "argon2id", parts[2], parts[3], parts[4], parts[5]+"=")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ok bool
			var err error
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("CheckPassword(%q) panicked: %v", tt.hash, r)
					}
				}()
				ok, err = CheckPassword(tt.hash, "correct horse battery")
			}()
			if err == nil || ok {
				t.Errorf("CheckPassword(%q) = %v, %v; want false and an error", tt.hash, ok, err)
			}
		})
	}
}

func TestValidatePassword(t *testing.T) {
	tests := []struct {
		name     string
		password string
		ok       bool
	}{
		{"OK10", "abcdefghij", true},
		{"OK10Chinese", "一二三四五六七八九十", true}, // 10 runes, 30 bytes
		{"OKSpaces", "          ", true},
		{"OK256Bytes", strings.Repeat("a", 256), true},
		{"OK85Chinese", strings.Repeat("密", 85), true}, // 255 bytes
		{"ErrEmpty", "", false},
		{"Err9", "abcdefghi", false},
		{"Err9Chinese", "一二三四五六七八九", false}, // 27 bytes, but 9 characters
		{"Err257Bytes", strings.Repeat("a", 257), false},
		{"Err86Chinese", strings.Repeat("密", 86), false}, // 86 characters, 258 bytes
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidatePassword(tt.password)
			if tt.ok {
				if err != nil {
					t.Errorf("ValidatePassword(%d bytes) = %v, want nil", len(tt.password), err)
				}
				return
			}
			if chuting.ErrorCode(err) != chuting.EINVALID || chuting.ErrorField(err) != "password" {
				t.Errorf("ValidatePassword(%d bytes) = %v; want EINVALID on field password", len(tt.password), err)
			}
		})
	}
}
