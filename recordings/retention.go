package recordings

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/chuting/chuting"
)

// Retention (issue 5 §7). Each court keeps its recordings for Court.RecordingKeepDays after
// they end; 0, the default, keeps them for ever. A daily job (MarkDue) marks those whose
// period ran out as due; nothing is deleted by the job. A judge of the court then approves
// the deletion of a due recording with a reason (Dispose), which deletes its files and keeps
// the record of what was deleted, by whom and why, and the store's copy of its signed
// manifest (录音录像规定 art. 15: nobody deletes a recording without permission). A
// recording not yet expired, or still being recorded or recovered, is never deleted;
// interrupted recordings (#30) are kept like any other and deleted only the same way.

// Expires returns when a recording that ended at end expires under a keeping period of
// keepDays days: zero (never) when keepDays is 0 or less.
func Expires(end time.Time, keepDays int) time.Time {
	if keepDays <= 0 || end.IsZero() {
		return time.Time{}
	}
	return end.AddDate(0, 0, keepDays)
}

// Expiry returns when the recording summarised by s expires under its court's policy; zero
// when it is kept for ever (or its court is unknown: keep what cannot be judged).
func (a *Archive) Expiry(ctx context.Context, s Summary) (time.Time, error) {
	if s.CourtID == "" || s.State == StateRecording {
		return time.Time{}, nil
	}
	c, err := chuting.Load[chuting.Court](ctx, a.cfg.Records, s.CourtID)
	if chuting.ErrorCode(err) == chuting.ENOTFOUND {
		return time.Time{}, nil
	} else if err != nil {
		return time.Time{}, err
	}
	return Expires(s.End, c.RecordingKeepDays), nil
}

// MarkDue marks as due every recording whose court's keeping period has run out, and unmarks
// those marked before whose court now keeps them longer. It deletes nothing. It returns how
// many it newly marked. It is the retention cron job.
func (a *Archive) MarkDue(ctx context.Context) (int, error) {
	list, err := a.List(ctx)
	if err != nil {
		return 0, err
	}
	now := a.cfg.Now()
	marked := 0
	var errs []error
	for _, s := range list {
		exp, err := a.Expiry(ctx, s)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		expired := !exp.IsZero() && !now.Before(exp)
		d, err := chuting.FindOne[chuting.RecordingDisposal](ctx, a.cfg.Records, chuting.IndexHearing, s.HearingID)
		switch {
		case chuting.ErrorCode(err) == chuting.ENOTFOUND && expired:
			d = &chuting.RecordingDisposal{HearingID: s.HearingID, CourtID: s.CourtID, State: chuting.DisposalDue,
				Expired: exp.UTC(), RootHash: s.RootHash}
			err = chuting.Create(ctx, a.cfg.Records, d)
			if err == nil {
				marked++
			}
		case err == nil && d.State == chuting.DisposalDue && !expired:
			err = chuting.Remove(ctx, a.cfg.Records, d)
		case chuting.ErrorCode(err) == chuting.ENOTFOUND:
			err = nil
		}
		if err != nil && chuting.ErrorCode(err) != chuting.ECONFLICT { // a conflict: another node did it
			errs = append(errs, fmt.Errorf("retention of %s: %w", s.HearingID, err))
		}
	}
	return marked, errors.Join(errs...)
}

// Dispose deletes the files of a hearing's expired recording, with the approval of the user
// approvedBy and their reason, and returns the disposal record, now DisposalDeleted.
// ENOTFOUND when there is no recording (or it was deleted already); ECONFLICT when it is not
// due, not expired under its court's current policy, being recorded or recovered, or its
// files are on another node.
func (a *Archive) Dispose(ctx context.Context, hearingID, approvedBy, reason string) (*chuting.RecordingDisposal, error) {
	d, err := chuting.FindOne[chuting.RecordingDisposal](ctx, a.cfg.Records, chuting.IndexHearing, hearingID)
	switch {
	case chuting.ErrorCode(err) == chuting.ENOTFOUND:
		if _, err := a.folder(hearingID); err != nil {
			return nil, err
		}
		return nil, chuting.Errorf(chuting.ECONFLICT, "录像未到期，不能删除 / the recording is not due for deletion under its court's retention policy")
	case err != nil:
		return nil, err
	case d.State == chuting.DisposalDeleted:
		return nil, chuting.Errorf(chuting.ENOTFOUND, "录像已于 %s 删除 / the recording was deleted on %s",
			d.Deleted.Format(time.DateOnly), d.Deleted.Format(time.DateOnly))
	}
	s, err := a.localSummary(ctx, hearingID)
	if chuting.ErrorCode(err) == chuting.ENOTFOUND {
		return nil, chuting.Errorf(chuting.ECONFLICT, "录像文件不在本节点 / the recording's files are not on this node")
	} else if err != nil {
		return nil, err
	}
	if s.State == StateRecording {
		return nil, chuting.Errorf(chuting.ECONFLICT, "录像正在进行或待恢复 / the hearing is being recorded, or its recording awaits recovery")
	}
	exp, err := a.Expiry(ctx, s)
	if err != nil {
		return nil, err
	}
	if exp.IsZero() || a.cfg.Now().Before(exp) {
		return nil, chuting.Errorf(chuting.ECONFLICT, "录像未到期，不能删除 / the recording has not expired under its court's current retention policy")
	}
	dir := filepath.Join(a.cfg.Dir, hearingID)
	// The folder's lock, as the recorder and recovery take it: nothing starts recording into
	// the folder while its files go.
	j, err := openJournal(dir)
	if errors.Is(err, errLocked) {
		return nil, chuting.Errorf(chuting.ECONFLICT, "录像目录正被使用 / the recording's folder is in use")
	} else if err != nil {
		return nil, err
	}
	files, bytes, err := removeFiles(dir)
	_ = j.close()
	if err != nil {
		return nil, fmt.Errorf("delete the recording of %s: %w", hearingID, err)
	}
	_ = os.Remove(dir)
	a.mu.Lock()
	delete(a.checks, hearingID)
	a.mu.Unlock()
	d.State, d.ApprovedBy, d.Reason, d.Deleted = chuting.DisposalDeleted, approvedBy, reason, a.cfg.Now().UTC()
	d.Files, d.Bytes = files, bytes
	if d.RootHash == "" {
		d.RootHash = s.RootHash
	}
	if err := chuting.Save(ctx, a.cfg.Records, d); err != nil {
		return nil, fmt.Errorf("record the deletion of the recording of %s: %w", hearingID, err)
	}
	return d, nil
}

// removeFiles deletes every file of a hearing's folder and returns how many media files
// (everything but the manifest, journal and events) and bytes went.
func removeFiles(dir string) (int, int64, error) {
	var files int
	var bytes int64
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, 0, err
	}
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		if e.IsDir() {
			return files, bytes, fmt.Errorf("unexpected folder %s", p)
		}
		fi, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue
		} else if err != nil {
			return files, bytes, err
		}
		if err := os.Remove(p); err != nil {
			return files, bytes, err
		}
		switch e.Name() {
		case manifestName, journalName, eventsName:
		default:
			files++
			bytes += fi.Size()
		}
	}
	return files, bytes, syncDir(dir)
}
