package http_test

import (
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chuting/chuting"
	"github.com/chuting/chuting/auth"
	"github.com/chuting/chuting/bbolt"
	chutinghttp "github.com/chuting/chuting/http"
)

// TestBadInput sends malformed requests to write routes. Each gets a 4xx in the error shape,
// naming the field at fault where there is one, and the store is unchanged afterwards.
func TestBadInput(t *testing.T) {
	fx := newFixture(t)
	bureau := fx.tokenCaller(chuting.RoleBureauAdmin)
	court := fx.own().court
	courtPath := "/api/v1/courts/" + court.ID
	big := `{"name":"` + strings.Repeat("法", 30000) + `","code":"x"}` // 90 KB, over the 64 KB test limit
	tests := []struct {
		name        string
		method      string
		path        string
		body        any
		contentType string
		status      int
		code        string
		field       string
	}{
		{"MalformedJSON", "POST", "/api/v1/courts", `{"name": "a",`, "", 400, "invalid", ""},
		{"SyntaxError", "POST", "/api/v1/courts", `{"name" "a"}`, "", 400, "invalid", ""},
		{"EmptyBody", "POST", "/api/v1/courts", ``, "", 400, "invalid", ""},
		{"NotAnObject", "POST", "/api/v1/courts", `["a"]`, "", 400, "invalid", ""},
		{"UnknownField", "POST", "/api/v1/courts", `{"name":"a","code":"b","colour":"red"}`, "", 400, "invalid", "colour"},
		{"WrongTypeString", "POST", "/api/v1/courts", `{"name":123,"code":"b"}`, "", 400, "invalid", "name"},
		{"WrongTypeInt", "POST", "/api/v1/courts", `{"name":"a","code":"b","notice_days":"five"}`, "", 400, "invalid", "notice_days"},
		{"WrongTypeNested", "POST", "/api/v1/institutions", `{"name":"a","licence_no":"b","categories":[{"category":1}]}`, "", 400, "invalid", "categories[0].category"},
		{"TrailingData", "POST", "/api/v1/courts", `{"name":"a","code":"b"} {"name":"c"}`, "", 400, "invalid", ""},
		{"Oversize", "POST", "/api/v1/courts", big, "", 413, "too_large", ""},
		{"OversizeChunked", "POST", "/api/v1/courts", []byte(big), "chunked", 413, "too_large", ""},
		{"NotJSON", "POST", "/api/v1/courts", `name=a&code=b`, "application/x-www-form-urlencoded", 415, "unsupported_media", ""},
		{"NoContentType", "POST", "/api/v1/courts", `{"name":"a","code":"b"}`, "none", 415, "unsupported_media", ""},
		{"MissingRequired", "POST", "/api/v1/courts", `{"name":"a"}`, "", 400, "invalid", "code"},
		{"RuleBroken", "POST", "/api/v1/courts", `{"name":"a","code":"b","notice_days":2}`, "", 400, "invalid", "notice_days"},
		{"BadTimeZone", "POST", "/api/v1/courts", `{"name":"a","code":"b","time_zone":"Mars/Olympus"}`, "", 400, "invalid", "time_zone"},
		{"BadDate", "POST", "/api/v1/institutions", `{"name":"a","licence_no":"b","accreditation_expires":"2026-13-01"}`, "", 400, "invalid", "accreditation_expires"},
		{"BadReference", "POST", "/api/v1/rooms", `{"institution_id":"00000000000000000000000000","name":"a","location":"b"}`, "", 400, "invalid", "institution_id"},
		{"MalformedReference", "POST", "/api/v1/rooms", `{"institution_id":"../etc","name":"a","location":"b"}`, "", 400, "invalid", "institution_id"},
		{"BadID", "PUT", "/api/v1/courts/not-an-id", `{"version":1,"name":"a","code":"b"}`, "", 400, "invalid", "id"},
		{"UnknownID", "PUT", "/api/v1/courts/00000000000000000000000000", `{"version":1,"name":"a","code":"b"}`, "", 404, "not_found", ""},
		{"BadIDOnGet", "GET", "/api/v1/summons/%00", nil, "", 400, "invalid", "id"},
		{"MissingVersion", "PUT", courtPath, `{"name":"a","code":"b"}`, "", 400, "invalid", "version"},
		{"StaleVersion", "PUT", courtPath, map[string]any{"version": 99, "name": "a", "code": court.Code}, "", 409, "conflict", ""},
		{"DuplicateUnique", "POST", "/api/v1/courts", map[string]any{"name": "a", "code": fx.other().court.Code}, "", 409, "conflict", "code"},
		{"BadRole", "POST", "/api/v1/users", `{"username":"abc","name":"a","role":"king","password":"0123456789"}`, "", 400, "invalid", "role"},
		{"ShortPassword", "POST", "/api/v1/users", `{"username":"abc","name":"a","role":"bureau_admin","password":"short"}`, "", 400, "invalid", "password"},
		{"BadUsername", "POST", "/api/v1/users", `{"username":"a b","name":"a","role":"bureau_admin","password":"0123456789"}`, "", 400, "invalid", "username"},
		{"BadLimit", "GET", "/api/v1/courts?limit=0", nil, "", 400, "invalid", "limit"},
		{"BadCursor", "GET", "/api/v1/courts?after=***", nil, "", 400, "invalid", "after"},
		{"TwoFilters", "GET", "/api/v1/appraisers?institution=00000000000000000000000000&category=b", nil, "", 400, "invalid", ""},
		// A misspelt filter would list everything, a malformed one nothing: both are refused.
		{"UnknownParameter", "GET", "/api/v1/summons?statee=proposed", nil, "", 400, "invalid", "statee"},
		{"BadStateFilter", "GET", "/api/v1/summons?state=bogus", nil, "", 400, "invalid", "state"},
		{"BadIDFilter", "GET", "/api/v1/summons?court=not-an-id", nil, "", 400, "invalid", "court"},
		{"BadPeriodFilter", "GET", "/api/v1/reports?period=2026-99", nil, "", 400, "invalid", "period"},
		{"NegativeExpiry", "POST", "/api/v1/tokens", `{"name":"x","expires_in_days":-1}`, "session", 400, "invalid", "expires_in_days"},
		// encoding/json matches keys whatever their case and takes the last of two.
		{"CaseVariantKey", "POST", "/api/v1/courts", `{"NAME":"大写法院","code":"赣99"}`, "", 400, "invalid", "NAME"},
		{"DuplicateKey", "POST", "/api/v1/courts", `{"name":"a","name":"b","code":"x"}`, "", 400, "invalid", "name"},
		{"ControlCharacter", "POST", "/api/v1/courts", `{"name":"a\u0000b\u001b[31m","code":"G4"}`, "", 400, "invalid", "name"},
		{"NotUTF8", "POST", "/api/v1/courts", []byte("{\"name\":\"\xb7\xa8\xd4\xba\",\"code\":\"G1\"}"), "", 400, "invalid", ""},
		{"OtherCharset", "POST", "/api/v1/courts", []byte("{\"name\":\"\xb7\xa8\xd4\xba\",\"code\":\"G1\"}"), "application/json; charset=gbk", 415, "unsupported_media", ""},
		{"HolidayTwice", "PUT", "/api/v1/holidays/2027", `{"source":"国务院办公厅","holidays":["2027-01-01","2027-01-01"],"workdays":[]}`, "", 400, "invalid", "holidays[1]"},
		{"UnknownAPIPath", "GET", "/api/v1/nothing", nil, "", 404, "not_found", ""},
		{"WrongMethod", "DELETE", "/api/v1/courts", nil, "", 405, "method_not_allowed", ""},
	}
	session := fx.sessionCaller(chuting.RoleBureauAdmin)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := fx.snapshot()
			headers := map[string]string{}
			if tc.status == 404 || tc.status == 405 {
				headers["X-Test-Undocumented"] = "1" // no such route: nothing in the document to check against
			}
			c := bureau
			switch tc.contentType {
			case "none":
				headers["Content-Type"] = ""
			case "session": // a route API tokens may not use
				c = session
			case "chunked":
			default:
				if tc.contentType != "" {
					headers["Content-Type"] = tc.contentType
				}
			}
			var res *http.Response
			var data []byte
			if tc.contentType == "chunked" {
				res, data = fx.doChunked(c, tc.method, tc.path, tc.body.([]byte))
			} else {
				res, data = fx.doHeaders(c, tc.method, tc.path, tc.body, headers)
			}
			if res.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, tc.status, data)
			}
			e := errorOf(t, data)
			if e.Code != tc.code || (tc.field != "" && e.Field != tc.field) {
				t.Fatalf("error %+v, want code %q field %q", e, tc.code, tc.field)
			}
			if after := fx.snapshot(); !maps.Equal(before, after) {
				t.Fatalf("a refused request changed the store")
			}
		})
	}
}

