package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestSMTPFlags(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		env := map[string]string{"CHUTING_SMTP_ADDR": "smtp.court.test:587", "CHUTING_SMTP_FROM": "chuting <noreply@court.test>",
			"CHUTING_SMTP_USERNAME": "chuting", "CHUTING_SMTP_PASSWORD": "secret"}
		m := NewMain(io.Discard, io.Discard)
		if err := m.ParseFlags(nil, func(k string) string { return env[k] }); err != nil {
			t.Fatal(err)
		}
		mc := m.Config.mailConfig()
		if mc == nil || mc.Addr != "smtp.court.test:587" || mc.Password != "secret" || mc.TLS != "starttls" {
			t.Fatalf("mail config %+v", mc)
		}
	})
	t.Run("NoAddrNoMail", func(t *testing.T) {
		m := NewMain(io.Discard, io.Discard)
		if err := m.ParseFlags([]string{"--smtp-from", "x@court.test"}, func(string) string { return "" }); err != nil {
			t.Fatal(err)
		}
		if m.Config.mailConfig() != nil {
			t.Fatal("mail configured without --smtp-addr")
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		for _, args := range [][]string{
			{"--smtp-addr", "smtp.court.test:587"}, // no sender
			{"--smtp-addr", "smtp.court.test", "--smtp-from", "x@court.test"},
			{"--smtp-addr", "smtp.court.test:25", "--smtp-from", "x@court.test", "--smtp-tls", "ssl"},
		} {
			m := NewMain(io.Discard, io.Discard)
			if err := m.ParseFlags(args, func(string) string { return "" }); err == nil || !strings.Contains(err.Error(), "smtp") {
				t.Errorf("%v: %v", args, err)
			}
		}
	})
}

// TestServeNotifies runs the server with the demo world: an appraiser's confirmation reaches
// the court's inbox (not the appraisers') and, signed, the court system's webhook registered
// through the API, without waiting for the 30 s retry tick.
func TestServeNotifies(t *testing.T) {
	type call struct {
		header http.Header
		body   []byte
	}
	calls := make(chan call, 10)
	court := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		calls <- call{r.Header.Clone(), body}
	}))
	defer court.Close()

	m := startMain(t, "--data", t.TempDir(), "--demo", "--demo-password", demoPassword, "--webhook-allow-private") // the receiver is on loopback
	clerk := newClient(t, m.Addr())
	clerk.login("clerk", demoPassword)
	code, body := clerk.do("POST", "/api/v1/webhooks", map[string]string{"url": court.URL + "/chuting"})
	var hook struct{ ID, Secret string }
	if err := json.Unmarshal(body, &hook); code != http.StatusCreated || err != nil || hook.Secret == "" {
		t.Fatalf("register webhook: %d %s", code, body)
	}

	// 李明 has confirmed the demo's civil summons; 王芳's confirmation schedules it.
	wangfang := newClient(t, m.Addr())
	wangfang.login("wangfang", demoPassword)
	_, body = wangfang.do("GET", "/api/v1/summons?state=proposed", nil)
	var list struct {
		Items []struct{ ID, CaseNo string } `json:"items"`
	}
	if err := json.Unmarshal(body, &list); err != nil || len(list.Items) == 0 {
		t.Fatalf("wangfang's summons: %s", body)
	}
	if code, body := wangfang.do("POST", "/api/v1/summons/"+list.Items[0].ID+"/confirm", nil); code != http.StatusOK {
		t.Fatalf("confirm: %d %s", code, body)
	}

	events := map[string]bool{}
	for len(events) < 2 {
		select {
		case c := <-calls:
			ts := c.header.Get("X-Chuting-Timestamp")
			mac := hmac.New(sha256.New, []byte(hook.Secret))
			mac.Write([]byte(ts + "."))
			mac.Write(c.body)
			if c.header.Get("X-Chuting-Signature") != "sha256="+hex.EncodeToString(mac.Sum(nil)) {
				t.Fatalf("webhook call %v %s does not verify", c.header, c.body)
			}
			events[c.header.Get("X-Chuting-Event")] = true
		case <-time.After(10 * time.Second):
			t.Fatalf("the court system was told of %v only", events)
		}
	}
	if !events["summons.confirm"] || !events["summons.schedule"] {
		t.Fatalf("the court system was told of %v, want the confirmation and the scheduling", events)
	}

	for _, tc := range []struct {
		user string
		want bool
	}{{"clerk", true}, {"judge", true}, {"center-admin", true}, {"wangfang", false}, {"liming", false}, {"zhengyuan-admin", false}} {
		c := newClient(t, m.Addr())
		c.login(tc.user, demoPassword)
		code, body := c.do("GET", "/api/v1/notices?unread=1", nil)
		if got := strings.Contains(string(body), `"topic":"summons.confirm"`); code != http.StatusOK || got != tc.want {
			t.Errorf("%s's inbox: %d, confirmation there %v, want %v: %.300s", tc.user, code, got, tc.want, body)
		}
	}
}
