package http_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"sigs.k8s.io/yaml"
)

func fetchOpenAPI(t *testing.T, fx *fixture) []byte {
	t.Helper()
	res, data := fx.do(caller{}, "GET", "/api/v1/openapi.yaml", nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET openapi.yaml: %d", res.StatusCode)
	}
	return data
}

// TestOpenAPI checks the document: it is valid OpenAPI 3.1, every registered route is in it,
// nothing else is, and the JSON form says the same as the YAML.
func TestOpenAPI(t *testing.T) {
	fx := newFixture(t)
	spec := fetchOpenAPI(t, fx)
	doc, err := libopenapi.NewDocument(spec)
	if err != nil {
		t.Fatal(err)
	}
	if v := doc.GetSpecInfo().Version; !strings.HasPrefix(v, "3.1") {
		t.Fatalf("openapi version %q, want 3.1", v)
	}
	model, err := doc.BuildV3Model()
	if err != nil {
		t.Fatalf("build model: %v", err)
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		t.Fatalf("validator: %v", errs)
	}
	if ok, verrs := v.ValidateDocument(); !ok {
		for _, e := range verrs {
			t.Errorf("document: %s: %s", e.Message, e.Reason)
			for _, se := range e.SchemaValidationErrors {
				t.Errorf("  %s (line %d): %s", se.FieldPath, se.Line, se.Reason)
			}
		}
	}

	documented := map[string]bool{}
	for path, item := range model.Model.Paths.PathItems.FromOldest() {
		for method := range item.GetOperations().FromOldest() {
			documented[strings.ToUpper(method)+" "+path] = true
		}
	}
	routes := map[string]bool{}
	for _, p := range fx.srv.Patterns() {
		routes[p] = true
		if !documented[p] {
			t.Errorf("route %s is registered but not in openapi.yaml", p)
		}
	}
	for op := range documented {
		if !routes[op] {
			t.Errorf("openapi.yaml documents %s, which is not a route", op)
		}
	}

	res, data := fx.do(caller{}, "GET", "/api/v1/openapi.json", nil)
	var fromJSON, fromYAML any
	if err := json.Unmarshal(data, &fromJSON); err != nil || res.Header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("openapi.json is not JSON (%v): %s", err, res.Header.Get("Content-Type"))
	}
	if err := yaml.Unmarshal(spec, &fromYAML); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fromJSON, fromYAML) {
		t.Fatal("openapi.json and openapi.yaml differ")
	}
}

// sharedSpec returns the checker of the document the server serves, built once per test
// binary: the document is fixed, and building a validator costs half a second.
func sharedSpec(t *testing.T, fx *fixture) *specChecker {
	specOnce.Do(func() { spec = newSpecChecker(t, fetchOpenAPI(t, fx)) })
	return spec
}

var (
	specOnce sync.Once
	spec     *specChecker
)

// specChecker validates responses against the document the server serves, so that the
// document cannot drift from what the API answers.
type specChecker struct {
	mu sync.Mutex // tests send requests from several goroutines
	v  validator.Validator
}

func newSpecChecker(t *testing.T, spec []byte) *specChecker {
	t.Helper()
	doc, err := libopenapi.NewDocument(spec)
	if err != nil {
		t.Fatal(err)
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	return &specChecker{v: v}
}

// check validates one answered request, reporting what does not match the document.
func (c *specChecker) check(t *testing.T, req *http.Request, res *http.Response, body []byte) {
	t.Helper()
	if strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain") || req.URL.Path == "/api/v1/openapi.yaml" {
		return // /metrics and the document itself: not JSON bodies to check
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	r := *res
	r.Body = io.NopCloser(bytes.NewReader(body))
	if ok, errs := c.v.ValidateHttpResponse(req, &r); !ok {
		for _, e := range errs {
			detail := ""
			for _, se := range e.SchemaValidationErrors {
				detail += "; " + se.FieldPath + ": " + se.Reason
			}
			t.Errorf("%s %s → %d does not match openapi.yaml: %s%s", req.Method, req.URL.Path, res.StatusCode, e.Message, detail)
		}
	}
}
