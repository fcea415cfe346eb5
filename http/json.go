package http

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/chuting/chuting"
)

// decode reads a request body as exactly one JSON object into dst. It refuses, with an error
// naming the field where there is one: a content type other than application/json (415), a
// body over the limit (413), malformed JSON, unknown fields, wrong types and trailing data
// (400). Nothing is changed on any refusal, since handlers decode before they write.
func decode(w http.ResponseWriter, r *http.Request, limit int64, dst any) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return chuting.Errorf(chuting.EUNSUPPORTED, "请求体须为 JSON / the body must be application/json")
	}
	if r.ContentLength > limit {
		return tooLarge(limit)
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err, limit)
	}
	if _, err := dec.Token(); err != io.EOF {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return tooLarge(limit)
		}
		return chuting.Errorf(chuting.EINVALID, "JSON 对象之后有多余内容 / unexpected data after the JSON object")
	}
	return nil
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
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return chuting.FieldError(field, "未知字段 %s / unknown field %s", field, field)
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
