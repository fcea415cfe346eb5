package http_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chuting/chuting"
	"github.com/chuting/chuting/auth"
	"github.com/chuting/chuting/signaling"
	"github.com/gorilla/websocket"
)

// roomJoin is the answer of join-token and of redeeming a link.
type roomJoin struct {
	Token   string    `json:"token"`
	Room    string    `json:"room"`
	Role    string    `json:"role"`
	Name    string    `json:"name"`
	Hearing string    `json:"hearing_id"`
	Expires time.Time `json:"expires"`
	CaseNo  string    `json:"case_no"`
	Court   string    `json:"court"`
	Start   time.Time `json:"start"`
}

// redeem redeems a personal link's secret, as its holder's page does, and returns the join.
func (fx *fixture) redeem(t *testing.T, secret string) roomJoin {
	t.Helper()
	res, data := fx.do(caller{}, "POST", "/api/v1/links/redeem", map[string]string{"secret": secret})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("redeem: %d %s", res.StatusCode, data)
	}
	var j roomJoin
	fx.must(json.Unmarshal(data, &j))
	return j
}

// joinRoom opens the room's WebSocket through the HTTP server (its middleware included) and
// sends the join message; it returns the type of the first answer, or the close code.
func (fx *fixture) joinRoom(t *testing.T, j roomJoin) (string, int) {
	t.Helper()
	url := "ws" + strings.TrimPrefix(fx.ts.URL, "http") + j.Room
	ws, res, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatalf("dial %s: %v (%v)", url, err, res)
	}
	defer ws.Close()
	if err := ws.WriteJSON(signaling.Message{V: 1, Type: signaling.TypeJoin, Token: j.Token}); err != nil {
		t.Fatal(err)
	}
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	var m struct {
		Type string `json:"type"`
	}
	_, data, err := ws.ReadMessage()
	var ce *websocket.CloseError
	switch {
	case err == nil:
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		return m.Type, 0
	case errors.As(err, &ce):
		return "", ce.Code
	default:
		t.Fatalf("read: %v", err)
	}
	return "", 0
}

