package chuting_test

import (
	"context"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/chuting/chuting"
	"github.com/chuting/chuting/bbolt"
)

func TestIndex(t *testing.T) {
	shanghai := time.FixedZone("CST", 8*3600)
	start := time.Date(2026, time.March, 2, 9, 30, 0, 0, shanghai)
	expires := time.Date(2026, time.March, 2, 21, 0, 0, 0, time.UTC)
	entry := func(name, value string) chuting.IndexEntry { return chuting.IndexEntry{Name: name, Value: value} }
	unique := func(name, value string) chuting.IndexEntry {
		return chuting.IndexEntry{Name: name, Value: value, Unique: true}
	}
	tests := []struct {
		name   string
		entity chuting.Entity
		want   []chuting.IndexEntry
	}{
		{"OKUserFolded", &chuting.User{Username: "Clerk ", CourtID: "c1"},
			[]chuting.IndexEntry{unique("username", "clerk"), entry("court", "c1")}},
		{"OKUserAll", &chuting.User{Username: " ZHANG.San", AppraiserID: "a1", CourtID: "c1", InstitutionID: "i1"},
			[]chuting.IndexEntry{unique("username", "zhang.san"), unique("appraiser", "a1"), entry("court", "c1"), entry("institution", "i1")}},
		{"OKUserEmpty", &chuting.User{Username: "   "}, nil},
		{"OKSession", &chuting.Session{UserID: "u1", Expires: expires},
			[]chuting.IndexEntry{entry("user", "u1"), entry("expires", "2026-03-02T21:00:00.000000000Z")}},
		{"OKAPIToken", &chuting.APIToken{UserID: "u1", Hash: "ab12"},
			[]chuting.IndexEntry{unique("hash", "ab12"), entry("user", "u1")}},
		{"OKAPITokenEmpty", &chuting.APIToken{}, nil},
		{"OKCourt", &chuting.Court{Code: "赣07", Name: "n"}, []chuting.IndexEntry{unique("code", "赣07")}},
		{"OKCourtEmpty", &chuting.Court{Name: "n"}, nil},
		{"OKInstitution", &chuting.Institution{LicenceNo: "L-1"}, []chuting.IndexEntry{unique("licence_no", "L-1")}},
		{"OKRoom", &chuting.TestimonyRoom{InstitutionID: "i1"}, []chuting.IndexEntry{entry("institution", "i1")}},
		{"OKAppraiser", &chuting.Appraiser{LicenceNo: "P-1", InstitutionID: "i1", Categories: []string{"法医病理", "法医临床"}},
			[]chuting.IndexEntry{unique("licence_no", "P-1"), entry("institution", "i1"), entry("category", "法医病理"), entry("category", "法医临床")}},
		{"OKAppraiserNoLicence", &chuting.Appraiser{InstitutionID: "i1"}, []chuting.IndexEntry{entry("institution", "i1")}},
		{"OKOpinion", &chuting.Opinion{DocumentNo: "D-1", CaseNo: "(2026)赣07民初1号", InstitutionID: "i1",
			Signatories: []string{"a1", "a2"}, Reviewers: []string{"r1"}},
			[]chuting.IndexEntry{unique("document_no", "D-1"), entry("institution", "i1"), entry("case_no", "(2026)赣07民初1号"),
				entry("appraiser", "a1"), entry("appraiser", "a2")}},
		{"OKSummons", &chuting.Summons{CourtID: "c1", InstitutionID: "i1", CaseNo: "k1", State: chuting.SummonsProposed,
			AppraiserIDs: []string{"a1"}},
			[]chuting.IndexEntry{entry("court", "c1"), entry("institution", "i1"), entry("case_no", "k1"), entry("state", "proposed"),
				entry("appraiser", "a1")}},
		{"OKSummonsPool", &chuting.Summons{CourtID: "c1", State: chuting.SummonsUnknown, Pool: &chuting.Pool{InstitutionID: "i1", K: 2}},
			[]chuting.IndexEntry{entry("court", "c1")}},
		{"OKHearing", &chuting.Hearing{CourtID: "c1", InstitutionID: "i1", RoomID: "r1", SummonsID: "s1", Start: start,
			AppraiserIDs: []string{"a1", "a2"}},
			[]chuting.IndexEntry{entry("court", "c1"), entry("institution", "i1"), entry("room", "r1"), entry("summons", "s1"),
				entry("start", "2026-03-02T01:30:00.000000000Z"), entry("appraiser", "a1"), entry("appraiser", "a2")}},
		{"OKRecordingGrant", &chuting.RecordingGrant{HearingID: "h1", UserID: "u1", CourtID: "c1"},
			[]chuting.IndexEntry{entry("hearing", "h1"), entry("user", "u1")}},
		{"OKRecordingDisposal", &chuting.RecordingDisposal{HearingID: "h1", CourtID: "c1"},
			[]chuting.IndexEntry{unique("hearing", "h1"), entry("court", "c1")}},
		{"OKHearingInPerson", &chuting.Hearing{CourtID: "c1", SummonsID: "s1", Start: start},
			[]chuting.IndexEntry{entry("court", "c1"), entry("summons", "s1"), entry("start", chuting.TimeKey(start))}},
		{"OKManifest", &chuting.RecordingManifest{HearingID: "h1"}, []chuting.IndexEntry{unique("hearing", "h1")}},
		{"OKFeeRefund", &chuting.FeeRefund{CourtID: "c1", InstitutionID: "i1", SummonsID: "s1", State: chuting.RefundOpen,
			AppraiserIDs: []string{"a1"}},
			[]chuting.IndexEntry{entry("court", "c1"), entry("institution", "i1"), entry("summons", "s1"), entry("state", "open"),
				entry("appraiser", "a1")}},
		{"OKReportBureau", &chuting.Report{Scope: chuting.ReportBureau, Period: "2026-11"}, []chuting.IndexEntry{entry("period", "2026-11")}},
		{"OKReportInstitution", &chuting.Report{Scope: chuting.ReportInstitution, InstitutionID: "i1", Period: "2026-11"},
			[]chuting.IndexEntry{entry("institution", "i1"), entry("period", "2026-11")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.entity.Index()
			if len(got) != len(tt.want) || len(got) > 0 && !reflect.DeepEqual(got, tt.want) {
				t.Errorf("%T.Index() =\n%+v\nwant\n%+v", tt.entity, got, tt.want)
			}
			for _, e := range got {
				if e.Value == "" || strings.Contains(e.Value, "\x00") {
					t.Errorf("%T.Index() has the value %q under %s", tt.entity, e.Value, e.Name)
				}
			}
		})
	}
}

