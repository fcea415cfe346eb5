package http

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"

	"github.com/chuting/chuting"
	"github.com/chuting/chuting/roster"
)

// importRoster reads an institution's roster of appraisers (鉴定人名册) from the body, a CSV
// or XLSX file, and creates or updates its appraisers (package roster). With dry_run=true it
// only reports. The answer is the roster.Result; a real import refused for bad rows is a 400
// whose message quotes the first problems, and a dry run lists them all.
//
// The body is a file, not JSON, so it has its own limit (roster.MaxBytes) instead of the
// server's JSON limit.
func (s *Server) importRoster(w http.ResponseWriter, r *http.Request) error {
	inst, err := load[chuting.Institution](s, r)
	if err != nil {
		return err
	}
	// The import writes the institution's appraisers, so it takes what writing one takes.
	if !canWrite(chuting.UserFromContext(r.Context()), &chuting.Appraiser{InstitutionID: inst.ID}) {
		return forbidden()
	}
	dryRun := false
	if v := r.URL.Query().Get("dry_run"); v != "" {
		if dryRun, err = strconv.ParseBool(v); err != nil {
			return chuting.FieldError("dry_run", "dry_run 须为 true 或 false / dry_run must be true or false")
		}
	}
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	format := roster.Format(mt)
	if err != nil || format != roster.CSV && format != roster.XLSX {
		return chuting.Errorf(chuting.EUNSUPPORTED, "名册须为 CSV（text/csv）或 XLSX（%s）文件 / the roster must be text/csv or %s",
			roster.XLSX, roster.XLSX)
	}
	if r.ContentLength > roster.MaxBytes {
		return tooLarge(roster.MaxBytes)
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, roster.MaxBytes))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return tooLarge(roster.MaxBytes)
	} else if err != nil {
		return &chuting.Error{Code: chuting.EINVALID, Message: "无法读取请求体 / cannot read the body", Err: fmt.Errorf("read roster: %w", err)}
	}
	up := roster.Upload{InstitutionID: inst.ID, Format: format, Data: data, DryRun: dryRun}
	if format == roster.CSV {
		up.Charset = params["charset"]
	}
	im := roster.Importer{Store: s.store, Now: s.now}
	res, err := im.Import(r.Context(), up)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}
