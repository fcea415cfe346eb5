package http_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/chuting/chuting"
)

// notice stores an unread notice for u.
func (fx *fixture) notice(u *chuting.User) *chuting.Notice {
	fx.t.Helper()
	n := &chuting.Notice{UserID: u.ID, Topic: "summons.served", SummonsID: fx.own().summons.ID,
		Title: "出庭通知 / Summons served — " + fx.unique("(2026)赣00民初"), Body: "请登录确认 / please confirm"}
	fx.create(n)
	return n
}

// noticeIDs lists the caller's notices at path and returns their IDs, in order.
func (fx *fixture) noticeIDs(c caller, path string) []string {
	fx.t.Helper()
	res, body := fx.do(c, "GET", path, nil)
	if res.StatusCode != http.StatusOK {
		fx.t.Fatalf("GET %s: %d %s", path, res.StatusCode, body)
	}
	var l struct {
		Items []chuting.Notice `json:"items"`
	}
	fx.must(json.Unmarshal(body, &l))
	var ids []string
	for _, n := range l.Items {
		ids = append(ids, n.ID)
	}
	return ids
}

// TestNotices: each user lists only their own notices (the bureau too), filters the unread,
// and marks one read, once.
func TestNotices(t *testing.T) {
	fx := newFixture(t)
	own, other := fx.own(), fx.other()
	clerk := own.users[chuting.RoleClerk]
	first, second := fx.notice(clerk), fx.notice(clerk)
	fx.notice(own.users[chuting.RoleJudge])
	fx.notice(other.users[chuting.RoleClerk])
	bureauOwn := fx.notice(own.users[chuting.RoleBureauAdmin])
	c := fx.tokenCaller(chuting.RoleClerk)

	t.Run("OnlyOwn", func(t *testing.T) {
		if got := fx.noticeIDs(c, "/api/v1/notices"); len(got) != 2 || got[0] != first.ID || got[1] != second.ID {
			t.Fatalf("clerk's notices %v, want %s then %s", got, first.ID, second.ID)
		}
		if got := fx.noticeIDs(fx.tokenCaller(chuting.RoleBureauAdmin), "/api/v1/notices"); len(got) != 1 || got[0] != bureauOwn.ID {
			t.Fatalf("bureau's notices %v, want only its own", got)
		}
	})
	t.Run("MarkRead", func(t *testing.T) {
		res, body := fx.do(c, "POST", "/api/v1/notices/"+first.ID+"/read", nil)
		var n chuting.Notice
		fx.must(json.Unmarshal(body, &n))
		if res.StatusCode != http.StatusOK || n.Read.IsZero() || n.ID != first.ID {
			t.Fatalf("mark read: %d %s", res.StatusCode, body)
		}
		time.Sleep(5 * time.Millisecond)
		_, body = fx.do(c, "POST", "/api/v1/notices/"+first.ID+"/read", nil)
		var again chuting.Notice
		fx.must(json.Unmarshal(body, &again))
		if !again.Read.Equal(n.Read) || again.Version != n.Version {
			t.Fatalf("marking again changed it: %s, was read %s", body, n.Read)
		}
		if got := fx.noticeIDs(c, "/api/v1/notices?unread=1"); len(got) != 1 || got[0] != second.ID {
			t.Fatalf("unread %v, want only %s", got, second.ID)
		}
		if got := fx.noticeIDs(c, "/api/v1/notices?unread=0"); len(got) != 2 {
			t.Fatalf("unread=0 lists %v, want both", got)
		}
	})
	t.Run("ErrUnreadValue", func(t *testing.T) {
		res, body := fx.do(c, "GET", "/api/v1/notices?unread=maybe", nil)
		if e := errorOf(t, body); res.StatusCode != http.StatusBadRequest || e.Field != "unread" {
			t.Fatalf("%d %s", res.StatusCode, body)
		}
	})
	t.Run("Paging", func(t *testing.T) {
		res, body := fx.do(c, "GET", "/api/v1/notices?limit=1", nil)
		var l struct {
			Items []chuting.Notice `json:"items"`
			Next  string           `json:"next"`
		}
		fx.must(json.Unmarshal(body, &l))
		if res.StatusCode != http.StatusOK || len(l.Items) != 1 || l.Next == "" {
			t.Fatalf("first page %s", body)
		}
		if got := fx.noticeIDs(c, "/api/v1/notices?limit=1&after="+l.Next); len(got) != 1 || got[0] != second.ID {
			t.Fatalf("second page %v", got)
		}
	})
}