func TestNewEntity(t *testing.T) {
	for _, k := range chuting.Kinds() {
		t.Run("OK"+string(k), func(t *testing.T) {
			e := chuting.NewEntity(k)
			if e == nil {
				t.Fatalf("NewEntity(%q) = nil", k)
			}
			if e.Kind() != k {
				t.Errorf("NewEntity(%q).Kind() = %q", k, e.Kind())
			}
			if e.RecordMeta() == nil || e.RecordMeta().ID != "" {
				t.Errorf("NewEntity(%q) is not empty: %+v", k, e.RecordMeta())
			}
			if a, b := chuting.NewEntity(k), chuting.NewEntity(k); a == b {
				t.Errorf("NewEntity(%q) returned the same value twice", k)
			}
		})
	}
	for _, k := range []chuting.Kind{"", "widget", "User"} {
		t.Run("ErrUnknown", func(t *testing.T) {
			if e := chuting.NewEntity(k); e != nil {
				t.Errorf("NewEntity(%q) = %T, want nil", k, e)
			}
		})
	}
}

func TestTimeKey(t *testing.T) {
	utc := time.Date(2026, time.March, 2, 1, 30, 0, 0, time.UTC)
	shanghai := time.FixedZone("CST", 8*3600)
	newYork := time.FixedZone("EST", -5*3600)
	now := time.Now()
	tests := []struct {
		name       string
		a, b       time.Time
		wantA      string // "" to skip
		wantSameAs bool   // a and b are the same instant
	}{
		{"OKLaterSecond", utc, utc.Add(time.Second), "2026-03-02T01:30:00.000000000Z", false},
		{"OKLaterNanosecond", utc, utc.Add(time.Nanosecond), "", false},
		{"OKTenthVsHundredths", utc.Add(90 * time.Millisecond), utc.Add(100 * time.Millisecond), "2026-03-02T01:30:00.090000000Z", false},
		{"OKNanosVsMillis", utc.Add(999_999 * time.Nanosecond), utc.Add(time.Millisecond), "2026-03-02T01:30:00.000999999Z", false},
		{"OKAcrossDays", utc.Add(-2 * time.Hour), utc, "2026-03-01T23:30:00.000000000Z", false},
		// Shanghai's wall clock reads later (09:30 on the 2nd) than New York's (20:31 on the
		// 1st), but the instant is earlier.
		{"OKZonesByInstant", utc.In(shanghai), utc.Add(time.Minute).In(newYork), "2026-03-02T01:30:00.000000000Z", false},
		{"OKZeroTime", time.Time{}, utc, "0001-01-01T00:00:00.000000000Z", false},
		{"OKSameInstantShanghai", utc, utc.In(shanghai), "", true},
		{"OKSameInstantNewYork", utc.In(newYork), utc.In(shanghai), "", true},
		{"OKSameInstantMonotonic", now, now.Round(0), "", true}, // Round(0) drops the monotonic reading
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ka, kb := chuting.TimeKey(tt.a), chuting.TimeKey(tt.b)
			for _, k := range []string{ka, kb} {
				if len(k) != len("2006-01-02T15:04:05.000000000Z") {
					t.Errorf("TimeKey = %q, %d bytes: not fixed-width", k, len(k))
				}
			}
			if tt.wantA != "" && ka != tt.wantA {
				t.Errorf("TimeKey(%v) = %q, want %q", tt.a, ka, tt.wantA)
			}
			if tt.wantSameAs {
				if ka != kb {
					t.Errorf("TimeKey of one instant differs: %q and %q", ka, kb)
				}
				return
			}
			if !tt.a.Before(tt.b) {
				t.Fatalf("bad case: %v is not before %v", tt.a, tt.b)
			}
			if ka >= kb {
				t.Errorf("TimeKey(%v) = %q does not sort before TimeKey(%v) = %q", tt.a, ka, tt.b, kb)
			}
		})
	}
}

