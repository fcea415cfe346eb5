package http_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chuting/chuting"
)

// webhook stores a webhook of court with one pending delivery in its log.
func (fx *fixture) webhook(court *chuting.Court) *chuting.Webhook {
	fx.t.Helper()
	h := &chuting.Webhook{CourtID: court.ID, URL: "https://court.example/" + fx.unique("hook"), Secret: "whsec_test"}
	fx.create(h)
	fx.create(&chuting.Delivery{WebhookID: h.ID, CourtID: court.ID, Event: "summons.served",
		Payload: []byte(`{"event":"summons.served","summons":{"id":"x"}}`), State: chuting.DeliveryPending,
		NextAttempt: time.Now()})
	return h
}

type webhookAnswer struct {
	ID      string `json:"id"`
	CourtID string `json:"court_id"`
	URL     string `json:"url"`
	Secret  string `json:"secret"`
}

// TestWebhooks: registering a webhook shows its secret once; listings never do; addresses
// are checked; the delivery log shows each payload as JSON.
func TestWebhooks(t *testing.T) {
	fx := newFixture(t)
	own, other := fx.own(), fx.other()
	clerk := fx.sessionCaller(chuting.RoleClerk)

	res, body := fx.do(clerk, "POST", "/api/v1/webhooks", map[string]any{"url": "https://court.example/chuting"})
	var made webhookAnswer
	fx.must(json.Unmarshal(body, &made))
	if res.StatusCode != http.StatusCreated || made.CourtID != own.court.ID || !strings.HasPrefix(made.Secret, "whsec_") ||
		len(made.Secret) < 40 {
		t.Fatalf("create: %d %s", res.StatusCode, body)
	}
	stored, err := chuting.Load[chuting.Webhook](t.Context(), fx.store, made.ID)
	if err != nil || stored.Secret != made.Secret {
		t.Fatalf("stored %+v, %v", stored, err)
	}

	t.Run("SecretShownOnce", func(t *testing.T) {
		for _, c := range []caller{clerk, fx.tokenCaller(chuting.RoleJudge), fx.tokenCaller(chuting.RoleBureauAdmin)} {
			res, body := fx.do(c, "GET", "/api/v1/webhooks", nil)
			if res.StatusCode != http.StatusOK || !strings.Contains(string(body), made.ID) ||
				strings.Contains(string(body), made.Secret) || strings.Contains(string(body), `"secret"`) {
				t.Fatalf("%s lists %d %s", c.comment, res.StatusCode, body)
			}
		}
	})
	t.Run("OwnCourtOnly", func(t *testing.T) {
		theirs := fx.webhook(other.court)
		_, body := fx.do(fx.tokenCaller(chuting.RoleClerk), "GET", "/api/v1/webhooks", nil)
		if strings.Contains(string(body), theirs.ID) {
			t.Fatalf("a clerk sees another court's webhook: %s", body)
		}
		_, body = fx.do(fx.tokenCaller(chuting.RoleBureauAdmin), "GET", "/api/v1/webhooks?court="+other.court.ID, nil)
		if !strings.Contains(string(body), theirs.ID) || strings.Contains(string(body), made.ID) {
			t.Fatalf("the bureau's listing of the other court: %s", body)
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		tests := []struct {
			name  string
			c     caller
			body  map[string]any
			field string
		}{
			{"NoURL", clerk, map[string]any{}, "url"},
			{"Relative", clerk, map[string]any{"url": "/chuting"}, "url"},
			{"NotHTTP", clerk, map[string]any{"url": "ftp://court.example/x"}, "url"},
			{"NoHost", clerk, map[string]any{"url": "https:///x"}, "url"},
			{"TooLong", clerk, map[string]any{"url": "https://court.example/" + strings.Repeat("a", 2000)}, "url"},
			{"Garbled", clerk, map[string]any{"url": "http://[::1"}, "url"},
			{"BureauWithoutCourt", fx.tokenCaller(chuting.RoleBureauAdmin), map[string]any{"url": "https://court.example/x"}, "court_id"},
			{"UnknownCourt", fx.tokenCaller(chuting.RoleBureauAdmin), map[string]any{"url": "https://court.example/x", "court_id": chuting.NewID()}, "court_id"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				before := fx.snapshot()
				res, body := fx.do(tc.c, "POST", "/api/v1/webhooks", tc.body)
				if e := errorOf(t, body); res.StatusCode != http.StatusBadRequest || e.Field != tc.field {
					t.Fatalf("%d %s, want 400 naming %s", res.StatusCode, body, tc.field)
				}
				if after := fx.snapshot(); len(after) != len(before) {
					t.Fatal("a refused webhook was stored")
				}
			})
		}
	})
	t.Run("DeliveryLog", func(t *testing.T) {
		h := fx.webhook(own.court)
		res, body := fx.do(clerk, "GET", "/api/v1/webhooks/"+h.ID+"/deliveries", nil)
		var l struct {
			Items []struct {
				WebhookID string          `json:"webhook_id"`
				State     string          `json:"state"`
				Payload   json.RawMessage `json:"payload"`
			} `json:"items"`
		}
		fx.must(json.Unmarshal(body, &l))
		if res.StatusCode != http.StatusOK || len(l.Items) != 1 || l.Items[0].WebhookID != h.ID || l.Items[0].State != "pending" ||
			!strings.HasPrefix(string(l.Items[0].Payload), `{"event":"summons.served"`) {
			t.Fatalf("delivery log: %d %s", res.StatusCode, body)
		}
	})
	t.Run("Delete", func(t *testing.T) {
		res, body := fx.do(clerk, "DELETE", "/api/v1/webhooks/"+made.ID, nil)
		if res.StatusCode != http.StatusNoContent {
			t.Fatalf("delete: %d %s", res.StatusCode, body)
		}
		if _, err := chuting.Load[chuting.Webhook](t.Context(), fx.store, made.ID); chuting.ErrorCode(err) != chuting.ENOTFOUND {
			t.Fatalf("still stored: %v", err)
		}
		res, _ = fx.do(clerk, "GET", "/api/v1/webhooks/"+made.ID+"/deliveries", nil)
		if res.StatusCode != http.StatusNotFound {
			t.Fatalf("deliveries of a deleted webhook: %d", res.StatusCode)
		}
	})
}
