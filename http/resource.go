package http

import (
	"encoding/base64"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chuting/chuting"
)

// List is the JSON shape of every listing: a page of items and the cursor of the next page
// ("" on the last). A page may hold fewer items than asked for even when more follow, since
// records the caller may not see are left out; follow next until it is empty.
type List[V any] struct {
	Items []V    `json:"items"`
	Next  string `json:"next"`
}

// listQuery reads the paging parameters (limit, after) and at most one filter among those
// allowed (query parameter name → index name), and applies the caller's scope. A caller with
// a scope always scans only its scope, and the filter is then applied to what the scan found
// (post, an index entry to match): so the paging cursor, which names the last record
// scanned, never names a record outside what the caller may see. A parameter that is none of
// these nor among also (which the handler reads itself) is refused, as is a filter value of
// the wrong shape (an ID, a month, a summons state): a misspelt filter would otherwise list
// everything, and a malformed one nothing, both without a word.
func listQuery(r *http.Request, p *chuting.Principal, kind chuting.Kind, filters map[string]string, also ...string) (q chuting.Query, post *chuting.IndexEntry, err error) {
	q = chuting.Query{Kind: kind}
	v := r.URL.Query()
	if err := knownParams(v, append(slices.Collect(maps.Keys(filters)), also...)...); err != nil {
		return q, nil, err
	}
	if q.Limit, q.After, err = paging(v); err != nil {
		return q, nil, err
	}
	for _, param := range slices.Sorted(maps.Keys(filters)) {
		s := v.Get(param)
		if s == "" {
			continue
		}
		if post != nil {
			return q, nil, chuting.FieldError(param, "一次只能按一个条件筛选 / filter by one parameter at a time")
		}
		if strings.ContainsFunc(s, func(r rune) bool { return r < ' ' }) || len(s) > 200 {
			return q, nil, chuting.FieldError(param, "%s 含有无效字符 / %s has invalid characters", param, param)
		}
		if err := checkFilter(kind, param, filters[param], s); err != nil {
			return q, nil, err
		}
		post = &chuting.IndexEntry{Name: filters[param], Value: s}
	}
	index, value, scoped := scope(p, kind)
	switch {
	case scoped:
		if value == "" { // a scoped caller without a scope value (e.g. no institution) sees nothing
			value = "\x01none"
		}
		eq := chuting.Equal(kind, index, value)
		q.Index, q.From, q.To = eq.Index, eq.From, eq.To
	case post != nil:
		eq := chuting.Equal(kind, post.Name, post.Value)
		q.Index, q.From, q.To = eq.Index, eq.From, eq.To
		post = nil
	}
	return q, post, nil
}

// knownParams refuses a query parameter other than limit, after and those named.
func knownParams(v url.Values, names ...string) error {
	for _, param := range slices.Sorted(maps.Keys(v)) {
		if param != "limit" && param != "after" && !slices.Contains(names, param) {
			return chuting.FieldError(param, "未知查询参数 %.40s / unknown query parameter %.40s", param, param)
		}
	}
	return nil
}

// paging reads the paging parameters: limit (0 when absent) and the cursor after (decoded).
func paging(v url.Values) (limit int, after string, err error) {
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > chuting.MaxLimit {
			return 0, "", chuting.FieldError("limit", "limit 须为 1 到 %d 的整数 / limit must be an integer from 1 to %d",
				chuting.MaxLimit, chuting.MaxLimit)
		}
		limit = n
	}
	if s := v.Get("after"); s != "" {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			return 0, "", chuting.FieldError("after", "after 不是有效的游标 / after is not a cursor from this API")
		}
		after = string(b)
	}
	return limit, after, nil
}

// cursor is the next of a page that ends at key (a store cursor, a hearing ID): what paging
// decodes from after.
func cursor(key string) string { return base64.RawURLEncoding.EncodeToString([]byte(key)) }

// checkFilter refuses a filter value that cannot name anything in index: not an ID where the
// index holds references, not a month (YYYY-MM) for a period, not a state of a summons.
func checkFilter(kind chuting.Kind, param, index, value string) error {
	switch index {
	case chuting.IndexCourt, chuting.IndexInstitution, chuting.IndexAppraiser, chuting.IndexRoom, chuting.IndexSummons:
		if !chuting.ValidID(value) {
			return chuting.FieldError(param, "%s 不是有效的 ID / %s is not an ID", param, param)
		}
	case chuting.IndexPeriod:
		if _, err := time.Parse("2006-01", value); err != nil {
			return chuting.FieldError(param, "%s 须为 YYYY-MM 格式的月份 / %s must be a month, YYYY-MM", param, param)
		}
	case chuting.IndexState:
		if kind == chuting.KindSummons {
			if _, err := chuting.ParseSummonsState(value); err != nil {
				return chuting.FieldError(param, "没有此出庭通知状态 / no such summons state: %.40s", value)
			}
		}
	}
	return nil
}

