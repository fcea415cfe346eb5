package notify_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chuting/chuting"
	"github.com/chuting/chuting/notify"
	"github.com/chuting/chuting/scheduler"
)

// call is one request a receiver got.
type call struct {
	header http.Header
	body   []byte
	err    error // the receiver's verification of the signature
}

// receiver is a court system's webhook endpoint on loopback. It verifies each call as a court
// system would and answers with status(n) for the n-th call (from 1).
type receiver struct {
	srv    *httptest.Server
	secret string
	now    func() time.Time
	status func(n int) int
	delay  time.Duration

	mu    sync.Mutex
	calls []call
}

func newReceiver(t *testing.T, w *world, status func(n int) int) *receiver {
	t.Helper()
	r := &receiver{secret: "whsec_" + strings.Repeat("k", 20), now: w.clock.Now, status: status}
	release := make(chan struct{})
	r.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, req *http.Request) {
		body, err := io.ReadAll(req.Body)
		if err == nil {
			err = verify(r.secret, req.Header, body, r.now())
		}
		r.mu.Lock()
		r.calls = append(r.calls, call{header: req.Header.Clone(), body: body, err: err})
		n := len(r.calls)
		r.mu.Unlock()
		if r.delay > 0 {
			select {
			case <-time.After(r.delay):
			case <-req.Context().Done():
			case <-release:
			}
		}
		rw.WriteHeader(r.status(n))
	}))
	t.Cleanup(func() { close(release); r.srv.Close() })
	return r
}

// verify checks a call the way a court system does: the timestamp is recent and the
// signature is the HMAC-SHA256 of timestamp "." body under the shared secret.
func verify(secret string, h http.Header, body []byte, now time.Time) error {
	ts := h.Get("X-Chuting-Timestamp")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("timestamp %q", ts)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return fmt.Errorf("timestamp %s is %s off: a replay?", ts, d)
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	want := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	if !hmac.Equal([]byte(h.Get("X-Chuting-Signature")), []byte(want)) {
		return errors.New("signature mismatch")
	}
	return nil
}

func (r *receiver) got() []call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]call(nil), r.calls...)
}

// hook registers r as a webhook of the world's court.
func (w *world) hook(r *receiver) *chuting.Webhook {
	w.t.Helper()
	h := &chuting.Webhook{CourtID: w.court.ID, URL: r.srv.URL + "/chuting", Secret: r.secret}
	w.create(h)
	return h
}

// deliveries returns the deliveries of webhook h, oldest first.
func (w *world) deliveries(h *chuting.Webhook) []*chuting.Delivery {
	w.t.Helper()
	ds, err := chuting.FindAll[chuting.Delivery](w.ctx, w.store, chuting.Equal(chuting.KindDelivery, chuting.IndexWebhook, h.ID))
	if err != nil {
		w.t.Fatal(err)
	}
	return ds
}

// retry runs RetryDue and checks how many deliveries it attempted.
func (w *world) retry(want int) {
	w.t.Helper()
	n, err := w.svc.RetryDue(w.ctx)
	if err != nil || n != want {
		w.t.Fatalf("RetryDue = %d, %v; want %d attempted", n, err, want)
	}
}

func always(status int) func(int) int { return func(int) int { return status } }

// publicOnly names the tests whose worlds keep the default webhook client, which refuses
// private addresses.
var publicOnly = map[string]bool{"TestWebhookRefusesPrivate": true}

// TestWebhookRefusesPrivate: by default a webhook cannot reach loopback or a private network
// (a clerk must not aim the server at its own network), and the log says why.
func TestWebhookRefusesPrivate(t *testing.T) {
	w := newWorld(t, notify.Config{})
	r := newReceiver(t, w, always(http.StatusNoContent))
	h := w.hook(r)
	w.serve()
	w.retry(1)
	if n := len(r.got()); n != 0 {
		t.Fatalf("the loopback receiver got %d calls", n)
	}
	ds := w.deliveries(h)
	if len(ds) != 1 || ds[0].State != chuting.DeliveryFailed || !strings.Contains(ds[0].LastError, "not a public address") {
		t.Fatalf("deliveries %+v", ds)
	}
}