// TestRoomAccess follows who gets into a hearing's room: the judge, clerk and summoned
// appraiser with join tokens; someone without an account once with a personal link; nobody
// with a used, revoked or unknown link; and nobody before the room opens.
func TestRoomAccess(t *testing.T) {
	fx := newFixture(t)
	own := fx.own()
	live := "/api/v1/hearings/" + own.live.ID

	t.Run("JoinToken", func(t *testing.T) {
		for _, role := range []chuting.Role{chuting.RoleJudge, chuting.RoleClerk, chuting.RoleAppraiser} {
			res, data := fx.do(fx.sessionCaller(role), "POST", live+"/join-token", nil)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("%s: %d %s", role, res.StatusCode, data)
			}
			var j roomJoin
			fx.must(json.Unmarshal(data, &j))
			if j.Role != role.String() || j.Hearing != own.live.ID || j.Room != live+"/room" ||
				j.Expires.After(time.Now().Add(signaling.TokenTTL+time.Second)) {
				t.Fatalf("%s: %+v", role, j)
			}
			if typ, code := fx.joinRoom(t, j); typ != signaling.TypeJoined {
				t.Fatalf("%s joined with %q, close %d", role, typ, code)
			}
		}
	})
	t.Run("NotOpenYet", func(t *testing.T) {
		res, data := fx.do(fx.sessionCaller(chuting.RoleJudge), "POST", "/api/v1/hearings/"+own.hearing.ID+"/join-token", nil)
		if res.StatusCode != http.StatusBadRequest || errorOf(t, data).Code != "invalid" {
			t.Fatalf("join-token days before the hearing: %d %s", res.StatusCode, data)
		}
	})
	t.Run("Link", func(t *testing.T) {
		clerk := fx.sessionCaller(chuting.RoleClerk)
		res, data := fx.do(clerk, "POST", live+"/links", map[string]string{"name": " 赵律师 ", "role": "counsel"})
		if res.StatusCode != http.StatusCreated {
			t.Fatalf("create: %d %s", res.StatusCode, data)
		}
		var l struct {
			ID, URL, Name string
		}
		fx.must(json.Unmarshal(data, &l))
		secret, ok := strings.CutPrefix(l.URL, "/join#")
		if !ok || l.Name != "赵律师" {
			t.Fatalf("link %+v", l)
		}
		stored, err := chuting.Load[chuting.JoinLink](context.Background(), fx.store, l.ID)
		fx.must(err)
		if strings.Contains(stored.Hash, secret) || stored.Hash == "" {
			t.Fatal("the link's secret is stored as is")
		}

		res, data = fx.do(caller{}, "POST", "/api/v1/links/redeem", map[string]string{"secret": secret})
		if res.StatusCode != http.StatusOK {
			t.Fatalf("redeem: %d %s", res.StatusCode, data)
		}
		var j roomJoin
		fx.must(json.Unmarshal(data, &j))
		if j.Role != "counsel" || j.Name != "赵律师" || j.CaseNo != own.summons.CaseNo || j.Court != own.court.Name ||
			!j.Start.Equal(own.live.Start) {
			t.Fatalf("redeemed %+v", j)
		}
		if typ, code := fx.joinRoom(t, j); typ != signaling.TypeJoined {
			t.Fatalf("counsel joined with %q, close %d", typ, code)
		}
		res, data = fx.do(caller{}, "POST", "/api/v1/links/redeem", map[string]string{"secret": secret})
		if res.StatusCode != http.StatusNotFound {
			t.Fatalf("second redeem: %d %s", res.StatusCode, data)
		}

		res, data = fx.do(clerk, "GET", live+"/links", nil)
		if res.StatusCode != http.StatusOK || strings.Contains(string(data), secret) || !strings.Contains(string(data), `"used"`) {
			t.Fatalf("list: %d %s", res.StatusCode, data)
		}
	})
	t.Run("RevokedLink", func(t *testing.T) {
		l, secret := fx.link(own, "observer")
		j := fx.redeem(t, secret)
		// Revoked after redeeming but before joining: the token no longer gets in.
		if res, data := fx.do(fx.sessionCaller(chuting.RoleJudge), "DELETE", "/api/v1/links/"+l.ID, nil); res.StatusCode != http.StatusNoContent {
			t.Fatalf("revoke: %d %s", res.StatusCode, data)
		}
		if typ, code := fx.joinRoom(t, j); code != signaling.CloseReplayed {
			t.Fatalf("revoked link joined: %q, close %d", typ, code)
		}
		_, secret2 := fx.link(own, "observer")
		l2, _ := chuting.FindOne[chuting.JoinLink](context.Background(), fx.store, chuting.IndexHash, auth.HashSecret(secret2))
		l2.Revoked = true
		fx.must(chuting.Save(context.Background(), fx.store, l2))
		if res, _ := fx.do(caller{}, "POST", "/api/v1/links/redeem", map[string]string{"secret": secret2}); res.StatusCode != http.StatusNotFound {
			t.Fatalf("revoked link redeemed: %d", res.StatusCode)
		}
	})
	t.Run("RevokedWhileIn", func(t *testing.T) {
		// Revoked while its holder is in the room: they are taken out, not left in (#49).
		l, secret := fx.link(own, "counsel")
		j := fx.redeem(t, secret)
		ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(fx.ts.URL, "http")+j.Room, nil)
		fx.must(err)
		defer ws.Close()
		fx.must(ws.WriteJSON(signaling.Message{V: 1, Type: signaling.TypeJoin, Token: j.Token}))
		_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
		var m struct {
			Type string `json:"type"`
		}
		_, data, err := ws.ReadMessage()
		fx.must(err)
		if fx.must(json.Unmarshal(data, &m)); m.Type != signaling.TypeJoined {
			t.Fatalf("first answer %s", data)
		}
		if res, data := fx.do(fx.sessionCaller(chuting.RoleClerk), "DELETE", "/api/v1/links/"+l.ID, nil); res.StatusCode != http.StatusNoContent {
			t.Fatalf("revoke: %d %s", res.StatusCode, data)
		}
		for {
			_, _, err := ws.ReadMessage()
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				if ce.Code != signaling.CloseRemoved {
					t.Fatalf("closed with %d %q, want %d", ce.Code, ce.Text, signaling.CloseRemoved)
				}
				break
			} else if err != nil {
				t.Fatalf("the revoked link's holder was not removed: %v", err)
			}
		}
	})
	t.Run("BadInput", func(t *testing.T) {
		clerk := fx.sessionCaller(chuting.RoleClerk)
		for _, tc := range []struct {
			body  map[string]string
			field string
		}{
			{map[string]string{"name": "", "role": "counsel"}, "name"},
			{map[string]string{"name": "某", "role": "judge"}, "role"},
			{map[string]string{"name": strings.Repeat("长", 51), "role": "party"}, "name"},
		} {
			before := fx.countLinks(own.live.ID)
			res, data := fx.do(clerk, "POST", live+"/links", tc.body)
			if res.StatusCode != http.StatusBadRequest || errorOf(t, data).Field != tc.field {
				t.Errorf("%v: %d %s, want 400 on %s", tc.body, res.StatusCode, data, tc.field)
			}
			if fx.countLinks(own.live.ID) != before {
				t.Errorf("%v: a link was stored", tc.body)
			}
		}
		for _, secret := range []string{"", "short", strings.Repeat("a", 43)} {
			if res, data := fx.do(caller{}, "POST", "/api/v1/links/redeem", map[string]string{"secret": secret}); res.StatusCode != http.StatusNotFound {
				t.Errorf("redeem %q: %d %s", secret, res.StatusCode, data)
			}
		}
		if res, data := fx.do(caller{}, "GET", "/api/v1/hearings/"+chuting.NewID()+"/room", nil); res.StatusCode != http.StatusBadRequest {
			t.Errorf("plain GET of a room: %d %s", res.StatusCode, data)
		}
		url := "ws" + strings.TrimPrefix(fx.ts.URL, "http") + "/api/v1/hearings/" + chuting.NewID() + "/room"
		if _, res, err := websocket.DefaultDialer.Dial(url, nil); err == nil || res == nil || res.StatusCode != http.StatusNotFound {
			t.Errorf("room of an unknown hearing: %v %v", err, res)
		}
	})
}

func (fx *fixture) countLinks(hearingID string) int {
	links, err := chuting.FindAll[chuting.JoinLink](context.Background(), fx.store, chuting.Equal(chuting.KindLink, chuting.IndexHearing, hearingID))
	fx.must(err)
	return len(links)
}
