package http

import (
	"context"
	"encoding/base64"
	"mime"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/chuting/chuting"
	"github.com/chuting/chuting/recordings"
)

// Recordings (issue 5 §5–7; DOMAIN.md #29–#32): the archive of hearing recordings, for a
// synchronised player and for the parties' integrity check, and its retention.
//
// Who sees a recording (#31, #32). A hearing's recording is the court's record (录音录像规定
// arts 5, 10–11, 15–16), so only the judges and clerks of the hearing's court, and users
// they grant access to until a set time (a party's counsel, an appellate court, the bureau
// in a complaint case), list, play and download it; an API token acts as its user. The
// justice bureau is not the court: it oversees appraisers and receives appearance reports
// (#42, #43), which need no media, so it has no standing access; nor have the appraiser who
// testified or their institution (they ask the court, as the parties do). Everyone else is
// answered as if the recording did not exist (404), so a hearing's recording is not even
// known to exist outside the court. Every access is audited: the listing, the metadata, each
// file and the manifest. The server's public key is public, so that anyone holding a copy
// can verify it.
//
// Retention (issue 5 §7): each court keeps its recordings RecordingKeepDays (0, the
// default: for ever); a daily job marks expired ones due, and a judge of the court deletes
// a due one with a reason; nothing else deletes a recording (录音录像规定 art. 15).

// recordingItem is one recording in the archive's listing.
type recordingItem struct {
	recordingHead
	Files int `json:"files"`
}

// recordingHead is what the listing and the full view share.
type recordingHead struct {
	HearingID     string          `json:"hearing_id"`
	CaseNo        string          `json:"case_no"`
	CourtID       string          `json:"court_id"`
	CourtName     string          `json:"court_name"`
	Start         *time.Time      `json:"start"`
	End           *time.Time      `json:"end"` // null while recorded
	Status        string          `json:"status"`
	InterruptedAt *time.Time      `json:"interrupted_at"`
	RootHash      string          `json:"root_hash"` // empty until the manifest is signed
	Bytes         int64           `json:"bytes"`
	Node          string          `json:"node"` // the server node holding the files (several nodes share a Redis store)
	Appraisers    []appraiserName `json:"appraisers"`
}

type appraiserName struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// recordingView is one recording in full.
type recordingView struct {
	recordingHead
	Files        []recordingFile   `json:"files"`
	Timeline     []timelineItem    `json:"timeline"`
	Verification *verificationView `json:"verification"` // null until the manifest is signed, and while recorded
	Pauses       []pauseView       `json:"pauses"`
}

type recordingFile struct {
	Name            string    `json:"name"`
	Participant     string    `json:"participant"`
	ParticipantName string    `json:"participant_name"`
	Role            string    `json:"role"`
	Kind            string    `json:"kind"`
	Codec           string    `json:"codec"`
	Source          string    `json:"source,omitempty"`
	Session         int       `json:"session"`
	Status          string    `json:"status"`
	Start           time.Time `json:"start"`
	End             time.Time `json:"end"`
	Size            int64     `json:"size"`
	SHA256          string    `json:"sha256"`
	URL             string    `json:"url"`
}

type timelineItem struct {
	At          time.Time `json:"at"`
	Type        string    `json:"type"`
	Participant string    `json:"participant"`
	Detail      string    `json:"detail"`
}

type verificationView struct {
	OK        bool          `json:"ok"`
	Problems  []problemView `json:"problems"`
	CheckedAt time.Time     `json:"checked_at"`
}

type problemView struct {
	Item    string `json:"item"`
	Problem string `json:"problem"` // altered, truncated, missing, added or manifest
	Detail  string `json:"detail"`
}

