package http

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/chuting/chuting"
)

// decode reads a request body as exactly one JSON object into dst. It refuses, with an error
// naming the field where there is one: a content type other than application/json (415), a
// body over the limit (413), malformed JSON, unknown fields, wrong types and trailing data
// (400). Nothing is changed on any refusal, since handlers decode before they write.
//
// Beyond what encoding/json checks: the body must be UTF-8 (a charset other than utf-8 is
// 415, invalid bytes 400); object keys must match a field's name exactly (encoding/json
// would take "NAME" for "name") and come once; and strings may hold no control characters
// other than tab and line breaks (checkKeys).
func decode(w http.ResponseWriter, r *http.Request, limit int64, dst any) error {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return chuting.Errorf(chuting.EUNSUPPORTED, "请求体须为 JSON / the body must be application/json")
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return chuting.Errorf(chuting.EUNSUPPORTED, "请求体须为 UTF-8 编码 / the body must be UTF-8, not %.20s", cs)
	}
	if r.ContentLength > limit {
		return tooLarge(limit)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return tooLarge(limit)
		}
		return chuting.Errorf(chuting.EINVALID, "无法读取请求体 / cannot read the body")
	}
	if !utf8.Valid(body) {
		return chuting.Errorf(chuting.EINVALID, "请求体须为 UTF-8 编码 / the body must be UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	// The keys first, so that a nested unknown one is named with its path; it refuses every
	// unknown key of a valid body (an invalid one fails on its syntax or trailing data).
	if json.Valid(body) {
		if err := checkKeys(body, reflect.TypeOf(dst)); err != nil {
			return err
		}
	}
	if err := dec.Decode(dst); err != nil {
		return decodeError(err, limit)
	}
	if _, err := dec.Token(); err != io.EOF {
		return chuting.Errorf(chuting.EINVALID, "JSON 对象之后有多余内容 / unexpected data after the JSON object")
	}
	return nil
}

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

// checkKeys walks a JSON value that has decoded into a value of type t, and refuses, naming
// the field: an object key that is not exactly the json name of a field of the struct it goes
// to, a key given twice, and a string with a control character other than tab, CR or LF.
func checkKeys(body []byte, t reflect.Type) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	return walkJSON(dec, t, "")
}

func walkJSON(dec *json.Decoder, t reflect.Type, path string) error {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t != nil && reflect.PointerTo(t).Implements(unmarshalerType) {
		t = nil // it reads its own shape
	}
	tok, err := dec.Token()
	if err != nil {
		return chuting.Errorf(chuting.EINVALID, "无法解析 JSON / cannot read the JSON")
	}
	if t != nil && !fits(tok, t.Kind()) {
		f, want := fieldOr(path), jsonType(t.Kind().String())
		return chuting.FieldError(f, "%s 须为 %s / %s must be %s", f, want, f, want)
	}
	switch tok := tok.(type) {
	case string:
		for _, c := range tok {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c == 0x7f {
				return chuting.FieldError(fieldOr(path), "%s 含有控制字符 / %s holds a control character", fieldOr(path), fieldOr(path))
			}
		}
	case json.Delim:
		switch tok {
		case '[':
			var elem reflect.Type
			if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
				elem = t.Elem()
			}
			for i := 0; dec.More(); i++ {
				if err := walkJSON(dec, elem, path+"["+strconv.Itoa(i)+"]"); err != nil {
					return err
				}
			}
		case '{':
			fields := jsonFields(t)
			seen := map[string]bool{}
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return chuting.Errorf(chuting.EINVALID, "无法解析 JSON / cannot read the JSON")
				}
				key, _ := k.(string)
				field := key
				if path != "" {
					field = path + "." + key
				}
				if seen[key] {
					return chuting.FieldError(field, "字段 %s 重复 / field %s is given twice", field, field)
				}
				seen[key] = true
				var vt reflect.Type
				if fields != nil {
					ft, ok := fields[key]
					if !ok {
						return chuting.FieldError(field, "未知字段 %s / unknown field %s", field, field)
					}
					vt = ft
				} else if t != nil && t.Kind() == reflect.Map {
					vt = t.Elem()
				}
				if err := walkJSON(dec, vt, field); err != nil {
					return err
				}
			}
		}
		if _, err := dec.Token(); err != nil { // the closing ] or }
			return chuting.Errorf(chuting.EINVALID, "无法解析 JSON / cannot read the JSON")
		}
	}
	return nil
}

// fits reports whether a JSON token can decode into a value of kind k (null into any).
func fits(tok json.Token, k reflect.Kind) bool {
	if k == reflect.Interface {
		return true
	}
	switch tok := tok.(type) {
	case nil:
		return true
	case string:
		return k == reflect.String || k == reflect.Slice // []byte takes base64
	case json.Number:
		return k >= reflect.Int && k <= reflect.Float64
	case bool:
		return k == reflect.Bool
	case json.Delim:
		if tok == '{' {
			return k == reflect.Struct || k == reflect.Map
		}
		return k == reflect.Slice || k == reflect.Array
	}
	return false
}

