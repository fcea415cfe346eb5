package main

import (
	"context"
	"crypto/ed25519"

	"github.com/chuting/chuting/recordings"
	"github.com/chuting/chuting/scheduler"
)

// openArchive returns the read side of the hearings' recordings for the playback API
// (recordings/archive.go), over the recorder's folder, verified against the key the recorder
// signs with.
func (m *Main) openArchive(rc recordings.Config) (*recordings.Archive, error) {
	return recordings.NewArchive(recordings.ArchiveConfig{Dir: rc.Dir, Records: m.Store,
		Logs: m.Store, PublicKey: rc.Key.Public().(ed25519.PublicKey), Now: m.clock()})
}

// retentionJob is the daily job of the recordings' retention policy (issue 5 §7): it marks
// the recordings whose court's keeping period ran out as due for a judge's approval, and
// deletes nothing.
func (m *Main) retentionJob(a *recordings.Archive) scheduler.Job {
	return scheduler.Job{Name: "recording-retention", Spec: "41 2 * * *", Run: func(ctx context.Context) error {
		n, err := a.MarkDue(ctx)
		if n > 0 {
			m.Logger.Info("recordings due for deletion under their court's retention policy (录像保存期满，待法官审批删除)", "count", n)
		}
		return err
	}}
}