type pauseView struct {
	At     time.Time  `json:"at"`
	Until  *time.Time `json:"until"` // null while paused
	Reason string     `json:"reason"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

// archive returns the recordings archive, or EUNAVAILABLE when the server has none.
func (s *Server) archive() (*recordings.Archive, error) {
	if s.recordings == nil {
		return nil, chuting.Errorf(chuting.EUNAVAILABLE, "本服务器未配置录像 / this server keeps no recordings")
	}
	return s.recordings, nil
}

// noRecording is the answer for a recording that does not exist or that the caller may not
// see; the archive answers the same for a hearing it has no recording of.
func noRecording() error {
	return chuting.Errorf(chuting.ENOTFOUND, "没有此录像 / no such recording")
}

// recordingHearing reads the {hearing_id} path value and returns the hearing if the caller
// may see its recording: a judge or clerk of its court, or a user with an active grant.
// Anyone else gets the answer a hearing without a recording gets (ENOTFOUND), and a
// malformed ID EINVALID naming hearing_id.
func (s *Server) recordingHearing(r *http.Request) (*chuting.Hearing, error) {
	id := r.PathValue("hearing_id")
	if !chuting.ValidID(id) {
		return nil, chuting.FieldError("hearing_id", "hearing_id 格式错误 / malformed hearing_id %q", truncate(id, 40))
	}
	setTarget(r, "recording:"+id)
	h, err := chuting.Load[chuting.Hearing](r.Context(), s.store, id)
	if chuting.ErrorCode(err) == chuting.ENOTFOUND {
		return nil, noRecording()
	} else if err != nil {
		return nil, err
	}
	p := chuting.UserFromContext(r.Context())
	if hearingCourt(p, h) {
		return h, nil
	}
	granted, err := s.granted(r.Context(), p)
	if err != nil {
		return nil, err
	}
	if !granted[h.ID] {
		return nil, noRecording()
	}
	return h, nil
}

// archiveHearing returns the archive and the {hearing_id} hearing for the handlers that
// read a recording: archive's answer when the server keeps no recordings, else
// recordingHearing's.
func (s *Server) archiveHearing(r *http.Request) (*recordings.Archive, *chuting.Hearing, error) {
	a, err := s.archive()
	if err != nil {
		return nil, nil, err
	}
	h, err := s.recordingHearing(r)
	if err != nil {
		return nil, nil, err
	}
	return a, h, nil
}

// granted returns the hearings whose recordings p holds an active grant to.
func (s *Server) granted(ctx context.Context, p *chuting.Principal) (map[string]bool, error) {
	grants, err := chuting.FindAll[chuting.RecordingGrant](ctx, s.store, chuting.Equal(chuting.KindGrant, chuting.IndexUser, p.UserID))
	if err != nil {
		return nil, err
	}
	now := s.now()
	out := map[string]bool{}
	for _, g := range grants {
		if g.Active(now) {
			out[g.HearingID] = true
		}
	}
	return out, nil
}

// recordingCourt checks that the caller is a judge or clerk (judgeOnly: a judge) of the
// hearing's court, for granting access and deleting. Callers who may not see the recording
// get recordingHearing's answer; those who may (a grantee) get EFORBIDDEN.
func (s *Server) recordingCourt(r *http.Request, judgeOnly bool) (*chuting.Hearing, error) {
	h, err := s.recordingHearing(r)
	if err != nil {
		return nil, err
	}
	p := chuting.UserFromContext(r.Context())
	if !courtUser(p) || p.CourtID != h.CourtID {
		return nil, chuting.Errorf(chuting.EFORBIDDEN, "只有本案法院可以管理此录像 / only the hearing's court manages its recording")
	}
	if judgeOnly && p.Role != chuting.RoleJudge {
		return nil, chuting.Errorf(chuting.EFORBIDDEN, "只有本案法院的法官可以批准删除录像 / only a judge of the hearing's court approves deleting its recording")
	}
	return h, nil
}

// names looks courts and appraisers up once per request.
type names struct {
	s         *Server
	ctx       context.Context
	courts    map[string]*chuting.Court
	appraiser map[string]string
}

func (s *Server) names(ctx context.Context) *names {
	return &names{s: s, ctx: ctx, courts: map[string]*chuting.Court{}, appraiser: map[string]string{}}
}

func (n *names) court(id string) *chuting.Court {
	if c, ok := n.courts[id]; ok {
		return c
	}
	c, _ := chuting.Load[chuting.Court](n.ctx, n.s.store, id)
	n.courts[id] = c
	return c
}

func (n *names) appraisers(ids []string) []appraiserName {
	out := make([]appraiserName, 0, len(ids))
	for _, id := range ids {
		name, ok := n.appraiser[id]
		if !ok {
			if a, err := chuting.Load[chuting.Appraiser](n.ctx, n.s.store, id); err == nil {
				name = a.Name
			}
			n.appraiser[id] = name
		}
		out = append(out, appraiserName{ID: id, Name: name})
	}
	return out
}

// head is the shared part of a recording's views.
func (n *names) head(sum recordings.Summary, h *chuting.Hearing) recordingHead {
	out := recordingHead{HearingID: sum.HearingID, CaseNo: sum.CaseNo, CourtID: sum.CourtID, Start: timePtr(sum.Start),
		Status: sum.State, InterruptedAt: timePtr(sum.InterruptedAt), RootHash: sum.RootHash, Bytes: sum.Bytes, Node: sum.Node,
		Appraisers: []appraiserName{}}
	if sum.State != recordings.StateRecording {
		out.End = timePtr(sum.End)
	}
	if h != nil {
		if out.CourtID == "" {
			out.CourtID = h.CourtID
		}
		out.Appraisers = n.appraisers(h.AppraiserIDs)
	}
	if c := n.court(out.CourtID); c != nil {
		out.CourtName = c.Name
	}
	return out
}

// listRecordings searches the archive (档案检索) by case number (part of it), court,
// appraiser and the day the recording started (in the court's time zone), among the
// recordings the caller may see.
func (s *Server) listRecordings(w http.ResponseWriter, r *http.Request) error {
	a, err := s.archive()
	if err != nil {
		return err
	}
	q := r.URL.Query()
	if err := knownParams(q, "case_no", "court_id", "appraiser_id", "from", "to"); err != nil {
		return err
	}
	limit, after, err := paging(q)
	if err != nil {
		return err
	}
	if after != "" && !chuting.ValidID(after) {
		return chuting.FieldError("after", "after 不是有效的游标 / after is not a cursor from this API")
	}
	caseNo, courtID, appraiserID := strings.TrimSpace(q.Get("case_no")), q.Get("court_id"), q.Get("appraiser_id")
	from, err := parseDate("from", q.Get("from"))
	if err != nil {
		return err
	}
	to, err := parseDate("to", q.Get("to"))
	if err != nil {
		return err
	}
	switch {
	case courtID != "" && !chuting.ValidID(courtID):
		return chuting.FieldError("court_id", "court_id 格式错误 / malformed court_id")
	case appraiserID != "" && !chuting.ValidID(appraiserID):
		return chuting.FieldError("appraiser_id", "appraiser_id 格式错误 / malformed appraiser_id")
	case !from.IsZero() && !to.IsZero() && to.Before(from):
		return chuting.FieldError("to", "to 早于 from / to is before from")
	}
	setTarget(r, "recordings")
	p := chuting.UserFromContext(r.Context())
	granted, err := s.granted(r.Context(), p)
	if err != nil {
		return err
	}
	all, err := a.List(r.Context())
	if err != nil {
		return err
	}
	n := s.names(r.Context())
	out := List[recordingItem]{Items: []recordingItem{}}
	skipping := after != "" // the page starts after the recording of hearing after
	for _, sum := range all {
		mayCourt := courtUser(p) && (sum.CourtID == "" || sum.CourtID == p.CourtID)
		if !mayCourt && !granted[sum.HearingID] {
			continue // decided without reading the hearing
		}
		h, err := chuting.Load[chuting.Hearing](r.Context(), s.store, sum.HearingID)
		if err != nil && chuting.ErrorCode(err) != chuting.ENOTFOUND {
			return err
		}
		court := sum.CourtID
		if court == "" && h != nil {
			court = h.CourtID
		}
		if !(courtUser(p) && p.CourtID == court) && !granted[sum.HearingID] {
			continue
		}
		if caseNo != "" && !strings.Contains(strings.ToLower(sum.CaseNo), strings.ToLower(caseNo)) ||
			courtID != "" && court != courtID ||
			appraiserID != "" && (h == nil || !slices.Contains(h.AppraiserIDs, appraiserID)) {
			continue
		}
		if !from.IsZero() || !to.IsZero() {
			day := chuting.DateOf(sum.Start.In(n.court(court).Location()))
			if !from.IsZero() && day.Before(from) || !to.IsZero() && to.Before(day) {
				continue
			}
		}
		if skipping {
			skipping = sum.HearingID != after
			continue
		}
		if limit > 0 && len(out.Items) == limit { // one more matches: the page ends here
			out.Next = cursor(out.Items[limit-1].HearingID)
			break
		}
		out.Items = append(out.Items, recordingItem{recordingHead: n.head(sum, h), Files: sum.Files})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// getRecording answers one recording in full: files, timeline, pauses and the result of
// verifying it against the server's key.
func (s *Server) getRecording(w http.ResponseWriter, r *http.Request) error {
	a, h, err := s.archiveHearing(r)
	if err != nil {
		return err
	}
	pb, err := a.Playback(r.Context(), h.ID)
	if chuting.ErrorCode(err) == chuting.ENOTFOUND {
		return noRecording()
	} else if err != nil {
		return err
	}
	n := s.names(r.Context())
	out := recordingView{recordingHead: n.head(pb.Summary, h), Files: make([]recordingFile, 0, len(pb.Files)),
		Timeline: make([]timelineItem, 0, len(pb.Timeline)), Pauses: make([]pauseView, 0, len(pb.Pauses))}
	for _, e := range pb.Files {
		out.Files = append(out.Files, recordingFile{Name: e.Path, Participant: e.Participant, ParticipantName: e.Name,
			Role: e.Role, Kind: e.Kind, Codec: e.Codec, Source: e.Source, Session: e.Session, Status: e.Status,
			Start: e.Start.UTC(), End: e.End.UTC(), Size: e.Size, SHA256: e.SHA256,
			URL: "/api/v1/recordings/" + h.ID + "/files/" + url.PathEscape(e.Path)})
	}
	for _, ev := range pb.Timeline {
		out.Timeline = append(out.Timeline, timelineItem{At: ev.At, Type: ev.Type, Participant: ev.Participant, Detail: ev.Detail})
	}
	for _, p := range pb.Pauses {
		out.Pauses = append(out.Pauses, pauseView{At: p.At.UTC(), Until: timePtr(p.Until), Reason: p.Reason})
	}
	// A later session under way adds files its manifest does not list yet: verify once it
	// is signed.
	if pb.Manifest != nil && pb.State != recordings.StateRecording {
		c, err := a.Verify(r.Context(), h.ID)
		if err != nil {
			return err
		}
		v := &verificationView{OK: c.Report.OK(), Problems: []problemView{}, CheckedAt: c.At}
		for _, p := range c.Report.Problems {
			v.Problems = append(v.Problems, problemView{Item: p.Path, Problem: p.Kind, Detail: p.Detail})
		}
		out.Verification = v
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// contentType is the media type of a recording's file: WebM for VP8, VP9 and Opus,
// Matroska for H.264; a segment's bytes kept as a crash left them are not playable media.
func contentType(e chuting.ManifestEntry) string {
	switch {
	case e.Status == recordings.StatusOriginal:
		return "application/octet-stream"
	case strings.HasSuffix(e.Path, ".mkv"):
		return "video/x-matroska"
	case e.Kind == "audio":
		return "audio/webm"
	}
	return "video/webm"
}

// recordingFile serves one of a recording's files, with range requests for seeking.
func (s *Server) recordingFile(w http.ResponseWriter, r *http.Request) error {
	a, h, err := s.archiveHearing(r)
	if err != nil {
		return err
	}
	name := r.PathValue("name")
	setTarget(r, "recording:"+h.ID+"/"+truncate(name, 120))
	f, err := a.Open(h.ID, name)
	if err != nil {
		return err
	}
	defer f.Close()
	hd := w.Header()
	hd.Set("Content-Type", contentType(f.Entry))
	hd.Set("Cache-Control", "private, no-store")
	hd.Set("Content-Disposition", mime.FormatMediaType("inline", map[string]string{"filename": path.Base(name)}))
	hd.Set("ETag", `"`+f.Entry.SHA256+`"`)
	http.ServeContent(w, r, name, f.ModTime, f)
	return nil
}

// recordingManifest answers the signed manifest.json exactly as stored, so that its bytes
// can be checked against the root hash and signature (#31).
func (s *Server) recordingManifest(w http.ResponseWriter, r *http.Request) error {
	a, h, err := s.archiveHearing(r)
	if err != nil {
		return err
	}
	b, err := a.Manifest(h.ID)
	if err != nil {
		return err
	}
	hd := w.Header()
	hd.Set("Content-Type", "application/json")
	hd.Set("Cache-Control", "private, no-store")
	hd.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": "manifest-" + h.ID + ".json"}))
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(b)
	if err != nil {
		logWriteFailure(s.logger, r, err)
	}
	return nil
}

// recordingExport answers the recording's package (recordings.Archive.Export): a zip of the
// signed manifest and every file it lists, for a party to keep and to check with `chuting
// verify` (#31). Nothing is written until every file is open, so that a missing one is an
// error answer rather than a cut package.
func (s *Server) recordingExport(w http.ResponseWriter, r *http.Request) error {
	a, h, err := s.archiveHearing(r)
	if err != nil {
		return err
	}
	setTarget(r, "recording:"+h.ID+"/export")
	pw := &packageWriter{w: w, name: "recording-" + h.ID + ".zip"}
	if err := a.Export(pw, h.ID); err != nil {
		if !pw.started {
			return err
		}
		logWriteFailure(s.logger, r, err)
	}
	return nil
}

// packageWriter sets the package's headers at its first write.
type packageWriter struct {
	w       http.ResponseWriter
	name    string
	started bool
}

func (p *packageWriter) Write(b []byte) (int, error) {
	if !p.started {
		p.started = true
		hd := p.w.Header()
		hd.Set("Content-Type", "application/zip")
		hd.Set("Cache-Control", "private, no-store")
		hd.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": p.name}))
		p.w.WriteHeader(http.StatusOK)
	}
	return p.w.Write(b)
}

// recordingPublicKey answers the server's recording key, to verify manifests with.
func (s *Server) recordingPublicKey(w http.ResponseWriter, r *http.Request) error {
	a, err := s.archive()
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"algorithm": "Ed25519",
		"public_key": base64.StdEncoding.EncodeToString(a.PublicKey())})
	return nil
}

