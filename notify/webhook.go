package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chuting/chuting"
)

// Webhook delivery limits.
const (
	// Timeout is how long a receiver has to answer one attempt.
	Timeout = 10 * time.Second
	// MaxAttempts is how many times a delivery is tried before it is marked failed.
	MaxAttempts = 6
	// lease is how far a claim moves a delivery's next attempt: longer than an attempt
	// takes, so nobody else takes it meanwhile, and short enough that a delivery whose
	// caller died is soon tried again.
	lease = 2 * time.Minute
	// parallel is how many deliveries RetryDue attempts at once, so one dead receiver
	// (a 10 s timeout each) does not hold up every other court.
	parallel = 4
)

// backoff is the wait after each failed attempt.
var backoff = [...]time.Duration{30 * time.Second, 2 * time.Minute, 10 * time.Minute, time.Hour, 6 * time.Hour}

// Backoff returns how long a delivery waits after its n-th failed attempt (n ≥ 1) before the
// next: 30 s, 2 min, 10 min, 1 h, then 6 h.
func Backoff(n int) time.Duration {
	return backoff[min(max(n, 1), len(backoff))-1]
}

// Headers of a webhook call. See the package documentation for the signature scheme.
const (
	HeaderEvent     = "X-Chuting-Event"
	HeaderDelivery  = "X-Chuting-Delivery"
	HeaderTimestamp = "X-Chuting-Timestamp"
	HeaderSignature = "X-Chuting-Signature"
)

// Payload is the JSON body of a webhook call.
type Payload struct {
	Event      string              `json:"event"`
	Delivery   string              `json:"delivery"`
	Time       time.Time           `json:"time"`
	Summons    SummonsPayload      `json:"summons"`
	Transition *chuting.Transition `json:"transition,omitempty"`
	Receipt    *chuting.Receipt    `json:"receipt,omitempty"`
	// FeeRefund is the fee-refund task opened for the court by an absence without cause
	// (event attendance.absent_without_cause).
	FeeRefund *chuting.FeeRefund `json:"fee_refund,omitempty"`
}

// SummonsPayload is the summons as a webhook shows it: where it stands, not all it holds.
type SummonsPayload struct {
	ID            string               `json:"id"`
	Version       int64                `json:"version"`
	CourtID       string               `json:"court_id"`
	CaseNo        string               `json:"case_no"`
	CaseType      chuting.CaseType     `json:"case_type"`
	InstitutionID string               `json:"institution_id"`
	AppraiserIDs  []string             `json:"appraiser_ids"`
	Mode          chuting.Mode         `json:"mode"`
	State         chuting.SummonsState `json:"state"`
	ServedAt      time.Time            `json:"served_at,omitzero"`
	Slot          *chuting.Slot        `json:"slot,omitempty"`
	HearingID     string               `json:"hearing_id,omitempty"`
	Outcome       string               `json:"outcome,omitempty"`
}

// enqueueDeliveries stores a pending delivery of ev for each enabled webhook of the court, and
// wakes Run to send them.
func (s *Service) enqueueDeliveries(ctx context.Context, ev event) error {
	sm := ev.Summons
	if sm.CourtID == "" {
		return nil
	}
	hooks, err := chuting.FindAll[chuting.Webhook](ctx, s.store, chuting.Equal(chuting.KindWebhook, chuting.IndexCourt, sm.CourtID))
	if err != nil {
		return fmt.Errorf("webhooks of court %s: %w", sm.CourtID, err)
	}
	p := Payload{Event: ev.topic, Time: ev.time.UTC(), Transition: ev.Transition, Receipt: ev.Receipt, FeeRefund: ev.FollowUp,
		Summons: SummonsPayload{ID: sm.ID, Version: sm.Version, CourtID: sm.CourtID, CaseNo: sm.CaseNo,
			CaseType: sm.CaseType, InstitutionID: sm.InstitutionID, AppraiserIDs: sm.Summoned(), Mode: sm.Mode,
			State: sm.State, ServedAt: sm.ServedAt, Slot: sm.Slot, HearingID: sm.HearingID, Outcome: sm.Outcome}}
	now := s.now()
	var errs []error
	for _, h := range hooks {
		if h.Disabled {
			continue
		}
		d := &chuting.Delivery{Meta: chuting.Meta{ID: chuting.NewID()}, WebhookID: h.ID, CourtID: h.CourtID,
			Event: ev.topic, State: chuting.DeliveryPending, NextAttempt: now}
		if ev.key != "" {
			d.ID = chuting.IDOf("delivery/" + ev.key + "/" + h.ID)
		}
		p.Delivery = d.ID
		if d.Payload, err = json.Marshal(p); err != nil {
			return fmt.Errorf("encode webhook payload: %w", err)
		}
		if err := chuting.Create(ctx, s.store, d); err != nil && (ev.key == "" || chuting.ErrorCode(err) != chuting.ECONFLICT) {
			errs = append(errs, fmt.Errorf("delivery to webhook %s: %w", h.ID, err))
		}
	}
	if len(hooks) > 0 {
		select {
		case s.kick <- struct{}{}:
		default: // Run is already due to look
		}
	}
	return errors.Join(errs...)
}