// TestWebhookSigned: the court's system receives the event, signed so that it can verify it
// with the shared secret; a changed body or another secret does not verify.
func TestWebhookSigned(t *testing.T) {
	w := newWorld(t, notify.Config{})
	r := newReceiver(t, w, always(http.StatusNoContent))
	h := w.hook(r)
	w.create(&chuting.Webhook{CourtID: w.court.ID, URL: r.srv.URL + "/off", Secret: "x", Disabled: true})
	sm := w.serve()
	w.retry(1)

	calls := r.got()
	if len(calls) != 1 {
		t.Fatalf("%d calls, want 1 (the disabled webhook gets none)", len(calls))
	}
	c := calls[0]
	if c.err != nil {
		t.Fatalf("the receiver cannot verify the call: %v", c.err)
	}
	ds := w.deliveries(h)
	if len(ds) != 1 {
		t.Fatalf("%d deliveries", len(ds))
	}
	d := ds[0]
	if c.header.Get("Content-Type") != "application/json" || c.header.Get("X-Chuting-Event") != "summons.served" ||
		c.header.Get("X-Chuting-Delivery") != d.ID {
		t.Errorf("headers %v", c.header)
	}
	var p struct {
		Event    string    `json:"event"`
		Delivery string    `json:"delivery"`
		Time     time.Time `json:"time"`
		Summons  struct {
			ID     string        `json:"id"`
			CaseNo string        `json:"case_no"`
			State  string        `json:"state"`
			Slot   *chuting.Slot `json:"slot"`
		} `json:"summons"`
	}
	if err := json.Unmarshal(c.body, &p); err != nil {
		t.Fatal(err)
	}
	if p.Event != "summons.served" || p.Delivery != d.ID || p.Summons.ID != sm.ID || p.Summons.CaseNo != sm.CaseNo ||
		p.Summons.State != "proposed" || p.Summons.Slot == nil || !p.Summons.Slot.Start.Equal(sm.Slot.Start) || p.Time.IsZero() {
		t.Errorf("payload %s", c.body)
	}
	if d.State != chuting.DeliveryDelivered || d.Attempts != 1 || d.LastStatus != http.StatusNoContent || d.LastError != "" {
		t.Errorf("delivery %+v, want delivered at the first attempt", d)
	}

	t.Run("ErrTampered", func(t *testing.T) {
		if verify(r.secret, c.header, append(c.body, ' '), w.clock.Now()) == nil {
			t.Fatal("a changed body verifies")
		}
		if verify("another secret", c.header, c.body, w.clock.Now()) == nil {
			t.Fatal("another secret verifies")
		}
		if verify(r.secret, c.header, c.body, w.clock.Now().Add(time.Hour)) == nil {
			t.Fatal("an hour-old call verifies")
		}
	})
	t.Run("EveryStep", func(t *testing.T) {
		w.ack(sm.ID, "admin")
		w.act(sm.ID, "a0", scheduler.Step{Action: scheduler.Confirm})
		w.retry(2)
		// Deliveries due together may arrive in any order; summons.version orders them.
		bodies := map[string]string{}
		for _, c := range r.got()[1:] {
			bodies[c.header.Get("X-Chuting-Event")] = string(c.body)
		}
		if len(bodies) != 2 || !strings.Contains(bodies["summons.receipt"], `"receipt":{"party":"institution"`) ||
			!strings.Contains(bodies["summons.confirm"], `"transition":{`) ||
			!strings.Contains(bodies["summons.confirm"], `"version":3`) {
			t.Fatalf("payloads %v", bodies)
		}
	})
}

