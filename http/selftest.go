package http

import (
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/chuting/chuting"
)

// SelfTestMaxBytes is the largest upload the device self-test sends: enough to measure a
// connection of tens of megabits a second within a few seconds, small enough to cost little.
const SelfTestMaxBytes = 4 << 20

// selfTestUpload receives and discards the self-test page's upload, answering how many bytes
// came and how long reading them took, so that the page can tell the upload bandwidth before
// a hearing (#19, #47; HMCTS: 0.5 Mb/s for audio, 4 Mb/s for video).
func (s *Server) selfTestUpload(w http.ResponseWriter, r *http.Request) error {
	start := time.Now()
	n, err := io.Copy(io.Discard, http.MaxBytesReader(w, r.Body, SelfTestMaxBytes))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return chuting.Errorf(chuting.ETOOLARGE, "自检上传过大 / the self-test upload is too large")
	} else if err != nil {
		return chuting.Errorf(chuting.EINVALID, "自检上传中断 / the self-test upload was cut off")
	}
	writeJSON(w, http.StatusOK, map[string]any{"bytes": n, "milliseconds": time.Since(start).Milliseconds()})
	return nil
}
