package solver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
)

// ReadProblem reads a court-sched-v1 problem and validates it (see Problem.Validate). Every
// error is a *FieldError naming the field by its JSON path, or several of them joined (one
// per line; errors.As finds the first). Unknown fields are refused: a misspelt optional
// field would otherwise be silently ignored.
func ReadProblem(r io.Reader) (*Problem, error) {
	var p Problem
	if err := decode(r, problemShape, &p); err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &p, nil
}

// WriteProblem writes p as indented court-sched-v1 JSON.
func WriteProblem(w io.Writer, p *Problem) error {
	return encode(w, p)
}

// ReadSchedule reads a schedule file and checks its shape and times; whether it fits a
// problem is Check's business. Errors are as for ReadProblem.
func ReadSchedule(r io.Reader) (*Schedule, error) {
	var s Schedule
	if err := decode(r, scheduleShape, &s); err != nil {
		return nil, err
	}
	var errs fieldErrors
	for i, a := range s.Assignments {
		path := fmt.Sprintf("assignments[%d]", i)
		if a.Summons == "" {
			errs.add(path+".summons", "must not be empty")
		}
		if _, ok := parseTime(a.Start); !ok {
			errs.add(path+".start", "%q is not YYYY-MM-DDTHH:MM", a.Start)
		}
		for j, id := range a.Appraisers {
			if id == "" {
				errs.add(fmt.Sprintf("%s.appraisers[%d]", path, j), "must not be empty")
			}
		}
	}
	if err := errs.err(); err != nil {
		return nil, err
	}
	return &s, nil
}

// WriteSchedule writes s as indented JSON in the schedule format of SCHEDULING.md §6.
func WriteSchedule(w io.Writer, s *Schedule) error {
	out := *s
	if out.Assignments == nil {
		out.Assignments = []Assignment{}
	}
	for i, a := range out.Assignments {
		if a.Appraisers == nil {
			out.Assignments[i].Appraisers = []string{}
		}
	}
	return encode(w, &out)
}

func encode(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	_, err = w.Write(b)
	return err
}

// decode reads one JSON value, checks it against sh (types, required and unknown fields,
// each error with its path), then decodes it into v.
func decode(r io.Reader, sh *shape, v any) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var raw any
	if err := dec.Decode(&raw); err != nil {
		return syntaxError(data, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return &FieldError{Message: "unexpected data after the JSON value"}
	}
	var errs fieldErrors
	sh.check(raw, "", &errs)
	if err := errs.err(); err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return &FieldError{Message: err.Error()}
	}
	return nil
}

// syntaxError turns a JSON syntax error into a FieldError with line and column.
func syntaxError(data []byte, err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line, col := 1, 1
		for _, c := range data[:min(int(se.Offset), len(data))] {
			if c == '\n' {
				line, col = line+1, 1
			} else {
				col++
			}
		}
		return &FieldError{Message: fmt.Sprintf("invalid JSON at line %d, column %d: %v", line, col, err)}
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return &FieldError{Message: "invalid JSON: unexpected end of file"}
	}
	return &FieldError{Message: "invalid JSON: " + err.Error()}
}

// kind is the JSON type a shape expects.
type kind uint8

const (
	kObject kind = iota
	kArray
	kString
	kInt
	kStringMap // an object of strings
)

// shape describes the JSON a file must have, so errors can name the path (encoding/json
// names neither array indices nor, for unknown fields, the object).
type shape struct {
	kind   kind
	fields []field // kObject
	elem   *shape  // kArray
}

type field struct {
	name     string
	shape    *shape
	required bool
}

var (
	str    = &shape{kind: kString}
	intg   = &shape{kind: kInt}
	strArr = &shape{kind: kArray, elem: str}
)

func obj(fields ...field) *shape { return &shape{kind: kObject, fields: fields} }
func arr(elem *shape) *shape     { return &shape{kind: kArray, elem: elem} }
func req(name string, sh *shape) field {
	return field{name: name, shape: sh, required: true}
}
func opt(name string, sh *shape) field { return field{name: name, shape: sh} }

var (
	interval  = obj(req("start", str), req("end", str))
	named     = obj(req("id", str), opt("name", str))
	appraiser = obj(req("id", str), opt("name", str), req("institution", str),
		opt("categories", strArr), opt("max_per_day", intg), opt("busy", arr(interval)))
	room    = obj(req("id", str), opt("name", str), req("institution", str))
	summons = obj(req("id", str), req("court", str), req("duration_minutes", intg),
		req("mode", str), req("windows", arr(interval)), opt("named", strArr),
		opt("pool", obj(req("institution", str), req("category", str), req("k", intg))))

	problemShape = obj(
		req("format", str),
		req("name", str),
		opt("generator", &shape{kind: kStringMap}),
		req("calendar", obj(req("start_date", str), req("num_days", intg),
			opt("holidays", strArr), opt("workdays", strArr))),
		opt("institutions", arr(named)),
		opt("categories", arr(named)),
		opt("courts", arr(named)),
		opt("appraisers", arr(appraiser)),
		opt("rooms", arr(room)),
		opt("summons", arr(summons)),
	)
	scheduleShape = obj(
		req("instance", str),
		opt("solver", str),
		opt("assignments", arr(obj(req("summons", str), req("start", str), opt("room", str),
			req("appraisers", strArr)))),
	)
)

// check appends an error for every place v departs from sh. JSON null counts as absent.
func (sh *shape) check(v any, path string, errs *fieldErrors) {
	switch sh.kind {
	case kObject, kStringMap:
		m, ok := v.(map[string]any)
		if !ok {
			errs.add(path, "want an object, got %s", jsonType(v))
			return
		}
		if sh.kind == kStringMap {
			for _, k := range sortedKeys(m) {
				if _, ok := m[k].(string); !ok {
					errs.add(join(path, k), "want a string, got %s", jsonType(m[k]))
				}
			}
			return
		}
		known := make(map[string]bool, len(sh.fields))
		for _, f := range sh.fields {
			known[f.name] = true
			fv, present := m[f.name]
			if !present || fv == nil {
				if f.required {
					errs.add(join(path, f.name), "required")
				}
				continue
			}
			f.shape.check(fv, join(path, f.name), errs)
		}
		for _, k := range sortedKeys(m) {
			if !known[k] {
				errs.add(join(path, k), "unknown field")
			}
		}
	case kArray:
		a, ok := v.([]any)
		if !ok {
			errs.add(path, "want an array, got %s", jsonType(v))
			return
		}
		for i, e := range a {
			sh.elem.check(e, fmt.Sprintf("%s[%d]", path, i), errs)
		}
	case kString:
		if _, ok := v.(string); !ok {
			errs.add(path, "want a string, got %s", jsonType(v))
		}
	case kInt:
		n, ok := v.(json.Number)
		if !ok {
			errs.add(path, "want an integer, got %s", jsonType(v))
			return
		}
		if _, err := strconv.ParseInt(string(n), 10, 32); err != nil {
			errs.add(path, "want an integer, got %s", n)
		}
	}
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func jsonType(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case string:
		return strconv.Quote(v)
	case json.Number:
		return string(v)
	case bool:
		return strconv.FormatBool(v)
	}
	return fmt.Sprintf("%T", v)
}