// grantInput is the body of POST /api/v1/recordings/{hearing_id}/grants.
type grantInput struct {
	UserID string `json:"user_id"`
	Until  string `json:"until"` // RFC 3339, or YYYY-MM-DD: to the end of that day in the court's time zone
	Reason string `json:"reason"`
}

// MaxGrant is the longest a grant may run: access is given for a purpose (an appeal, a
// complaint), and renewed if it lasts longer.
const MaxGrant = 366 * 24 * time.Hour

type grantView struct {
	ID        string     `json:"id"`
	HearingID string     `json:"hearing_id"`
	UserID    string     `json:"user_id"`
	UserName  string     `json:"user_name"`
	Until     time.Time  `json:"until"`
	Reason    string     `json:"reason"`
	By        string     `json:"by"`
	Created   time.Time  `json:"created"`
	Revoked   *time.Time `json:"revoked"`
	Active    bool       `json:"active"`
}

func (s *Server) grantView(ctx context.Context, g *chuting.RecordingGrant) grantView {
	v := grantView{ID: g.ID, HearingID: g.HearingID, UserID: g.UserID, Until: g.Until.UTC(), Reason: g.Reason, By: g.By,
		Created: g.Created, Revoked: timePtr(g.Revoked), Active: g.Active(s.now())}
	if u, err := chuting.Load[chuting.User](ctx, s.store, g.UserID); err == nil {
		v.UserName = u.Name
	}
	return v
}