// TestWebhookRetried: a receiver answering 500 twice, then 200, gets the delivery three times,
// each after its backoff; it ends delivered with 3 attempts.
func TestWebhookRetried(t *testing.T) {
	w := newWorld(t, notify.Config{})
	r := newReceiver(t, w, func(n int) int {
		if n <= 2 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	h := w.hook(r)
	w.serve()
	w.retry(1)
	d := w.deliveries(h)[0]
	if d.State != chuting.DeliveryPending || d.Attempts != 1 || d.LastStatus != 500 || !strings.Contains(d.LastError, "HTTP 500") ||
		!d.NextAttempt.Equal(w.clock.Now().Add(30*time.Second)) {
		t.Fatalf("after a 500: %+v, want pending, retried in 30 s", d)
	}
	w.clock.Add(29 * time.Second)
	w.retry(0) // not yet due
	w.clock.Add(time.Second)
	w.retry(1)
	d = w.deliveries(h)[0]
	if d.Attempts != 2 || !d.NextAttempt.Equal(w.clock.Now().Add(notify.Backoff(2))) || notify.Backoff(2) != 2*time.Minute {
		t.Fatalf("after the second 500: %+v, want retried in 2 min", d)
	}
	w.clock.Add(2 * time.Minute)
	w.retry(1)
	d = w.deliveries(h)[0]
	if d.State != chuting.DeliveryDelivered || d.Attempts != 3 || d.LastStatus != 200 || d.LastError != "" {
		t.Fatalf("after the 200: %+v, want delivered with 3 attempts", d)
	}
	calls := r.got()
	for i, c := range calls {
		if c.err != nil || c.header.Get("X-Chuting-Delivery") != d.ID {
			t.Errorf("call %d: %v, delivery %s", i, c.err, c.header.Get("X-Chuting-Delivery"))
		}
	}
	if calls[0].header.Get("X-Chuting-Timestamp") == calls[2].header.Get("X-Chuting-Timestamp") {
		t.Error("each attempt must carry its own timestamp")
	}
	w.clock.Add(24 * time.Hour)
	w.retry(0)
}

// TestWebhookFails: a receiver that always fails is tried MaxAttempts times, each after its
// backoff, then the delivery is failed and never tried again.
func TestWebhookFails(t *testing.T) {
	w := newWorld(t, notify.Config{})
	r := newReceiver(t, w, always(http.StatusServiceUnavailable))
	h := w.hook(r)
	w.serve()
	want := []time.Duration{30 * time.Second, 2 * time.Minute, 10 * time.Minute, time.Hour, 6 * time.Hour}
	for n := 1; n <= notify.MaxAttempts; n++ {
		w.retry(1)
		d := w.deliveries(h)[0]
		if n == notify.MaxAttempts {
			if d.State != chuting.DeliveryFailed || d.Attempts != n || d.LastStatus != 503 {
				t.Fatalf("after the last attempt: %+v, want failed", d)
			}
			break
		}
		if d.State != chuting.DeliveryPending || d.Attempts != n || !d.NextAttempt.Equal(w.clock.Now().Add(want[n-1])) {
			t.Fatalf("after attempt %d: %+v, want pending, next in %s", n, d, want[n-1])
		}
		w.clock.Add(want[n-1])
	}
	w.clock.Add(48 * time.Hour)
	w.retry(0)
	if got := len(r.got()); got != notify.MaxAttempts {
		t.Fatalf("%d calls, want %d", got, notify.MaxAttempts)
	}
	if n := counter(t, w.svc, "chuting_notify_webhook_attempts_total", "failed"); n != 1 {
		t.Errorf("failed counter %v", n)
	}
}

// TestWebhookTimeout: a receiver that does not answer in time costs one attempt, recorded as a
// timeout, and the delivery is retried later.
func TestWebhookTimeout(t *testing.T) {
	w := newWorld(t, notify.Config{Client: &http.Client{Timeout: 300 * time.Millisecond}})
	r := newReceiver(t, w, always(http.StatusOK))
	r.delay = time.Minute
	h := w.hook(r)
	w.serve()
	start := time.Now()
	w.retry(1)
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("the attempt took %s", d)
	}
	d := w.deliveries(h)[0]
	if d.State != chuting.DeliveryPending || d.Attempts != 1 || d.LastStatus != 0 || !strings.Contains(d.LastError, "timeout") ||
		!d.NextAttempt.Equal(w.clock.Now().Add(30*time.Second)) {
		t.Fatalf("after a timeout: %+v", d)
	}
}

// TestWebhookGone: a delivery whose webhook was deleted fails at once instead of retrying.
func TestWebhookGone(t *testing.T) {
	w := newWorld(t, notify.Config{})
	r := newReceiver(t, w, always(http.StatusOK))
	h := w.hook(r)
	w.serve()
	if err := chuting.Remove(w.ctx, w.store, h); err != nil {
		t.Fatal(err)
	}
	w.retry(1)
	d := w.deliveries(h)[0]
	if d.State != chuting.DeliveryFailed || len(r.got()) != 0 {
		t.Fatalf("delivery of a deleted webhook: %+v, %d calls", d, len(r.got()))
	}
}

// TestWebhookConcurrentRetry: two RetryDue calls at once (two nodes, or a cron tick and Run)
// deliver each delivery exactly once.
func TestWebhookConcurrentRetry(t *testing.T) {
	w := newWorld(t, notify.Config{})
	r := newReceiver(t, w, always(http.StatusOK))
	r.delay = 10 * time.Millisecond
	var hooks []*chuting.Webhook
	for range 4 {
		hooks = append(hooks, w.hook(r))
	}
	for range 3 {
		w.serve()
	}
	const total = 12
	var (
		wg sync.WaitGroup
		n  [2]int
	)
	for i := range n {
		wg.Go(func() {
			var err error
			if n[i], err = w.svc.RetryDue(w.ctx); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n[0]+n[1] != total {
		t.Errorf("attempted %d + %d, want %d in all", n[0], n[1], total)
	}
	per := map[string]int{}
	for _, c := range r.got() {
		per[c.header.Get("X-Chuting-Delivery")]++
	}
	if len(per) != total {
		t.Errorf("%d deliveries reached the receiver, want %d", len(per), total)
	}
	for id, k := range per {
		if k != 1 {
			t.Errorf("delivery %s sent %d times", id, k)
		}
	}
	for _, h := range hooks {
		for _, d := range w.deliveries(h) {
			if d.State != chuting.DeliveryDelivered || d.Attempts != 1 {
				t.Errorf("delivery %+v", d)
			}
		}
	}
}

// TestRunDelivers: Run sends a new delivery at once (not at the next 30 s tick) and stops
// with its context, leaving no goroutine behind.
func TestRunDelivers(t *testing.T) {
	checkRoutines(t)
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	w := newWorld(t, notify.Config{Client: &http.Client{Transport: tr}})
	r := newReceiver(t, w, always(http.StatusOK))
	w.hook(r)
	w.run()
	w.serve()
	deadline := time.Now().Add(5 * time.Second)
	for len(r.got()) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if len(r.got()) != 1 {
		t.Fatalf("Run made %d calls within 5 s, want 1", len(r.got()))
	}
}