// MustStore opens an embedded store in a temporary directory and closes it when the test ends.
func MustStore(tb testing.TB) *bbolt.Store {
	tb.Helper()
	s, err := bbolt.Open(filepath.Join(tb.TempDir(), "x.db"), bbolt.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

func TestLoadRef(t *testing.T) {
	ctx := context.Background()
	s := MustStore(t)
	court := &chuting.Court{Name: "赣州市中级人民法院", Code: "赣07", NoticeDays: 3}
	if err := chuting.Create(ctx, s, court); err != nil {
		t.Fatal(err)
	}
	room := &chuting.TestimonyRoom{Name: "作证室"}
	if err := chuting.Create(ctx, s, room); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		id   string
		code string
	}{
		{"OK", court.ID, ""},
		{"ErrMalformed", "nope", chuting.EINVALID},
		{"ErrEmpty", "", chuting.EINVALID},
		{"ErrUpperCase", strings.ToUpper(court.ID), chuting.EINVALID},
		{"ErrPathLike", "../" + court.ID[3:], chuting.EINVALID},
		{"ErrUnknown", chuting.NewID(), chuting.EINVALID},
		{"ErrOtherKind", room.ID, chuting.EINVALID}, // a room's ID is no court's
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := chuting.LoadRef[chuting.Court](ctx, s, "court_id", tt.id)
			if tt.code == "" {
				if err != nil {
					t.Fatalf("LoadRef(%q): %v", tt.id, err)
				}
				if got.ID != court.ID || got.Code != "赣07" || got.Version != 1 {
					t.Errorf("LoadRef(%q) = %+v, want the court", tt.id, got)
				}
				return
			}
			if code := chuting.ErrorCode(err); code != tt.code {
				t.Fatalf("LoadRef(%q) = %v, code %q; want %q", tt.id, err, code, tt.code)
			}
			if got != nil {
				t.Errorf("LoadRef(%q) returned %+v with its error", tt.id, got)
			}
			if f := chuting.ErrorField(err); f != "court_id" {
				t.Errorf("LoadRef(%q) error names field %q, want court_id", tt.id, f)
			}
			if msg := chuting.ErrorMessage(err); !strings.Contains(msg, "court_id") {
				t.Errorf("LoadRef(%q) message %q does not name court_id", tt.id, msg)
			}
		})
	}
}
