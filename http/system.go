package http

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/chuting/chuting"
	"sigs.k8s.io/yaml"
)

// healthz answers while the process is up, whatever the store does: for a supervisor deciding
// whether to restart the process.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "version": s.version})
	return nil
}

// readyz answers 200 when the store is reachable, else 503: for a load balancer deciding
// whether to send traffic here.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		return &chuting.Error{Code: chuting.EUNAVAILABLE, Message: "存储不可用 / the store is unreachable", Err: err}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	return nil
}

// openAPIDoc is the OpenAPI 3.1 document of the API, in YAML. A test checks that every route of
// the table is in it.
//
//go:embed openapi.yaml
var openAPIDoc []byte

var openAPIJSON = sync.OnceValues(func() ([]byte, error) { return yaml.YAMLToJSON(openAPIDoc) })

func (s *Server) openAPIYAML(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/yaml; charset=utf-8")
	_, err := w.Write(openAPIDoc)
	if err != nil {
		logWriteFailure(s.logger, r, err)
	}
	return nil
}

func (s *Server) openAPIJSON(w http.ResponseWriter, r *http.Request) error {
	doc, err := openAPIJSON()
	if err != nil {
		return fmt.Errorf("openapi.yaml to JSON: %w", err)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	if _, err := w.Write(doc); err != nil {
		logWriteFailure(s.logger, r, err)
	}
	return nil
}

// auditItem is one audit event as listed, with its sequence number in the log.
type auditItem struct {
	Seq uint64 `json:"seq"`
	chuting.AuditEvent
}

// listAudit pages through the audit log, oldest first; next is the seq to pass as after.
func (s *Server) listAudit(w http.ResponseWriter, r *http.Request) error {
	v := r.URL.Query()
	var after uint64
	if a := v.Get("after"); a != "" {
		n, err := strconv.ParseUint(a, 10, 64)
		if err != nil {
			return chuting.FieldError("after", "after 须为序号 / after must be a sequence number")
		}
		after = n
	}
	limit := chuting.DefaultLimit
	if l := v.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > chuting.MaxLimit {
			return chuting.FieldError("limit", "limit 须为 1 到 %d 的整数 / limit must be an integer from 1 to %d",
				chuting.MaxLimit, chuting.MaxLimit)
		}
		limit = n
	}
	evs, err := s.store.Events(r.Context(), chuting.AuditStream, after, limit)
	if err != nil {
		return err
	}
	out := List[auditItem]{Items: make([]auditItem, 0, len(evs))}
	for _, e := range evs {
		it := auditItem{Seq: e.Seq}
		if err := json.Unmarshal(e.Data, &it.AuditEvent); err != nil {
			return fmt.Errorf("audit event %d: %w", e.Seq, err)
		}
		out.Items = append(out.Items, it)
	}
	if len(evs) == limit {
		out.Next = strconv.FormatUint(evs[len(evs)-1].Seq, 10)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// backup streams a consistent snapshot of the embedded store, taken while the server keeps
// serving. It holds every write acknowledged before the request began. The Redis store is
// backed up with Redis's own tools (README, "Backups").
func (s *Server) backup(w http.ResponseWriter, r *http.Request) error {
	b, ok := s.store.(chuting.Backuper)
	if !ok {
		return chuting.Errorf(chuting.ENOTIMPL, "Redis 存储请用 Redis 自身的备份（见 README）/ back up the Redis store with Redis's own tools (see the README)")
	}
	setTarget(r, "store")
	name := "chuting-" + s.now().UTC().Format("20060102T150405Z") + ".db"
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	if _, err := b.Backup(r.Context(), w); err != nil {
		// The status line is gone; the client sees a truncated body (and a bbolt file that
		// does not open), and the log says why.
		s.logger.ErrorContext(r.Context(), "backup", "err", err)
		panic(http.ErrAbortHandler)
	}
	return nil
}
