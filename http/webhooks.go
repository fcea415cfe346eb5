package http

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/chuting/chuting"
	"github.com/chuting/chuting/auth"
)

// Webhooks: a court's case-management system is told of every change of the court's summons
// by a signed POST (the scheme is in the notify package's documentation). A court's clerks
// and judges manage its webhooks; the bureau those of any court.

// maxWebhookURL is the longest webhook address accepted.
const maxWebhookURL = 2000

// webhookView is a webhook as shown: the secret only in the answer that made it.
type webhookView struct {
	ID       string    `json:"id"`
	Version  int64     `json:"version"`
	CourtID  string    `json:"court_id"`
	URL      string    `json:"url"`
	Disabled bool      `json:"disabled"`
	Created  time.Time `json:"created"`
	Updated  time.Time `json:"updated"`
	// Secret signs the deliveries (HMAC-SHA256); shown once, when the webhook is made.
	Secret string `json:"secret,omitempty"`
}

func viewWebhook(h *chuting.Webhook) webhookView {
	return webhookView{ID: h.ID, Version: h.Version, CourtID: h.CourtID, URL: h.URL, Disabled: h.Disabled,
		Created: h.Created, Updated: h.Updated}
}

// webhookInput is the body of POST /api/v1/webhooks.
type webhookInput struct {
	URL     string `json:"url"`
	CourtID string `json:"court_id"` // the bureau's choice; a court's users may leave it out
}

// deliveryView is one entry of a webhook's delivery log, its payload as the JSON it is.
type deliveryView struct {
	ID          string                `json:"id"`
	WebhookID   string                `json:"webhook_id"`
	CourtID     string                `json:"court_id"`
	Event       string                `json:"event"`
	Payload     json.RawMessage       `json:"payload"`
	State       chuting.DeliveryState `json:"state"`
	Attempts    int                   `json:"attempts"`
	NextAttempt time.Time             `json:"next_attempt,omitzero"`
	LastStatus  int                   `json:"last_status,omitempty"`
	LastError   string                `json:"last_error,omitempty"`
	Created     time.Time             `json:"created"`
	Updated     time.Time             `json:"updated"`
}

func viewDelivery(d *chuting.Delivery) deliveryView {
	payload := json.RawMessage(d.Payload)
	if !json.Valid(payload) {
		payload = json.RawMessage("{}")
	}
	return deliveryView{ID: d.ID, WebhookID: d.WebhookID, CourtID: d.CourtID, Event: d.Event, Payload: payload,
		State: d.State, Attempts: d.Attempts, NextAttempt: d.NextAttempt, LastStatus: d.LastStatus,
		LastError: d.LastError, Created: d.Created, Updated: d.Updated}
}

func (s *Server) listWebhooks(w http.ResponseWriter, r *http.Request) error {
	return list[chuting.Webhook](s, w, r, map[string]string{"court": chuting.IndexCourt}, viewWebhook)
}

// createWebhook registers a webhook and answers with its secret, which is never shown again.
func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request) error {
	var in webhookInput
	if err := decode(w, r, s.maxBody, &in); err != nil {
		return err
	}
	p := chuting.UserFromContext(r.Context())
	in.URL, in.CourtID = strings.TrimSpace(in.URL), strings.TrimSpace(in.CourtID)
	if in.CourtID == "" && courtUser(p) {
		in.CourtID = p.CourtID
	}
	if err := firstError(checkWebhookURL(in.URL), required("court_id", in.CourtID)); err != nil {
		return err
	}
	court, err := chuting.LoadRef[chuting.Court](r.Context(), s.store, "court_id", in.CourtID)
	if err != nil {
		return err
	}
	h := &chuting.Webhook{CourtID: court.ID, URL: in.URL, Secret: "whsec_" + auth.NewSecret()}
	return create(s, w, r, h, func(h *chuting.Webhook) any {
		v := viewWebhook(h)
		v.Secret = h.Secret
		return v
	})
}

// checkWebhookURL accepts an absolute http or https URL of at most maxWebhookURL characters.
func checkWebhookURL(s string) error {
	if s == "" {
		return chuting.FieldError("url", "url 不能为空 / url is required")
	}
	if len(s) > maxWebhookURL {
		return chuting.FieldError("url", "url 超过 %d 个字符 / url is longer than %d characters", maxWebhookURL, maxWebhookURL)
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "" {
		return chuting.FieldError("url", "url 须为 http 或 https 的完整地址 / url must be an absolute http or https URL")
	}
	return nil
}

// deleteWebhook removes a webhook; its delivery log stays, and pending deliveries fail.
func (s *Server) deleteWebhook(w http.ResponseWriter, r *http.Request) error {
	h, err := load[chuting.Webhook](s, r)
	if err != nil {
		return err
	}
	if !canWrite(chuting.UserFromContext(r.Context()), h) {
		return forbidden()
	}
	if err := chuting.Remove(r.Context(), s.store, h); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// listDeliveries answers a webhook's delivery log, oldest first.
func (s *Server) listDeliveries(w http.ResponseWriter, r *http.Request) error {
	h, err := load[chuting.Webhook](s, r)
	if err != nil {
		return err
	}
	p := chuting.UserFromContext(r.Context())
	q, _, err := listQuery(r, p, chuting.KindDelivery, nil)
	if err != nil {
		return err
	}
	// The webhook is the caller's (load checked it), so all its deliveries are too.
	eq := chuting.Equal(chuting.KindDelivery, chuting.IndexWebhook, h.ID)
	q.Index, q.From, q.To = eq.Index, eq.From, eq.To
	found, next, err := chuting.Find[chuting.Delivery](r.Context(), s.store, q)
	if err != nil {
		return err
	}
	out := List[deliveryView]{Items: make([]deliveryView, 0, len(found))}
	for _, d := range found {
		if canRead(p, d) {
			out.Items = append(out.Items, viewDelivery(d))
		}
	}
	if next != "" {
		out.Next = cursor(next)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
