package solver

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"reflect"
	"strings"
	"testing"
)

// MustReadProblem reads a problem file or fails the test.
func MustReadProblem(tb testing.TB, path string) *Problem { return mustRead(tb, path, ReadProblem) }

// MustReadSchedule reads a schedule file or fails the test.
func MustReadSchedule(tb testing.TB, path string) *Schedule {
	return mustRead(tb, path, ReadSchedule)
}

func mustRead[T any](tb testing.TB, path string, read func(io.Reader) (T, error)) T {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	v, err := read(f)
	if err != nil {
		tb.Fatalf("read %s: %v", path, err)
	}
	return v
}

func TestReadProblem(t *testing.T) {
	p := MustReadProblem(t, "testdata/example-problem.json")
	if p.Name != "example-national-day" || p.Calendar.NumDays != 4 || len(p.Calendar.Workdays) != 1 {
		t.Errorf("calendar: %+v", p.Calendar)
	}
	if got := p.Appraisers[1].MaxPerDay; got != 1 {
		t.Errorf("a2 max_per_day = %d, want 1", got)
	}
	if s := p.Summons[1]; s.Pool == nil || s.Pool.K != 2 || s.Named != nil || s.Mode != InPerson {
		t.Errorf("s2 = %+v", s)
	}
	if s := p.Summons[3]; !reflect.DeepEqual(s.Named, []string{"a2", "a3"}) || s.Mode != Remote {
		t.Errorf("s4 = %+v", s)
	}
}

func TestRoundTrip(t *testing.T) {
	t.Run("Problem", func(t *testing.T) {
		roundTripProblem(t, MustReadProblem(t, "testdata/example-problem.json"))
	})
	t.Run("Schedule", func(t *testing.T) {
		s := MustReadSchedule(t, "testdata/example-schedule.json")
		var buf bytes.Buffer
		if err := WriteSchedule(&buf, s); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(buf.String(), `"room": "r1"`) || strings.Count(buf.String(), `"room"`) != 4 {
			t.Errorf("in-person assignments must omit room:\n%s", buf.String())
		}
		r, err := ReadSchedule(&buf)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(s, r) {
			t.Errorf("round trip changed the schedule:\n%+v\n%+v", s, r)
		}
	})
	t.Run("Generated", func(t *testing.T) {
		roundTripProblem(t, Generate(3, 50, 20, 6, 5))
	})
}

// roundTripProblem writes p and reads it back, and fails unless it is unchanged.
func roundTripProblem(t *testing.T, p *Problem) {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteProblem(&buf, p); err != nil {
		t.Fatal(err)
	}
	q, err := ReadProblem(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p, q) {
		t.Errorf("round trip changed the problem:\n%+v\n%+v", p, q)
	}
}