// matches reports whether e has the index entry want (nil matches everything).
func matches(e chuting.Entity, want *chuting.IndexEntry) bool {
	if want == nil {
		return true
	}
	for _, ie := range e.Index() {
		if ie.Name == want.Name && ie.Value == want.Value {
			return true
		}
	}
	return false
}

// list answers a listing of kind T: the query of listQuery, filtered by canRead, each item
// shown through view.
func list[T any, P chuting.EntityPtr[T], V any](s *Server, w http.ResponseWriter, r *http.Request,
	filters map[string]string, view func(P) V) error {
	p := chuting.UserFromContext(r.Context())
	q, post, err := listQuery(r, p, P(new(T)).Kind(), filters)
	if err != nil {
		return err
	}
	found, next, err := chuting.Find[T, P](r.Context(), s.store, q)
	if err != nil {
		return err
	}
	out := List[V]{Items: make([]V, 0, len(found))}
	for _, e := range found {
		if canRead(p, e) && matches(e, post) {
			out.Items = append(out.Items, view(e))
		}
	}
	if next != "" {
		out.Next = cursor(next)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// load reads the entity named by the {id} path value and checks that the caller may see it.
// EINVALID for a malformed ID, ENOTFOUND, EFORBIDDEN.
func load[T any, P chuting.EntityPtr[T]](s *Server, r *http.Request) (P, error) {
	id, err := pathID(r)
	if err != nil {
		return nil, err
	}
	setTarget(r, string(P(new(T)).Kind())+":"+id)
	e, err := chuting.Load[T, P](r.Context(), s.store, id)
	if err != nil {
		return nil, err
	}
	if !canRead(chuting.UserFromContext(r.Context()), e) {
		return nil, forbidden()
	}
	return e, nil
}

// show answers one entity, as loaded by load.
func show[T any, P chuting.EntityPtr[T], V any](s *Server, w http.ResponseWriter, r *http.Request, view func(P) V) error {
	e, err := load[T, P](s, r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, view(e))
	return nil
}

// asIs is the view of entities shown exactly as stored (they hold no secrets).
func asIs[P any](e P) P { return e }

// create stores a new entity built by a handler, after checking that the caller may own it,
// and answers with view(e) (e itself when view is nil), made after the store gave e its ID.
func create[E chuting.Entity](s *Server, w http.ResponseWriter, r *http.Request, e E, view func(E) any) error {
	setTarget(r, string(e.Kind())+":new")
	if !canWrite(chuting.UserFromContext(r.Context()), e) {
		return forbidden()
	}
	if err := chuting.Create(r.Context(), s.store, e); err != nil {
		return err
	}
	setTarget(r, string(e.Kind())+":"+e.RecordMeta().ID)
	var out any = e
	if view != nil {
		out = view(e)
	}
	writeJSON(w, http.StatusCreated, out)
	return nil
}

// update applies a handler's change to the entity named by {id}: it loads it, checks the
// caller may change it before and after, and saves it over the version the client sent, so a
// client working from a stale copy gets 409 instead of overwriting someone else's change.
func update[T any, P chuting.EntityPtr[T]](s *Server, w http.ResponseWriter, r *http.Request, version int64,
	apply func(P) error, view func(P) any) error {
	e, err := load[T, P](s, r)
	if err != nil {
		return err
	}
	p := chuting.UserFromContext(r.Context())
	if !canWrite(p, e) {
		return forbidden()
	}
	if version < 1 {
		return chuting.FieldError("version", "须提供当前版本号 version / version (the version you read) is required")
	}
	if err := apply(e); err != nil {
		return err
	}
	if !canWrite(p, e) {
		return forbidden()
	}
	if version != e.RecordMeta().Version {
		return chuting.Errorf(chuting.ECONFLICT, "记录已被他人修改（当前版本 %d）/ the record changed since version %d (now %d); reload it",
			e.RecordMeta().Version, version, e.RecordMeta().Version)
	}
	if err := chuting.Save(r.Context(), s.store, e); err != nil {
		return err
	}
	var out any = e
	if view != nil {
		out = view(e)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