// TestUnmatchedAPIPathWithPages checks that with the pages mounted (as the binary serves
// them, under GET /) an unknown API path is still answered 404 in the error shape, and a
// wrong method on an API path 405 with the API's Allow: the pages' catch-all answers neither.
func TestUnmatchedAPIPathWithPages(t *testing.T) {
	store, err := bbolt.Open(filepath.Join(t.TempDir(), "c.db"), bbolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	svc, err := auth.New(store, auth.Options{Params: cheap})
	if err != nil {
		t.Fatal(err)
	}
	pages := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "<html>") })
	srv := chutinghttp.New(chutinghttp.Config{Store: store, Auth: svc, Web: pages})
	for _, tc := range []struct {
		method, path string
		status       int
		code, allow  string
	}{
		{"POST", "/api/v1/nothing", 404, "not_found", ""},
		{"GET", "/api/v1/nothing", 404, "not_found", ""},
		{"GET", "/api", 404, "not_found", ""},
		{"DELETE", "/api/v1/courts", 405, "method_not_allowed", "GET, HEAD, POST"},
	} {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
		if rec.Code != tc.status || rec.Header().Get("Allow") != tc.allow {
			t.Errorf("%s %s: %d Allow %q, want %d Allow %q: %s", tc.method, tc.path, rec.Code,
				rec.Header().Get("Allow"), tc.status, tc.allow, rec.Body)
			continue
		}
		if e := errorOf(t, rec.Body.Bytes()); e.Code != tc.code {
			t.Errorf("%s %s: code %q, want %q", tc.method, tc.path, e.Code, tc.code)
		}
	}
}
