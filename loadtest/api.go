package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// api is the part of the HTTP API the tool uses: join tokens for the judge, the clerk and the
// appraiser (POST /api/v1/hearings/{id}/join-token with their API tokens), and personal links
// for counsel, parties and expert advisers (POST /api/v1/hearings/{id}/links as the judge,
// then POST /api/v1/links/redeem, as the link page does).
type api struct {
	base string
	hc   *http.Client
}

func newAPI(base string) *api {
	return &api{base: strings.TrimRight(base, "/"), hc: &http.Client{Timeout: 15 * time.Second}}
}

// call sends a JSON request and decodes the JSON answer into out; an answer other than 2xx
// is an error with the server's message.
func (a *api) call(ctx context.Context, method, path, bearer string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	res, err := a.hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s: %s", method, path, res.Status, bytes.TrimSpace(data))
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s %s: %w", method, path, err)
		}
	}
	return nil
}

// joinToken returns a join token for role in hearing h, and the room's WebSocket path.
func (a *api) joinToken(ctx context.Context, h WorldHearing, role, name string) (token, room string, err error) {
	var v struct {
		Token string `json:"token"`
		Room  string `json:"room"`
	}
	path := "/api/v1/hearings/" + h.ID
	switch role {
	case roleJudge, roleClerk, roleAppraiser:
		bearer := map[string]string{roleJudge: h.JudgeToken, roleClerk: h.ClerkToken, roleAppraiser: h.AppraiserToken}[role]
		err = a.call(ctx, http.MethodPost, path+"/join-token", bearer, nil, &v)
	default:
		var l struct {
			URL string `json:"url"`
		}
		if err = a.call(ctx, http.MethodPost, path+"/links", h.JudgeToken,
			map[string]string{"name": name, "role": role}, &l); err != nil {
			break
		}
		_, secret, ok := strings.Cut(l.URL, "#")
		if !ok {
			return "", "", fmt.Errorf("link %q has no secret", l.URL)
		}
		err = a.call(ctx, http.MethodPost, "/api/v1/links/redeem", "", map[string]string{"secret": secret}, &v)
	}
	if err != nil {
		return "", "", err
	}
	if v.Token == "" || v.Room == "" {
		return "", "", fmt.Errorf("join token answer without token or room")
	}
	return v.Token, v.Room, nil
}

// metric reads the server's /metrics and returns the sum of the samples of each named
// counter or gauge (labels ignored); missing ones are 0.
func (a *api) metrics(ctx context.Context, names ...string) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.base+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	res, err := a.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	out := make(map[string]float64, len(names))
	for _, line := range strings.Split(string(data), "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		key, val, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		if i := strings.IndexByte(key, '{'); i >= 0 {
			key = key[:i]
		}
		for _, n := range names {
			if key == n {
				var f float64
				if _, err := fmt.Sscan(strings.Fields(val)[0], &f); err == nil {
					out[n] += f
				}
			}
		}
	}
	return out, nil
}