// createGrant lets a user see the hearing's recording until a time (#31, #32).
func (s *Server) createGrant(w http.ResponseWriter, r *http.Request) error {
	var in grantInput
	if err := decode(w, r, s.maxBody, &in); err != nil {
		return err
	}
	h, err := s.recordingCourt(r, false)
	if err != nil {
		return err
	}
	in.Reason = strings.TrimSpace(in.Reason)
	if err := firstError(required("user_id", in.UserID), required("until", in.Until), maxLen("reason", in.Reason, 500)); err != nil {
		return err
	}
	u, err := chuting.LoadRef[chuting.User](r.Context(), s.store, "user_id", in.UserID)
	if err != nil {
		return err
	}
	if u.Disabled {
		return chuting.FieldError("user_id", "该用户已停用 / user %s is disabled", u.ID)
	}
	until, err := time.Parse(time.RFC3339, in.Until)
	if err != nil {
		d, derr := chuting.ParseDate(in.Until)
		if derr != nil {
			return chuting.FieldError("until", "until 须为 RFC 3339 时间或 YYYY-MM-DD 日期 / until must be an RFC 3339 time or a date YYYY-MM-DD")
		}
		// To the end of that day where the court sits.
		until = time.Date(d.Year, d.Month, d.Day+1, 0, 0, 0, 0, s.names(r.Context()).court(h.CourtID).Location())
	}
	now := s.now()
	switch {
	case !until.After(now):
		return chuting.FieldError("until", "until 须在将来 / until must be in the future")
	case until.Sub(now) > MaxGrant:
		return chuting.FieldError("until", "授权最长一年 / a grant runs at most a year; renew it when it ends")
	}
	p := chuting.UserFromContext(r.Context())
	g := &chuting.RecordingGrant{HearingID: h.ID, CourtID: h.CourtID, UserID: u.ID, Until: until.UTC(), Reason: in.Reason, By: p.UserID}
	if err := chuting.Create(r.Context(), s.store, g); err != nil {
		return err
	}
	setTarget(r, "recording:"+h.ID+"/grant:"+g.ID)
	writeJSON(w, http.StatusCreated, s.grantView(r.Context(), g))
	return nil
}

