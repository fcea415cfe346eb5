package solver

import (
	"fmt"
	"strings"
)

// Format is the value of the "format" field of every court-sched-v1 problem file.
const Format = "court-sched-v1"

// Problem is a court-sched-v1 instance (SCHEDULING.md §6): a calendar, the registry
// (institutions, categories, courts, appraisers, rooms) and the summons to schedule. Times
// and dates are kept as the strings of the file (naive local `YYYY-MM-DDTHH:MM` and
// `YYYY-MM-DD`), so that a problem round-trips byte for byte in meaning; Validate checks them.
type Problem struct {
	Format       string            `json:"format"`
	Name         string            `json:"name"`
	Generator    map[string]string `json:"generator,omitempty"`
	Calendar     Calendar          `json:"calendar"`
	Institutions []Institution     `json:"institutions"`
	Categories   []Category        `json:"categories"`
	Courts       []Court           `json:"courts"`
	Appraisers   []Appraiser       `json:"appraisers"`
	Rooms        []Room            `json:"rooms"`
	Summons      []Summons         `json:"summons"`
}

// Calendar is the horizon of a problem: the first NumDays working days from StartDate,
// where a working day is a weekday not in Holidays, or a weekend date in Workdays (调休).
type Calendar struct {
	StartDate string   `json:"start_date"`
	NumDays   int      `json:"num_days"`
	Holidays  []string `json:"holidays"`
	Workdays  []string `json:"workdays,omitempty"`
}

// Institution is an appraisal institution (司法鉴定机构).
type Institution struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Category is an appraisal category such as 法医临床.
type Category struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Court is a court that issues summons.
type Court struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Appraiser is a forensic appraiser with the categories they practise, the blocks of time
// they cannot attend (which may cover nights and whole days) and their daily cap of
// hearings (0 means DefaultMaxPerDay).
type Appraiser struct {
	ID          string     `json:"id"`
	Name        string     `json:"name"`
	Institution string     `json:"institution"`
	Categories  []string   `json:"categories"`
	MaxPerDay   int        `json:"max_per_day,omitempty"`
	Busy        []Interval `json:"busy,omitempty"`
}

// DefaultMaxPerDay is the daily cap of hearings of an appraiser whose max_per_day is absent
// or 0.
const DefaultMaxPerDay = 2

// Interval is a half-open interval [Start, End) of naive local times `YYYY-MM-DDTHH:MM`.
type Interval struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

// Room is a remote-testimony room of an institution: one hearing at a time, with a
// 15-minute changeover between consecutive hearings.
type Room struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Institution string `json:"institution"`
}

// Mode is how an appraiser testifies: from a remote-testimony room, or in the courtroom.
type Mode string

const (
	// Remote is testimony by video from a room of the appraisers' institution.
	Remote Mode = "remote"
	// InPerson is testimony in the courtroom, with an hour of travel each side.
	InPerson Mode = "in_person"
)

// Summons asks for a hearing of DurationMinutes inside one of Windows, attended either by
// every appraiser in Named or by any Pool.K appraisers of Pool.Institution practising
// Pool.Category. Exactly one of Named and Pool is set.
type Summons struct {
	ID              string     `json:"id"`
	Court           string     `json:"court"`
	DurationMinutes int        `json:"duration_minutes"`
	Mode            Mode       `json:"mode"`
	Windows         []Interval `json:"windows"`
	Named           []string   `json:"named,omitempty"`
	Pool            *Pool      `json:"pool,omitempty"`
}

// Pool asks for any K distinct appraisers of Institution having Category.
type Pool struct {
	Institution string `json:"institution"`
	Category    string `json:"category"`
	K           int    `json:"k"`
}

// Schedule is the solver's output for the problem named Instance: the summons it scheduled.
// Summons absent from Assignments are unscheduled.
type Schedule struct {
	Instance    string       `json:"instance"`
	Solver      string       `json:"solver"`
	Assignments []Assignment `json:"assignments"`
}

// Assignment schedules one summons: its start, the attending appraisers and, for a remote
// summons, the room (empty for in_person).
type Assignment struct {
	Summons    string   `json:"summons"`
	Start      string   `json:"start"`
	Room       string   `json:"room,omitempty"`
	Appraisers []string `json:"appraisers"`
}

// FieldError is an error in a problem or schedule file, located by the JSON path of the
// field (e.g. `summons[3].windows[0].start`); Path is empty for an error of the whole file.
type FieldError struct {
	Path    string
	Message string
}

// Error returns "path: message".
func (e *FieldError) Error() string {
	if e.Path == "" {
		return e.Message
	}
	return e.Path + ": " + e.Message
}

// maxErrors bounds how many field errors one read reports: enough to fix a file in one go,
// few enough to read.
const maxErrors = 20

// fieldErrors collects the errors of one file in order.
type fieldErrors []*FieldError

func (l *fieldErrors) add(path, format string, args ...any) {
	*l = append(*l, &FieldError{Path: path, Message: fmt.Sprintf(format, args...)})
}

// err returns nil, the only error, or all of them joined (errors.As finds the first).
func (l fieldErrors) err() error {
	switch len(l) {
	case 0:
		return nil
	case 1:
		return l[0]
	}
	return &multiError{errs: l}
}

// multiError is several field errors of one file, one per line.
type multiError struct{ errs fieldErrors }

func (m *multiError) Error() string {
	var b strings.Builder
	n := len(m.errs)
	if n > maxErrors {
		n = maxErrors
	}
	for i, e := range m.errs[:n] {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString(e.Error())
	}
	if len(m.errs) > n {
		b.WriteString(fmt.Sprintf("\n… and %d more", len(m.errs)-n))
	}
	return b.String()
}

// Unwrap returns the field errors, so that errors.As finds the first *FieldError.
func (m *multiError) Unwrap() []error {
	out := make([]error, len(m.errs))
	for i, e := range m.errs {
		out[i] = e
	}
	return out
}
