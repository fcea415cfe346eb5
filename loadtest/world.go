package loadtest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/chuting/chuting"
	"github.com/chuting/chuting/auth"
	"github.com/chuting/chuting/bbolt"
)

// World is what a load run needs from the server's store: hearings whose rooms are open now,
// and for each the API tokens of its judge, clerk and summoned appraiser, with which the run
// asks the documented API for join tokens and personal links (docs/signaling.md).
//
// Hearings cannot be made through the API for right now: serving a summons takes a notice
// period of days (#2). So a world is written into a stopped server's embedded store, the way
// `chuting user add` makes accounts, in a court of its own (赣99, 负载测试法院) that no real
// court shares; the server then serves it as any other data.
type World struct {
	Hearings []WorldHearing `json:"hearings"`
}

// WorldHearing is one hearing of a World and the API tokens of its court's judge and clerk
// and of its appraiser.
type WorldHearing struct {
	ID             string    `json:"id"`
	CaseNo         string    `json:"case_no"`
	Start          time.Time `json:"start"`
	End            time.Time `json:"end"`
	JudgeToken     string    `json:"judge_token"`
	ClerkToken     string    `json:"clerk_token"`
	AppraiserToken string    `json:"appraiser_token"`
}

// WorldFile is the name of the world file Seed writes in the data folder (mode 0600: it
// holds API tokens).
const WorldFile = "loadtest-world.json"

// hearingLength is how long a seeded hearing lasts: longer than any run, so its room stays
// open (rooms close 30 minutes after the hearing's end).
const hearingLength = 12 * time.Hour

// Seed writes a world of rooms hearings into the embedded store in the data folder (which
// must not be open: stop the server first), and the world file beside it. Each hearing
// starts in 5 minutes, so its room is open at once (rooms open 30 minutes before).
func Seed(ctx context.Context, data string, rooms int, now time.Time) (*World, error) {
	if rooms < 1 {
		return nil, fmt.Errorf("seed: want at least one room, got %d", rooms)
	}
	if err := os.MkdirAll(data, 0o700); err != nil {
		return nil, fmt.Errorf("data folder: %w", err)
	}
	s, err := bbolt.Open(filepath.Join(data, "chuting.db"), bbolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("open the store in %s (is a server running on it?): %w", data, err)
	}
	defer s.Close()
	w, err := seed(ctx, s, rooms, now)
	if err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(w, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(data, WorldFile), b, 0o600); err != nil {
		return nil, fmt.Errorf("write world file: %w", err)
	}
	return w, nil
}

// ReadWorld reads a world file that Seed wrote.
func ReadWorld(file string) (*World, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var w World
	if err := json.Unmarshal(b, &w); err != nil {
		return nil, fmt.Errorf("world file %s: %w", file, err)
	}
	if len(w.Hearings) == 0 {
		return nil, fmt.Errorf("world file %s: no hearings", file)
	}
	return &w, nil
}

func seed(ctx context.Context, s chuting.Records, rooms int, now time.Time) (*World, error) {
	a, err := auth.New(s, auth.Options{})
	if err != nil {
		return nil, err
	}
	var firstErr error
	create := func(e chuting.Entity) {
		if firstErr == nil {
			if err := chuting.Create(ctx, s, e); err != nil {
				firstErr = fmt.Errorf("seed %s: %w", e.Kind(), err)
			}
		}
	}
	run := now.UTC().Format("20060102150405") // several worlds may share a store
	court, err := chuting.FindOne[chuting.Court](ctx, s, chuting.IndexCode, "赣99")
	if chuting.ErrorCode(err) == chuting.ENOTFOUND {
		court = &chuting.Court{Name: "负载测试法院", Code: "赣99", TimeZone: "Asia/Shanghai", NoticeDays: 3}
		create(court)
	} else if err != nil {
		return nil, err
	}
	inst := &chuting.Institution{Name: "负载测试鉴定所 " + run, LicenceNo: "LT" + run}
	create(inst)
	token := func(u *chuting.User) string {
		create(u)
		if firstErr != nil {
			return ""
		}
		_, secret, err := a.NewToken(ctx, u.ID, "loadtest", 0)
		if err != nil {
			firstErr = fmt.Errorf("seed token: %w", err)
		}
		return secret
	}
	start := now.Add(5 * time.Minute).Truncate(time.Second)
	w := &World{}
	for i := range rooms {
		tag := fmt.Sprintf("%s-%03d", run, i)
		ap := &chuting.Appraiser{InstitutionID: inst.ID, Name: fmt.Sprintf("鉴定人%03d", i),
			LicenceNo: "LT-" + tag, Categories: []string{"法医临床"}, InductionTrained: true}
		create(ap)
		caseNo := fmt.Sprintf("(2026)赣99民初%s号", tag)
		op := &chuting.Opinion{DocumentNo: "负载测试[2026]第" + tag + "号", CaseNo: caseNo,
			InstitutionID: inst.ID, Category: "法医临床", Signatories: []string{ap.ID}}
		create(op)
		sm := &chuting.Summons{CourtID: court.ID, CaseNo: caseNo, CaseType: chuting.CaseTypeCivil,
			OpinionID: op.ID, InstitutionID: inst.ID, AppraiserIDs: []string{ap.ID}, Mode: chuting.ModeRemote,
			DurationMinutes: int(hearingLength / time.Minute), State: chuting.SummonsScheduled,
			Parties: []chuting.Party{{Name: "原告" + tag, Role: "原告"}, {Name: "被告" + tag, Role: "被告"}}}
		create(sm)
		h := &chuting.Hearing{SummonsID: sm.ID, CourtID: court.ID, InstitutionID: inst.ID,
			AppraiserIDs: []string{ap.ID}, Mode: chuting.ModeRemote, Start: start, End: start.Add(hearingLength)}
		create(h)
		wh := WorldHearing{ID: h.ID, CaseNo: caseNo, Start: h.Start, End: h.End}
		wh.JudgeToken = token(&chuting.User{Username: "lt-judge-" + tag, Name: fmt.Sprintf("法官%03d", i),
			Role: chuting.RoleJudge, CourtID: court.ID})
		wh.ClerkToken = token(&chuting.User{Username: "lt-clerk-" + tag, Name: fmt.Sprintf("书记员%03d", i),
			Role: chuting.RoleClerk, CourtID: court.ID})
		wh.AppraiserToken = token(&chuting.User{Username: "lt-appraiser-" + tag, Name: ap.Name,
			Role: chuting.RoleAppraiser, InstitutionID: inst.ID, AppraiserID: ap.ID})
		if firstErr != nil {
			return nil, firstErr
		}
		w.Hearings = append(w.Hearings, wh)
	}
	return w, nil
}
