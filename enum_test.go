package chuting_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/chuting/chuting"
)

// enum is the method set every persisted enum has.
type enum interface {
	~uint8
	String() string
	MarshalText() ([]byte, error)
}

// enumPtr is the pointer side of an enum: it can be unmarshalled.
type enumPtr[E enum] interface {
	*E
	UnmarshalText([]byte) error
}

// testEnum checks that each value of names (indexed by value, "" for the zero value) round
// trips through its name, and that an unknown name is an EINVALID error listing the names.
func testEnum[E enum, P enumPtr[E]](t *testing.T, names []string, parse func(string) (E, error)) {
	t.Run("OK", func(t *testing.T) {
		for i, name := range names {
			v := E(i)
			if got := v.String(); got != name {
				t.Errorf("%T(%d).String() = %q, want %q", v, i, got, name)
			}
			b, err := v.MarshalText()
			if err != nil || string(b) != name {
				t.Errorf("%T(%d).MarshalText() = %q, %v; want %q", v, i, b, err, name)
			}
			var u E
			if err := P(&u).UnmarshalText([]byte(name)); err != nil || u != v {
				t.Errorf("UnmarshalText(%q) = %d, %v; want %d", name, u, err, i)
			}
			if p, err := parse(name); err != nil || p != v {
				t.Errorf("parse(%q) = %d, %v; want %d", name, p, err, i)
			}
		}
	})
	t.Run("OKJSON", func(t *testing.T) {
		for i, name := range names[1:] {
			v := E(i + 1)
			b, err := json.Marshal(map[string]E{"v": v})
			if want := `{"v":"` + name + `"}`; err != nil || string(b) != want {
				t.Errorf("Marshal(%d) = %s, %v; want %s", v, b, err, want)
			}
			var got map[string]E
			if err := json.Unmarshal(b, &got); err != nil || got["v"] != v {
				t.Errorf("Unmarshal(%s) = %v, %v; want %d", b, got, err, v)
			}
		}
	})
	for _, bad := range []struct{ name, in string }{
		{"ErrUnknown", "nonsense"},
		{"ErrCase", strings.ToUpper(names[1])},
		{"ErrSpace", names[1] + " "},
	} {
		t.Run(bad.name, func(t *testing.T) {
			checkErr := func(what string, err error) {
				t.Helper()
				if code := chuting.ErrorCode(err); code != chuting.EINVALID {
					t.Fatalf("%s(%q) error %v has code %q, want %q", what, bad.in, err, code, chuting.EINVALID)
				}
				msg := chuting.ErrorMessage(err)
				if want := strings.Join(names[1:], ", "); !strings.Contains(msg, want) {
					t.Errorf("%s(%q) message %q does not list %q", what, bad.in, msg, want)
				}
				if !strings.Contains(msg, bad.in) {
					t.Errorf("%s(%q) message %q does not quote the input", what, bad.in, msg)
				}
			}
			_, err := parse(bad.in)
			checkErr("parse", err)
			var u E
			checkErr("UnmarshalText", P(&u).UnmarshalText([]byte(bad.in)))
		})
	}
	t.Run("OKOutOfRange", func(t *testing.T) {
		for _, v := range []E{E(len(names)), 200} {
			want := "unknown(" + strconv.Itoa(int(v)) + ")"
			if got := v.String(); got != want {
				t.Errorf("%T(%d).String() = %q, want %q", v, v, got, want)
			}
			if b, _ := v.MarshalText(); string(b) != want {
				t.Errorf("%T(%d).MarshalText() = %q, want %q", v, v, b, want)
			}
		}
	})
}

func TestEnum(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"Role", func(t *testing.T) {
			testEnum(t, []string{"", "bureau_admin", "institution_admin", "clerk", "judge", "appraiser"}, chuting.ParseRole)
		}},
		{"CaseType", func(t *testing.T) {
			testEnum(t, []string{"", "civil", "criminal", "administrative"}, chuting.ParseCaseType)
		}},
		{"Mode", func(t *testing.T) {
			testEnum(t, []string{"", "remote", "in_person"}, chuting.ParseMode)
		}},
		{"SummonsState", func(t *testing.T) {
			testEnum(t, []string{"", "proposed", "confirmed", "declined", "excused", "scheduled",
				"in_progress", "completed", "absent", "cancelled"}, chuting.ParseSummonsState)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, tt.run)
	}
}

func TestEnumConstants(t *testing.T) {
	// The values are persisted as names, but the constants must still match the name tables.
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"OKRoleClerk", chuting.RoleClerk.String(), "clerk"},
		{"OKRoleAppraiser", chuting.RoleAppraiser.String(), "appraiser"},
		{"OKCaseTypeCriminal", chuting.CaseTypeCriminal.String(), "criminal"},
		{"OKModeInPerson", chuting.ModeInPerson.String(), "in_person"},
		{"OKSummonsExcused", chuting.SummonsExcused.String(), "excused"},
		{"OKSummonsCancelled", chuting.SummonsCancelled.String(), "cancelled"},
		{"OKUnknown", chuting.RoleUnknown.String(), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("String() = %q, want %q", tt.got, tt.want)
			}
		})
	}
}

func TestRoles(t *testing.T) {
	roles := chuting.Roles()
	if len(roles) != 5 {
		t.Fatalf("Roles() = %v, want 5 roles", roles)
	}
	seen := map[chuting.Role]bool{}
	for _, r := range roles {
		if r == chuting.RoleUnknown {
			t.Errorf("Roles() lists RoleUnknown")
		}
		if seen[r] {
			t.Errorf("Roles() lists %v twice", r)
		}
		seen[r] = true
		if p, err := chuting.ParseRole(r.String()); err != nil || p != r {
			t.Errorf("ParseRole(%q) = %v, %v", r, p, err)
		}
	}
}

// TestSummonsStateChinese: every summons state has its own Chinese name for notices and
// errors, none left to fall back on the wire name.
func TestSummonsStateChinese(t *testing.T) {
	seen := map[string]chuting.SummonsState{}
	for s := chuting.SummonsUnknown; !strings.HasPrefix(s.String(), "unknown("); s++ { // every state, one added later too
		zh := s.Chinese()
		if !unicode.Is(unicode.Han, []rune(zh)[0]) {
			t.Errorf("%v: Chinese() = %q, not a Chinese name", s, zh)
		}
		if o, ok := seen[zh]; ok {
			t.Errorf("%v and %v are both %q", o, s, zh)
		}
		seen[zh] = s
	}
	if got := chuting.SummonsState(99).Chinese(); got != chuting.SummonsState(99).String() {
		t.Errorf("out of range: %q", got)
	}
}
