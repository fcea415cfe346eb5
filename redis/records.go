package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/chuting/chuting"
	goredis "github.com/redis/go-redis/v9"
)

// dropOldEntries is the Lua that removes the index entries a record was last written with,
// stored as JSON in its x field. A unique value is only released if the record still holds it.
// It expects rec, ix, uq and id to be set. cjson keeps the bytes of a value as they were, so
// what the script wrote is what it removes.
const dropOldEntries = `
local x = redis.call('HGET', rec, 'x')
if x then
  for _, e in ipairs(cjson.decode(x)) do
    redis.call('ZREM', ix .. e.n, e.v .. '\0' .. id)
    if e.u and redis.call('HGET', uq .. e.n, e.v) == id then
      redis.call('HDEL', uq .. e.n, e.v)
    end
  end
end
`

// putScript writes a record if its version is as expected and its unique values are free.
// KEYS: rec, ids. ARGV: ix key base, uq key base, id, expect, version, schema, data, then
// name, value, unique ("1" or "0") for each index entry. Every check comes before the first
// write, so a refused Put changes nothing. It returns {"ok"}, {"exists"}, {"missing"},
// {"stale", version} or {"taken", index name}.
var putScript = goredis.NewScript(`
local rec, ids = KEYS[1], KEYS[2]
local ix, uq, id, expect = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local cur = redis.call('HGET', rec, 'v')
if expect == '0' then
  if cur then return {'exists'} end
elseif not cur then
  return {'missing'}
elseif cur ~= expect then
  return {'stale', cur}
end
for i = 8, #ARGV, 3 do
  if ARGV[i+2] == '1' then
    local owner = redis.call('HGET', uq .. ARGV[i], ARGV[i+1])
    if owner and owner ~= id then return {'taken', ARGV[i]} end
  end
end
` + dropOldEntries + `
local entries = {}
for i = 8, #ARGV, 3 do
  local unique = ARGV[i+2] == '1'
  redis.call('ZADD', ix .. ARGV[i], 0, ARGV[i+1] .. '\0' .. id)
  if unique then redis.call('HSET', uq .. ARGV[i], ARGV[i+1], id) end
  entries[#entries+1] = {n = ARGV[i], v = ARGV[i+1], u = unique}
end
local xs = '[]' -- cjson encodes an empty table as {}
if #entries > 0 then xs = cjson.encode(entries) end
redis.call('HSET', rec, 'v', ARGV[5], 's', ARGV[6], 'd', ARGV[7], 'x', xs)
redis.call('ZADD', ids, 0, id)
return {'ok'}
`)

// deleteScript removes a record and its index entries if its version is as expected.
// KEYS: rec, ids. ARGV: ix key base, uq key base, id, expect. It returns {"ok"},
// {"missing"} or {"stale", version}.
var deleteScript = goredis.NewScript(`
local rec, ids = KEYS[1], KEYS[2]
local ix, uq, id, expect = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local cur = redis.call('HGET', rec, 'v')
if not cur then return {'missing'} end
if cur ~= expect then return {'stale', cur} end
` + dropOldEntries + `
redis.call('DEL', rec)
redis.call('ZREM', ids, id)
return {'ok'}
`)

// recFields are the hash fields a read fetches, in the order parseRecord expects.
var recFields = []string{"v", "s", "d", "x"}

// Get returns the record of kind with id. It implements chuting.Records.
func (s *Store) Get(ctx context.Context, kind chuting.Kind, id string) (chuting.Record, error) {
	if err := validKind(kind); err != nil {
		return chuting.Record{}, err
	}
	if err := s.begin(); err != nil {
		return chuting.Record{}, err
	}
	defer s.mu.RUnlock()
	return s.get(ctx, kind, id)
}

func (s *Store) get(ctx context.Context, kind chuting.Kind, id string) (chuting.Record, error) {
	vals, err := s.rdb.HMGet(ctx, s.recKey(kind, id), recFields...).Result()
	if err != nil {
		return chuting.Record{}, s.fail("get", err)
	}
	rec, found, err := parseRecord(kind, id, vals)
	if err != nil {
		return chuting.Record{}, err
	} else if !found {
		return chuting.Record{}, &chuting.Error{Code: chuting.ENOTFOUND, Message: "记录不存在 / record not found",
			Err: fmt.Errorf("%s %s", kind, id)}
	}
	return rec, nil
}

// parseRecord decodes the answer of HMGET recFields; found is false if the record is absent.
func parseRecord(kind chuting.Kind, id string, vals []any) (rec chuting.Record, found bool, err error) {
	if len(vals) != len(recFields) || vals[0] == nil {
		return rec, false, nil
	}
	str := func(i int) string { v, _ := vals[i].(string); return v }
	rec = chuting.Record{Kind: kind, ID: id, Data: []byte(str(2))}
	rec.Version, err = strconv.ParseInt(str(0), 10, 64)
	if err == nil {
		rec.Schema, err = strconv.Atoi(str(1))
	}
	if err == nil && str(3) != "" {
		err = json.Unmarshal([]byte(str(3)), &rec.Index)
	}
	if err != nil {
		return rec, false, &chuting.Error{Code: chuting.EINTERNAL, Message: "stored record is unreadable",
			Err: fmt.Errorf("decode %s %s: %w", kind, id, err)}
	}
	return rec, true, nil
}