func fieldOr(path string) string {
	if path == "" {
		return "body"
	}
	return path
}

// fieldsOf caches jsonFields by type: request bodies are walked on every write.
var fieldsOf sync.Map // reflect.Type → map[string]reflect.Type

// jsonFields returns the JSON names of a struct type's fields (embedded structs' included)
// and their types; nil for a type that is not a struct (or json.RawMessage: anything goes).
func jsonFields(t reflect.Type) map[string]reflect.Type {
	if t == nil || t.Kind() != reflect.Struct {
		return nil
	}
	if f, ok := fieldsOf.Load(t); ok {
		return f.(map[string]reflect.Type)
	}
	f := structFields(t)
	fieldsOf.Store(t, f)
	return f
}

func structFields(t reflect.Type) map[string]reflect.Type {
	if t == nil || t.Kind() != reflect.Struct {
		return nil
	}
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if name == "-" && !strings.HasPrefix(tag, "-,") || !f.IsExported() && !f.Anonymous {
			continue
		}
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			maps.Copy(out, jsonFields(ft))
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

func tooLarge(limit int64) error {
	return chuting.Errorf(chuting.ETOOLARGE, "请求体超过 %d 字节 / the body is over %d bytes", limit, limit)
}

// decodeError turns an encoding/json error into an *chuting.Error naming the field at fault.
func decodeError(err error, limit int64) error {
	var (
		syntax  *json.SyntaxError
		typ     *json.UnmarshalTypeError
		maxBody *http.MaxBytesError
		cerr    *chuting.Error
	)
	switch {
	case errors.As(err, &maxBody):
		return tooLarge(limit)
	case errors.Is(err, io.EOF):
		return chuting.Errorf(chuting.EINVALID, "请求体为空 / the body is empty")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return chuting.Errorf(chuting.EINVALID, "JSON 不完整 / the JSON ends too early")
	case errors.As(err, &syntax):
		return chuting.Errorf(chuting.EINVALID, "JSON 格式错误（第 %d 字节）/ malformed JSON at byte %d", syntax.Offset, syntax.Offset)
	case errors.As(err, &typ):
		if typ.Field == "" {
			return chuting.Errorf(chuting.EINVALID, "请求体须为 JSON 对象 / the body must be a JSON object")
		}
		return chuting.FieldError(typ.Field, "%s 须为 %s / %s must be %s", typ.Field, jsonType(typ.Type.Kind().String()),
			typ.Field, jsonType(typ.Type.Kind().String()))
	case errors.As(err, &cerr):
		return cerr
	}
	return chuting.Errorf(chuting.EINVALID, "无法解析 JSON / cannot read the JSON: %v", err)
}

// jsonType names a Go kind the way a JSON client thinks of it.
func jsonType(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "slice", "array":
		return "an array"
	case "struct", "map":
		return "an object"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "an integer"
	case "float32", "float64":
		return "a number"
	}
	return "of another type"
}

// writeJSON answers with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status, body = http.StatusInternalServerError, []byte(`{"error":{"code":"internal","message":"内部错误 / internal error"}}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

// pathID returns the {id} path value, or an EINVALID error naming the field "id" when it is
// not the shape of a chuting ID, so bad IDs never reach the store.
func pathID(r *http.Request) (string, error) {
	id := r.PathValue("id")
	if !chuting.ValidID(id) {
		return "", chuting.FieldError("id", "ID 格式错误 / malformed ID %q", truncate(id, 40))
	}
	return id, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}

// required returns an EINVALID error naming field when value is blank.
func required(field, value string) error {
	if strings.TrimSpace(value) == "" {
		return chuting.FieldError(field, "%s 不能为空 / %s is required", field, field)
	}
	return nil
}

// maxLen returns an EINVALID error naming field when value has more than n characters.
func maxLen(field, value string, n int) error {
	if len([]rune(value)) > n {
		return chuting.FieldError(field, "%s 超过 %d 个字符 / %s is longer than %d characters", field, n, field, n)
	}
	return nil
}

// parseDate parses an optional YYYY-MM-DD date, naming field on error.
func parseDate(field, value string) (chuting.Date, error) {
	if value == "" {
		return chuting.Date{}, nil
	}
	d, err := chuting.ParseDate(value)
	if err != nil {
		return d, chuting.FieldError(field, "%s 须为 YYYY-MM-DD 日期 / %s must be a date YYYY-MM-DD", field, field)
	}
	return d, nil
}

// firstError returns the first non-nil error, so validation reads as a list of rules.
func firstError(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
