package http_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/chuting/chuting"
	chutinghttp "github.com/chuting/chuting/http"
)

// The device self-test's upload (#19, #47): any signed-in user, with the session's CSRF
// token; the server reads it all and says how much came; more than the limit is refused.
func TestSelfTestUpload(t *testing.T) {
	fx := newFixture(t)
	c := fx.sessionCaller(chuting.RoleAppraiser)
	t.Run("OK", func(t *testing.T) {
		body := bytes.Repeat([]byte{7}, 1<<20)
		res, data := fx.doHeaders(c, "POST", "/api/v1/selftest/upload", body,
			map[string]string{"Content-Type": "application/octet-stream"})
		var v struct {
			Bytes int64 `json:"bytes"`
		}
		if res.StatusCode != http.StatusOK || json.Unmarshal(data, &v) != nil || v.Bytes != 1<<20 {
			t.Fatalf("%d %s", res.StatusCode, data)
		}
	})
	t.Run("ErrTooLarge", func(t *testing.T) {
		body := bytes.Repeat([]byte{7}, chutinghttp.SelfTestMaxBytes+1)
		res, data := fx.doHeaders(c, "POST", "/api/v1/selftest/upload", body,
			map[string]string{"Content-Type": "application/octet-stream"})
		if res.StatusCode != http.StatusRequestEntityTooLarge {
			t.Fatalf("%d %s", res.StatusCode, data)
		}
	})
	t.Run("ErrNoCSRF", func(t *testing.T) {
		c := c
		c.csrf = ""
		res, data := fx.doHeaders(c, "POST", "/api/v1/selftest/upload", []byte("x"),
			map[string]string{"Content-Type": "application/octet-stream"})
		if res.StatusCode != http.StatusForbidden {
			t.Fatalf("%d %s", res.StatusCode, data)
		}
	})
}
