package http

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"time"

	"github.com/chuting/chuting"
)

// IdempotencyHeader names the key a client sends so that retrying a write is safe: the same
// key with the same request within IdempotencyTTL gets the first answer again, marked with
// the header Idempotent-Replayed: true, and acts once.
const (
	IdempotencyHeader = "Idempotency-Key"
	IdempotencyTTL    = 24 * time.Hour
	// idempotencyPending is how long a first request may run before a retry may take over
	// its key (the first one crashed). Longer than any write runs: serving a summons may wait
	// for an institution's booking lease (up to 2 min, held by a node that died) and then hold
	// it; a retry taking the key over meanwhile served a second summons.
	idempotencyPending = 5 * time.Minute
)

// idempotent wraps a write handler with Idempotency-Key handling (Stripe's scheme): the key
// is claimed in the store before the handler runs, so two requests with one key cannot both
// act, even at the same moment; the answer is stored with it. Errors 5xx are not kept, so
// the client can retry them.
func (s *Server) idempotent(next func(http.ResponseWriter, *http.Request) error) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		key := r.Header.Get(IdempotencyHeader)
		if key == "" {
			return next(w, r)
		}
		if len(key) > 200 {
			return chuting.FieldError(IdempotencyHeader, "Idempotency-Key 过长 / Idempotency-Key is longer than 200 characters")
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.maxBody))
		if err != nil {
			return tooLarge(s.maxBody)
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		p := chuting.UserFromContext(r.Context())
		sum := sha256.Sum256([]byte(r.Method + " " + r.URL.Path + "\n" + string(body)))
		rec := &chuting.IdempotentRequest{Meta: chuting.Meta{ID: chuting.IDOf("idem\x00" + p.UserID + "\x00" + key)},
			UserID: p.UserID, Route: noteOf(r).route, RequestHash: hex.EncodeToString(sum[:]),
			Expires: s.now().Add(IdempotencyTTL).UTC()}
		if replayed, err := s.claim(w, r, rec); replayed || err != nil {
			return err
		}
		rw := &recorder{ResponseWriter: w}
		err = next(rw, r)
		if err != nil {
			s.writeError(rw, r, err)
		}
		// The client may have hung up (that is when it retries): the key's outcome must be
		// stored anyway, or a retry would act a second time.
		ctx := context.WithoutCancel(r.Context())
		if rw.status >= 300 || rw.status == 0 {
			_ = chuting.Remove(ctx, s.store, rec) // free the key: the client may retry
			return nil
		}
		rec.Done, rec.Status, rec.Body = true, rw.status, rw.body.Bytes()
		if err := chuting.Save(ctx, s.store, rec); err != nil {
			s.logger.WarnContext(r.Context(), "store idempotent answer", "err", err)
		}
		return nil
	}
}

// claim takes the key for this request, or answers from an earlier one: replayed is true when
// the answer was written.
func (s *Server) claim(w http.ResponseWriter, r *http.Request, rec *chuting.IdempotentRequest) (replayed bool, err error) {
	ctx := r.Context()
	for range 3 {
		err := chuting.Create(ctx, s.store, rec)
		if chuting.ErrorCode(err) != chuting.ECONFLICT {
			return false, err
		}
		prev, err := chuting.Load[chuting.IdempotentRequest](ctx, s.store, rec.ID)
		if chuting.ErrorCode(err) == chuting.ENOTFOUND {
			continue // freed meanwhile: claim again
		} else if err != nil {
			return false, err
		}
		switch {
		case s.now().After(prev.Expires) || !prev.Done && s.now().After(prev.Created.Add(idempotencyPending)):
			// Expired, or its first request died: start afresh.
			if err := chuting.Remove(ctx, s.store, prev); err != nil && chuting.ErrorCode(err) != chuting.ENOTFOUND &&
				chuting.ErrorCode(err) != chuting.ECONFLICT {
				return false, err
			}
			continue
		case prev.RequestHash != rec.RequestHash:
			return false, &chuting.Error{Code: chuting.ECONFLICT, Field: IdempotencyHeader,
				Message: "此 Idempotency-Key 已用于另一请求 / this Idempotency-Key was used for a different request"}
		case !prev.Done:
			return false, &chuting.Error{Code: chuting.ECONFLICT, Field: IdempotencyHeader,
				Message: "相同请求正在处理中，请稍后重试 / the same request is still being processed; retry shortly"}
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Idempotent-Replayed", "true")
		w.WriteHeader(prev.Status)
		_, _ = w.Write(prev.Body)
		return true, nil
	}
	return false, chuting.Errorf(chuting.ECONFLICT, "Idempotency-Key 竞争，请重试 / the Idempotency-Key is contended; retry")
}

// recorder keeps a copy of what a handler answers.
type recorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}

// SweepIdempotency deletes the remembered answers whose time has passed, and returns how
// many. A periodic job runs it.
func (s *Server) SweepIdempotency(ctx context.Context) (int, error) {
	q := chuting.Query{Kind: chuting.KindIdempotency, Index: chuting.IndexExpires, To: chuting.TimeKey(s.now())}
	n := 0
	for {
		page, next, err := chuting.Find[chuting.IdempotentRequest](ctx, s.store, q)
		if err != nil {
			return n, err
		}
		for _, rec := range page {
			if err := chuting.Remove(ctx, s.store, rec); err == nil {
				n++
			} else if code := chuting.ErrorCode(err); code != chuting.ENOTFOUND && code != chuting.ECONFLICT {
				return n, err
			}
		}
		if next == "" {
			return n, nil
		}
		q.After = next
	}
}