// edit returns the example problem as JSON after fn changes its generic form.
func edit(t *testing.T, fn func(m map[string]any)) []byte {
	t.Helper()
	data, err := os.ReadFile("testdata/example-problem.json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	fn(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// get walks a generic JSON value by object keys and array indices.
func get(v any, path ...any) map[string]any {
	for _, p := range path {
		switch p := p.(type) {
		case string:
			v = v.(map[string]any)[p]
		case int:
			v = v.([]any)[p]
		}
	}
	return v.(map[string]any)
}

func TestReadProblemErrors(t *testing.T) {
	for _, tc := range []struct {
		name, path, msg string
		fn              func(m map[string]any)
	}{
		{"Format", "format", `"court-sched-v2" is not "court-sched-v1"`, func(m map[string]any) { m["format"] = "court-sched-v2" }},
		{"FormatMissing", "format", "required", func(m map[string]any) { delete(m, "format") }},
		{"BadMonth", "summons[3].windows[0].start", `"2026-13-01T08:30" is not YYYY-MM-DDTHH:MM`,
			func(m map[string]any) { get(m, "summons", 3, "windows", 0)["start"] = "2026-13-01T08:30" }},
		{"OneDigitHour", "summons[0].windows[0].end", `"2026-09-30T8:00" is not YYYY-MM-DDTHH:MM`,
			func(m map[string]any) { get(m, "summons", 0, "windows", 0)["end"] = "2026-09-30T8:00" }},
		{"BothNamedAndPool", "summons[2]", "exactly one of named and pool",
			func(m map[string]any) { get(m, "summons", 2)["named"] = []any{"a4"} }},
		{"NeitherNamedNorPool", "summons[0]", "exactly one of named and pool",
			func(m map[string]any) { delete(get(m, "summons", 0), "named") }},
		{"UnknownAppraiser", "summons[3].named[0]", `unknown appraiser "a9"`,
			func(m map[string]any) { get(m, "summons", 3)["named"] = []any{"a9", "a3"} }},
		{"Duration", "summons[0].duration_minutes", "50 is not a positive multiple of 15",
			func(m map[string]any) { get(m, "summons", 0)["duration_minutes"] = 50 }},
		{"DurationZero", "summons[0].duration_minutes", "0 is not a positive multiple of 15",
			func(m map[string]any) { get(m, "summons", 0)["duration_minutes"] = 0 }},
		{"DurationFraction", "summons[0].duration_minutes", "want an integer, got 60.5",
			func(m map[string]any) { get(m, "summons", 0)["duration_minutes"] = 60.5 }},
		{"DuplicateID", "appraisers[1].id", `duplicate id "a1" (first at appraisers[0])`,
			func(m map[string]any) { get(m, "appraisers", 1)["id"] = "a1" }},
		{"RemoteAcrossInstitutions", "summons[3].named", "one institution, got i1, i2",
			func(m map[string]any) { get(m, "summons", 3)["named"] = []any{"a2", "a4"} }},
		{"KZero", "summons[1].pool.k", "must be at least 1, got 0",
			func(m map[string]any) { get(m, "summons", 1, "pool")["k"] = 0 }},
		{"NumDaysZero", "calendar.num_days", "must be at least 1, got 0",
			func(m map[string]any) { get(m, "calendar")["num_days"] = 0 }},
		{"NumDaysString", "calendar.num_days", `want an integer, got "4"`,
			func(m map[string]any) { get(m, "calendar")["num_days"] = "4" }},
		{"UnknownTopField", "colour", "unknown field", func(m map[string]any) { m["colour"] = "red" }},
		{"UnknownNestedField", "summons[4].priority", "unknown field",
			func(m map[string]any) { get(m, "summons", 4)["priority"] = 1 }},
		{"Mode", "summons[0].mode", `"video" is not "remote" or "in_person"`,
			func(m map[string]any) { get(m, "summons", 0)["mode"] = "video" }},
		{"WindowBackwards", "summons[0].windows[0]", "end 2026-09-30T07:00 is not after start 2026-09-30T08:00",
			func(m map[string]any) { get(m, "summons", 0, "windows", 0)["end"] = "2026-09-30T07:00" }},
		{"NoWindows", "summons[0].windows", "must not be empty",
			func(m map[string]any) { get(m, "summons", 0)["windows"] = []any{} }},
		{"UnknownCourt", "summons[0].court", `unknown court "ct9"`,
			func(m map[string]any) { get(m, "summons", 0)["court"] = "ct9" }},
		{"WorkdayNotWeekend", "calendar.workdays[0]", "2026-10-12 is a Monday, not a weekend date",
			func(m map[string]any) { get(m, "calendar")["workdays"] = []any{"2026-10-12"} }},
		{"BadHoliday", "calendar.holidays[1]", `"2026-10-32" is not YYYY-MM-DD`,
			func(m map[string]any) { get(m, "calendar")["holidays"].([]any)[1] = "2026-10-32" }},
		{"BusyTime", "appraisers[0].busy[0].end", `"noon" is not YYYY-MM-DDTHH:MM`,
			func(m map[string]any) { get(m, "appraisers", 0, "busy", 0)["end"] = "noon" }},
		{"UnknownCategory", "summons[1].pool.category", `unknown category "c7"`,
			func(m map[string]any) { get(m, "summons", 1, "pool")["category"] = "c7" }},
		{"RoomInstitution", "rooms[0].institution", `unknown institution "i9"`,
			func(m map[string]any) { get(m, "rooms", 0)["institution"] = "i9" }},
		{"AppraiserCategory", "appraisers[2].categories[0]", `unknown category "c3"`,
			func(m map[string]any) { get(m, "appraisers", 2)["categories"] = []any{"c3"} }},
		{"NegativeCap", "appraisers[0].max_per_day", "must not be negative",
			func(m map[string]any) { get(m, "appraisers", 0)["max_per_day"] = -1 }},
		{"SummonsNotObject", "summons[5]", "want an object, got null",
			func(m map[string]any) { m["summons"].([]any)[5] = nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadProblem(bytes.NewReader(edit(t, tc.fn)))
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v, want a *FieldError", err)
			}
			if fe.Path != tc.path || !strings.Contains(fe.Message, tc.msg) {
				t.Errorf("err = %q (path %q), want path %q and %q", err, fe.Path, tc.path, tc.msg)
			}
			if !strings.HasPrefix(err.Error(), tc.path+": ") {
				t.Errorf("err = %q does not start with the path", err)
			}
		})
	}
}

func TestReadProblemBadJSON(t *testing.T) {
	for _, tc := range []struct{ name, in, msg string }{
		{"Syntax", "{\n  \"format\": \"court-sched-v1\",\n  \"name\": x\n}", "invalid JSON at line 3"},
		{"Truncated", `{"format": "court-sched-v1"`, "unexpected end of file"},
		{"Trailing", `{"format": "court-sched-v1", "name": "x", "calendar": {"start_date": "2026-01-05", "num_days": 1}} {}`, "unexpected data after the JSON value"},
		{"NotObject", `[]`, "want an object, got an array"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadProblem(strings.NewReader(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("err = %v, want %q", err, tc.msg)
			}
		})
	}
}

func TestReadProblemSeveralErrors(t *testing.T) {
	_, err := ReadProblem(bytes.NewReader(edit(t, func(m map[string]any) {
		get(m, "summons", 0)["duration_minutes"] = 50
		get(m, "summons", 4)["court"] = "nowhere"
	})))
	if err == nil || !strings.Contains(err.Error(), "summons[0].duration_minutes") ||
		!strings.Contains(err.Error(), "summons[4].court") {
		t.Errorf("err = %v, want both errors", err)
	}
}

func TestReadScheduleErrors(t *testing.T) {
	for _, tc := range []struct{ name, in, path, msg string }{
		{"Start", `{"instance": "x", "assignments": [{"summons": "s1", "start": "2026-09-30 10:00", "appraisers": ["a1"]}]}`,
			"assignments[0].start", `"2026-09-30 10:00" is not YYYY-MM-DDTHH:MM`},
		{"Unknown", `{"instance": "x", "assignments": [], "score": 3}`, "score", "unknown field"},
		{"Instance", `{"assignments": []}`, "instance", "required"},
		{"Appraisers", `{"instance": "x", "assignments": [{"summons": "s1", "start": "2026-09-30T10:00"}]}`,
			"assignments[0].appraisers", "required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadSchedule(strings.NewReader(tc.in))
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Path != tc.path || !strings.Contains(fe.Message, tc.msg) {
				t.Errorf("err = %v, want %s: %s", err, tc.path, tc.msg)
			}
		})
	}
}