// Put writes rec if the stored version is expect, with its index entries, in one Lua script.
// It implements chuting.Records.
func (s *Store) Put(ctx context.Context, rec chuting.Record, expect int64) error {
	if err := validRecord(rec, expect); err != nil {
		return err
	}
	if err := s.begin(); err != nil {
		return err
	}
	defer s.mu.RUnlock()
	return s.put(ctx, rec, expect)
}

// put runs putScript for a validated record.
func (s *Store) put(ctx context.Context, rec chuting.Record, expect int64) error {
	args := make([]any, 0, 7+3*len(rec.Index))
	args = append(args, s.ixKey(rec.Kind, ""), s.uqKey(rec.Kind, ""), rec.ID,
		strconv.FormatInt(expect, 10), strconv.FormatInt(rec.Version, 10), strconv.Itoa(rec.Schema), rec.Data)
	for _, e := range rec.Index {
		unique := "0"
		if e.Unique {
			unique = "1"
		}
		args = append(args, e.Name, e.Value, unique)
	}
	keys := []string{s.recKey(rec.Kind, rec.ID), s.idsKey(rec.Kind)}
	res, err := putScript.Run(ctx, s.rdb, keys, args...).StringSlice()
	if err != nil {
		return s.fail("put", err)
	}
	return scriptStatus(res, rec.Kind, rec.ID, expect)
}

// Delete removes the record and its index entries if its version is expect, in one Lua
// script. It implements chuting.Records.
func (s *Store) Delete(ctx context.Context, kind chuting.Kind, id string, expect int64) error {
	if err := validKind(kind); err != nil {
		return err
	}
	if err := s.begin(); err != nil {
		return err
	}
	defer s.mu.RUnlock()
	keys := []string{s.recKey(kind, id), s.idsKey(kind)}
	res, err := deleteScript.Run(ctx, s.rdb, keys,
		s.ixKey(kind, ""), s.uqKey(kind, ""), id, strconv.FormatInt(expect, 10)).StringSlice()
	if err != nil {
		return s.fail("delete", err)
	}
	return scriptStatus(res, kind, id, expect)
}

// scriptStatus maps the answer of putScript or deleteScript to the contract's errors.
func scriptStatus(res []string, kind chuting.Kind, id string, expect int64) error {
	if len(res) == 0 {
		return &chuting.Error{Code: chuting.EINTERNAL, Message: "存储出错 / store error",
			Err: errors.New("redis script returned nothing")}
	}
	switch res[0] {
	case "ok":
		return nil
	case "exists":
		return &chuting.Error{Code: chuting.ECONFLICT, Message: "记录已存在 / record already exists",
			Err: fmt.Errorf("%s %s exists", kind, id)}
	case "missing":
		return &chuting.Error{Code: chuting.ENOTFOUND, Message: "记录不存在 / record not found",
			Err: fmt.Errorf("%s %s", kind, id)}
	case "stale":
		return &chuting.Error{Code: chuting.ECONFLICT,
			Message: "记录已被修改，请重新读取 / record changed since it was read",
			Err:     fmt.Errorf("%s %s is at version %s, not %d", kind, id, at(res, 1), expect)}
	case "taken":
		name := at(res, 1)
		return &chuting.Error{Code: chuting.ECONFLICT, Field: name,
			Message: name + " 已被使用 / already taken"}
	}
	return &chuting.Error{Code: chuting.EINTERNAL, Message: "存储出错 / store error",
		Err: fmt.Errorf("redis script returned %q", res)}
}

func at(ss []string, i int) string {
	if i < len(ss) {
		return ss[i]
	}
	return ""
}

// validKind refuses kinds that would make keys ambiguous: a ':' in a kind would let
// rec:{kind}:{id} of one record name another's.
func validKind(kind chuting.Kind) error {
	if kind == "" || strings.ContainsAny(string(kind), ":\x00") {
		return chuting.FieldError("kind", "记录类型无效 / invalid record kind %q", kind)
	}
	return nil
}

// validRecord checks the rules of Records.Put that need no data from Redis. NUL is refused in
// ids and index values because it separates them in index members.
func validRecord(rec chuting.Record, expect int64) error {
	if err := validKind(rec.Kind); err != nil {
		return err
	}
	switch {
	case rec.ID == "":
		return chuting.FieldError("id", "记录缺少 ID / record has no ID")
	case strings.IndexByte(rec.ID, 0) >= 0:
		return chuting.FieldError("id", "ID 含有 NUL 字符 / ID contains NUL")
	case expect < 0:
		return chuting.FieldError("version", "期望版本无效 / expected version %d is negative", expect)
	case rec.Version != expect+1:
		return chuting.FieldError("version", "版本应为 %d / version must be %d, not %d", expect+1, expect+1, rec.Version)
	}
	for i, e := range rec.Index {
		switch {
		case e.Name == "" || strings.IndexByte(e.Name, 0) >= 0:
			return chuting.FieldError(fmt.Sprintf("index[%d].name", i), "索引名无效 / invalid index name %q", e.Name)
		case strings.IndexByte(e.Value, 0) >= 0:
			return chuting.FieldError(fmt.Sprintf("index[%d].value", i), "索引值含有 NUL 字符 / index value contains NUL")
		}
	}
	return nil
}