// RetryDue attempts every pending delivery whose next attempt is due, a few at a time, and
// returns how many it attempted. A delivery claimed by another caller meanwhile is skipped,
// so concurrent calls (on one node or several) attempt each delivery once. The error is the
// store's, when it could not list what is due; failed attempts are recorded, not returned.
func (s *Service) RetryDue(ctx context.Context) (int, error) {
	now := s.now()
	q := chuting.Query{Kind: chuting.KindDelivery, Index: chuting.IndexDue, To: chuting.TimeKey(now) + "\x00"}
	var (
		wg        sync.WaitGroup
		sem       = make(chan struct{}, parallel)
		attempted atomic.Int64
	)
	for {
		page, next, err := chuting.Find[chuting.Delivery](ctx, s.store, q)
		if err != nil {
			wg.Wait()
			return int(attempted.Load()), fmt.Errorf("list due deliveries: %w", err)
		}
		for _, d := range page {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				wg.Wait()
				return int(attempted.Load()), nil
			}
			wg.Go(func() {
				defer func() { <-sem }()
				if s.attempt(ctx, d) {
					attempted.Add(1)
				}
			})
		}
		if next == "" {
			wg.Wait()
			return int(attempted.Load()), nil
		}
		q.After = next
	}
}

// errGone marks a delivery that can never succeed: its webhook was deleted or disabled.
var errGone = errors.New("webhook deleted or disabled")

// attempt claims d and, if the claim wins, calls its webhook and records the outcome. It
// reports whether it called.
func (s *Service) attempt(ctx context.Context, d *chuting.Delivery) bool {
	d.Attempts++
	d.NextAttempt = s.now().Add(lease)
	if err := chuting.Save(ctx, s.store, d); err != nil {
		if c := chuting.ErrorCode(err); c != chuting.ECONFLICT && c != chuting.ENOTFOUND {
			s.logger.Warn("claim webhook delivery", "delivery", d.ID, "err", err)
		}
		return false // someone else has it, or it is gone
	}
	status, err := s.call(ctx, d)
	s.record(context.WithoutCancel(ctx), d, status, err)
	return true
}

// call POSTs d to its webhook, signed, and returns the status; the error is nil only for 2xx.
func (s *Service) call(ctx context.Context, d *chuting.Delivery) (int, error) {
	h, err := chuting.Load[chuting.Webhook](ctx, s.store, d.WebhookID)
	if chuting.ErrorCode(err) == chuting.ENOTFOUND || err == nil && h.Disabled {
		return 0, errGone
	} else if err != nil {
		return 0, fmt.Errorf("load webhook: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, bytes.NewReader(d.Payload))
	if err != nil {
		return 0, fmt.Errorf("%w: %w", errGone, err) // a URL that cannot be called now never can
	}
	ts := strconv.FormatInt(s.now().Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "chuting-webhook/1")
	req.Header.Set(HeaderEvent, d.Event)
	req.Header.Set(HeaderDelivery, d.ID)
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderSignature, Sign(h.Secret, ts, d.Payload))
	res, err := s.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10)) // so the connection can be reused
	if res.StatusCode >= 200 && res.StatusCode < 300 {
		return res.StatusCode, nil
	}
	// Only the status: the body of whatever answered is not shown to the clerk who reads the
	// delivery log (it could be a page of an internal service).
	return res.StatusCode, fmt.Errorf("HTTP %d %s", res.StatusCode, http.StatusText(res.StatusCode))
}

// Sign returns the X-Chuting-Signature of body sent at timestamp (Unix seconds) with secret:
// "sha256=" and the hex HMAC-SHA256 of timestamp + "." + body.
func Sign(secret, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(timestamp))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// record saves the outcome of an attempt on d: delivered, failed for good, or pending again
// after the backoff.
func (s *Service) record(ctx context.Context, d *chuting.Delivery, status int, callErr error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	d.LastStatus, d.LastError = status, ""
	outcome := "delivered"
	switch {
	case callErr == nil:
		d.State, d.NextAttempt = chuting.DeliveryDelivered, time.Time{}
	case errors.Is(callErr, errGone) || d.Attempts >= MaxAttempts:
		d.State, d.NextAttempt, outcome = chuting.DeliveryFailed, time.Time{}, "failed"
	default:
		d.NextAttempt, outcome = s.now().Add(Backoff(d.Attempts)), "retry"
	}
	if callErr != nil {
		d.LastError = describe(callErr)
	}
	s.attempts.WithLabelValues(outcome).Inc()
	log := s.logger.Info
	if outcome != "delivered" {
		log = s.logger.Warn
	}
	log("webhook delivery", "delivery", d.ID, "webhook", d.WebhookID, "event", d.Event, "attempt", d.Attempts,
		"outcome", outcome, "status", status, "err", d.LastError)
	if err := chuting.Save(ctx, s.store, d); err != nil {
		// The claim's lease runs out and the delivery is tried again: at least once.
		s.logger.Error("record webhook delivery", "delivery", d.ID, "err", err)
	}
}

// describe returns the text kept in Delivery.LastError (and logged): short, saying "timeout"
// for one, and without the URL's query or user information, where receivers put their keys
// (?access_token=…), which net/http's errors quote.
func describe(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil {
			u.RawQuery, u.User, u.Fragment = "", nil, ""
			ue = &url.Error{Op: ue.Op, URL: u.String(), Err: ue.Err}
			err = ue
		}
	}
	msg := err.Error()
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded) {
		msg = "timeout: " + msg
	}
	if r := []rune(msg); len(r) > 300 {
		msg = string(r[:300]) + "…"
	}
	return msg
}