// listGrants lists the grants to the hearing's recording, revoked and expired ones included.
func (s *Server) listGrants(w http.ResponseWriter, r *http.Request) error {
	h, err := s.recordingCourt(r, false)
	if err != nil {
		return err
	}
	grants, err := chuting.FindAll[chuting.RecordingGrant](r.Context(), s.store, chuting.Equal(chuting.KindGrant, chuting.IndexHearing, h.ID))
	if err != nil {
		return err
	}
	out := List[grantView]{Items: make([]grantView, 0, len(grants))}
	for _, g := range grants {
		out.Items = append(out.Items, s.grantView(r.Context(), g))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// revokeGrant ends a grant now; it stays on record.
func (s *Server) revokeGrant(w http.ResponseWriter, r *http.Request) error {
	h, err := s.recordingCourt(r, false)
	if err != nil {
		return err
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	setTarget(r, "recording:"+h.ID+"/grant:"+id)
	p := chuting.UserFromContext(r.Context())
	other := false // a grant of another hearing: not found here
	_, err = chuting.Update(r.Context(), s.store, id, func(g *chuting.RecordingGrant) bool {
		if other = g.HearingID != h.ID; other || !g.Revoked.IsZero() {
			return false
		}
		g.Revoked, g.RevokedBy = s.now().UTC(), p.UserID
		return true
	})
	if chuting.ErrorCode(err) == chuting.ENOTFOUND || other {
		return chuting.Errorf(chuting.ENOTFOUND, "没有此授权 / no such grant")
	} else if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// deletionInput is the body of POST /api/v1/recordings/{hearing_id}/deletion.
type deletionInput struct {
	Reason string `json:"reason"`
}

type disposalView struct {
	HearingID  string     `json:"hearing_id"`
	State      string     `json:"state"`
	Expired    time.Time  `json:"expired"`
	RootHash   string     `json:"root_hash"`
	ApprovedBy string     `json:"approved_by,omitempty"`
	Reason     string     `json:"reason,omitempty"`
	Deleted    *time.Time `json:"deleted"`
	Files      int        `json:"files"`
	Bytes      int64      `json:"bytes"`
}

func viewDisposal(d *chuting.RecordingDisposal) disposalView {
	return disposalView{HearingID: d.HearingID, State: d.State, Expired: d.Expired.UTC(), RootHash: d.RootHash,
		ApprovedBy: d.ApprovedBy, Reason: d.Reason, Deleted: timePtr(d.Deleted), Files: d.Files, Bytes: d.Bytes}
}

// deleteRecording deletes an expired recording, due under its court's retention policy,
// with a judge's approval and reason (录音录像规定 art. 15). The approval is audited and the
// disposal record kept.
func (s *Server) deleteRecording(w http.ResponseWriter, r *http.Request) error {
	a, err := s.archive()
	if err != nil {
		return err
	}
	var in deletionInput
	if err := decode(w, r, s.maxBody, &in); err != nil {
		return err
	}
	h, err := s.recordingCourt(r, true)
	if err != nil {
		return err
	}
	in.Reason = strings.TrimSpace(in.Reason)
	if err := firstError(required("reason", in.Reason), maxLen("reason", in.Reason, 500)); err != nil {
		return err
	}
	d, err := a.Dispose(r.Context(), h.ID, chuting.UserFromContext(r.Context()).UserID, in.Reason)
	if err != nil {
		return err
	}
	s.logger.InfoContext(r.Context(), "recording deleted under the retention policy (录像按保存期限删除)", "hearing", h.ID,
		"approved_by", d.ApprovedBy, "reason", d.Reason, "files", d.Files, "bytes", d.Bytes, "root_hash", d.RootHash)
	writeJSON(w, http.StatusOK, viewDisposal(d))
	return nil
}

// retentionInput is the body of PUT /api/v1/courts/{id}/retention.
type retentionInput struct {
	KeepDays *int `json:"keep_days"`
}

// MaxKeepDays bounds a court's keeping period (100 years); 0 keeps for ever.
const MaxKeepDays = 36500

type retentionView struct {
	CourtID  string         `json:"court_id"`
	KeepDays int            `json:"keep_days"` // 0: for ever
	Due      []disposalView `json:"due"`       // recordings awaiting a judge's approval to delete
}

// courtRetention checks that the caller is a judge or clerk of the {id} court (or, to read,
// the bureau) and loads it.
func (s *Server) courtRetention(r *http.Request, write bool) (*chuting.Court, error) {
	c, err := load[chuting.Court](s, r)
	if err != nil {
		return nil, err
	}
	p := chuting.UserFromContext(r.Context())
	if !(courtUser(p) && p.CourtID == c.ID) && (write || p.Role != chuting.RoleBureauAdmin) {
		return nil, chuting.Errorf(chuting.EFORBIDDEN, "只有本法院可以设置录像保存期限 / only the court sets its recordings' retention")
	}
	return c, nil
}

func (s *Server) retentionView(ctx context.Context, c *chuting.Court) (retentionView, error) {
	out := retentionView{CourtID: c.ID, KeepDays: c.RecordingKeepDays, Due: []disposalView{}}
	ds, err := chuting.FindAll[chuting.RecordingDisposal](ctx, s.store, chuting.Equal(chuting.KindDisposal, chuting.IndexCourt, c.ID))
	if err != nil {
		return out, err
	}
	for _, d := range ds {
		if d.State == chuting.DisposalDue {
			out.Due = append(out.Due, viewDisposal(d))
		}
	}
	return out, nil
}

// getRetention answers the court's retention policy and the recordings due for deletion.
func (s *Server) getRetention(w http.ResponseWriter, r *http.Request) error {
	c, err := s.courtRetention(r, false)
	if err != nil {
		return err
	}
	return s.writeRetention(w, r, c)
}

// writeRetention answers c's retention policy and the recordings due for deletion.
func (s *Server) writeRetention(w http.ResponseWriter, r *http.Request, c *chuting.Court) error {
	out, err := s.retentionView(r.Context(), c)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// putRetention sets how long the court keeps its recordings. Shortening it deletes nothing:
// the daily job marks what expired, and a judge approves each deletion.
func (s *Server) putRetention(w http.ResponseWriter, r *http.Request) error {
	var in retentionInput
	if err := decode(w, r, s.maxBody, &in); err != nil {
		return err
	}
	if in.KeepDays == nil {
		return chuting.FieldError("keep_days", "keep_days 不能为空 / keep_days is required (0 keeps for ever)")
	}
	if *in.KeepDays < 0 || *in.KeepDays > MaxKeepDays {
		return chuting.FieldError("keep_days", "keep_days 须在 0 到 %d 之间 / keep_days must be from 0 (for ever) to %d", MaxKeepDays, MaxKeepDays)
	}
	c, err := s.courtRetention(r, true)
	if err != nil {
		return err
	}
	c, err = chuting.Update(r.Context(), s.store, c.ID, func(c *chuting.Court) bool {
		c.RecordingKeepDays = *in.KeepDays
		return true
	})
	if err != nil {
		return err
	}
	return s.writeRetention(w, r, c)
}
