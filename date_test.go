package chuting_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/chuting/chuting"
)

func TestParseDate(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    chuting.Date
		wantErr bool
	}{
		{"OK", "2026-03-01", chuting.Date{Year: 2026, Month: time.March, Day: 1}, false},
		{"OKLeapDay", "2028-02-29", chuting.Date{Year: 2028, Month: time.February, Day: 29}, false},
		{"OKEndOfYear", "1999-12-31", chuting.Date{Year: 1999, Month: time.December, Day: 31}, false},
		{"ErrMonth13", "2026-13-01", chuting.Date{}, true},
		{"ErrDay32", "2026-01-32", chuting.Date{}, true},
		{"ErrNotLeap", "2026-02-29", chuting.Date{}, true},
		{"ErrSlashes", "2026/01/01", chuting.Date{}, true},
		{"ErrWord", "abc", chuting.Date{}, true},
		{"ErrEmpty", "", chuting.Date{}, true},
		{"ErrShortFields", "2026-3-1", chuting.Date{}, true},
		{"ErrWithTime", "2026-03-01T00:00:00Z", chuting.Date{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := chuting.ParseDate(tt.in)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("ParseDate(%q) = %v, want an error", tt.in, got)
				}
				var d chuting.Date
				if err := d.UnmarshalText([]byte(tt.in)); tt.in != "" && err == nil {
					t.Errorf("UnmarshalText(%q) = nil, want an error", tt.in)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseDate(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("ParseDate(%q) = %#v, want %#v", tt.in, got, tt.want)
			}
			if s := got.String(); s != tt.in {
				t.Errorf("ParseDate(%q).String() = %q", tt.in, s)
			}
			b, err := got.MarshalText()
			if err != nil || string(b) != tt.in {
				t.Errorf("MarshalText() = %q, %v; want %q", b, err, tt.in)
			}
		})
	}
}

func TestDateZero(t *testing.T) {
	t.Run("OKString", func(t *testing.T) {
		var d chuting.Date
		if !d.IsZero() || d.String() != "" {
			t.Errorf("zero Date: IsZero() = %v, String() = %q; want true, \"\"", d.IsZero(), d.String())
		}
		b, err := d.MarshalText()
		if err != nil || len(b) != 0 {
			t.Errorf("zero Date MarshalText() = %q, %v; want \"\"", b, err)
		}
	})
	t.Run("OKUnmarshalEmpty", func(t *testing.T) {
		d := chuting.Date{Year: 2026, Month: time.May, Day: 4}
		if err := d.UnmarshalText(nil); err != nil {
			t.Fatal(err)
		}
		if !d.IsZero() {
			t.Errorf("UnmarshalText(\"\") = %#v, want the zero Date", d)
		}
	})
	t.Run("ErrUnmarshalKeepsValue", func(t *testing.T) {
		d := chuting.Date{Year: 2026, Month: time.May, Day: 4}
		if err := d.UnmarshalText([]byte("2026-13-01")); err == nil {
			t.Fatal("UnmarshalText(\"2026-13-01\") = nil, want an error")
		}
		if d != (chuting.Date{Year: 2026, Month: time.May, Day: 4}) {
			t.Errorf("a failed UnmarshalText changed the date to %#v", d)
		}
	})
}

func TestDateOf(t *testing.T) {
	shanghai := time.FixedZone("CST", 8*3600)
	// 2026-03-01 01:30 in Shanghai is still 2026-02-28 in UTC: DateOf uses t's location.
	at := time.Date(2026, time.March, 1, 1, 30, 0, 0, shanghai)
	tests := []struct {
		name string
		t    time.Time
		want string
	}{
		{"OKLocal", at, "2026-03-01"},
		{"OKUTC", at.UTC(), "2026-02-28"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := chuting.DateOf(tt.t).String(); got != tt.want {
				t.Errorf("DateOf(%v) = %s, want %s", tt.t, got, tt.want)
			}
		})
	}
}

func TestDateBefore(t *testing.T) {
	d := func(y int, m time.Month, day int) chuting.Date { return chuting.Date{Year: y, Month: m, Day: day} }
	tests := []struct {
		name string
		a, b chuting.Date
		want bool
	}{
		{"OKEarlierYear", d(2025, 12, 31), d(2026, 1, 1), true},
		{"OKEarlierMonth", d(2026, 1, 31), d(2026, 2, 1), true},
		{"OKEarlierDay", d(2026, 2, 1), d(2026, 2, 2), true},
		{"OKZeroFirst", chuting.Date{}, d(1, 1, 1), true},
		{"ErrSame", d(2026, 2, 1), d(2026, 2, 1), false},
		{"ErrLaterYear", d(2027, 1, 1), d(2026, 12, 31), false},
		{"ErrLaterMonth", d(2026, 3, 1), d(2026, 2, 28), false},
		{"ErrLaterDay", d(2026, 2, 2), d(2026, 2, 1), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.a.Before(tt.b); got != tt.want {
				t.Errorf("%v.Before(%v) = %v, want %v", tt.a, tt.b, got, tt.want)
			}
			if tt.want && tt.b.Before(tt.a) {
				t.Errorf("%v.Before(%v) is true both ways", tt.a, tt.b)
			}
		})
	}
}

func TestDateJSON(t *testing.T) {
	type doc struct {
		Expires chuting.Date `json:"expires"`
	}
	tests := []struct {
		name    string
		in      doc
		json    string
		wantErr bool
	}{
		{"OK", doc{chuting.Date{Year: 2026, Month: time.March, Day: 1}}, `{"expires":"2026-03-01"}`, false},
		{"OKZero", doc{}, `{"expires":""}`, false},
		{"ErrBadDate", doc{}, `{"expires":"2026-13-01"}`, true},
		{"ErrNumber", doc{}, `{"expires":20260301}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got doc
			err := json.Unmarshal([]byte(tt.json), &got)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("Unmarshal(%s) = %+v, want an error", tt.json, got)
				}
				return
			}
			b, err2 := json.Marshal(tt.in)
			if err2 != nil || string(b) != tt.json {
				t.Errorf("Marshal(%+v) = %s, %v; want %s", tt.in, b, err2, tt.json)
			}
			if err != nil {
				t.Fatalf("Unmarshal(%s): %v", tt.json, err)
			}
			if got != tt.in {
				t.Errorf("Unmarshal(%s) = %+v, want %+v", tt.json, got, tt.in)
			}
		})
	}
}

// TestCourtLocation: a court's hearings are in its time zone; without one, or with a name
// unknown here, in China Standard Time.
func TestCourtLocation(t *testing.T) {
	for _, tc := range []struct {
		court *chuting.Court
		want  string
	}{
		{nil, chuting.ChinaZone().String()},
		{&chuting.Court{}, chuting.ChinaZone().String()},
		{&chuting.Court{TimeZone: "Nowhere/Atlantis"}, chuting.ChinaZone().String()},
		{&chuting.Court{TimeZone: "UTC"}, "UTC"},
	} {
		if got := tc.court.Location().String(); got != tc.want {
			t.Errorf("%+v: %s, want %s", tc.court, got, tc.want)
		}
	}
}
