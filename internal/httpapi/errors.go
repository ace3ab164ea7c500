package httpapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"net/http"
	"strconv"
	"syscall"

	"github.com/ossd/ossd/internal/oss"
	"github.com/ossd/ossd/internal/service"
)

// toOSS maps any error to the OSS error a client gets. Unexpected errors
// become InternalError, logged with the request id (their text never
// reaches the client).
func (h *Handler) toOSS(rq *request, err error) *oss.Error {
	var oe *oss.Error
	switch {
	case errors.As(err, &oe):
		if !rq.s3 && oe.Code == oss.ErrBadDigest.Code {
			return oss.ErrContentMD5Mismatch // OSS's name for S3's BadDigest
		}
		return oe
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		h.log.Error("storage full", "request_id", rq.id, "err", err)
		return oss.ErrInsufficientStorage
	case errors.Is(err, service.ErrUnavailable):
		// Before the context cases: the store's own timeout is not the
		// client's.
		h.log.Warn("metadata store unavailable", "request_id", rq.id, "op", rq.op, "err", err)
		return errMetaUnavailable
	case errors.Is(err, context.DeadlineExceeded):
		return oss.ErrRequestTimeout
	case errors.Is(err, context.Canceled):
		return oss.ErrRequestTimeout.WithMessage("The client closed the connection before the request completed.")
	}
	h.log.Error("internal error", "request_id", rq.id, "op", rq.op, "bucket", rq.bucket, "key", rq.key, "err", err)
	return oss.ErrInternalError
}

// errMetaUnavailable is what a client gets while the metadata store
// (PostgreSQL, with --meta) cannot be reached: 503, which SDKs retry.
var errMetaUnavailable = oss.ErrServiceUnavailable.WithMessage("The metadata store is unavailable. Please try again later.")

// writeError is the one place errors become responses.
func (h *Handler) writeError(rq *request, err error) {
	oe := h.toOSS(rq, err)
	rq.entry.ErrorCode = oe.Code
	w := rq.w
	if w.wroteHeader {
		// Headers are out (a body failed mid-stream): all that is left is
		// to cut the connection so the client sees a truncated body.
		panic(http.ErrAbortHandler)
	}
	hdr := w.Header()
	var dm *service.DeleteMarkerError
	if errors.As(err, &dm) {
		hdr.Set("x-oss-delete-marker", "true")
		hdr.Set("x-oss-version-id", dm.VersionID)
	}
	var pe *service.PositionError
	if errors.As(err, &pe) {
		hdr.Set("x-oss-next-append-position", strconv.FormatInt(pe.Next, 10))
	}
	body := errorXML(oe, rq.id, h.hostID(rq), rq.s3)
	if oe.EC != "" {
		hdr.Set("x-oss-ec", oe.EC)
	}
	for _, k := range []string{"ETag", "Last-Modified", "Content-Range", "Accept-Ranges", "x-oss-hash-crc64ecma", "Content-Disposition", "Content-Encoding", "Cache-Control", "Expires"} {
		if k == "Content-Range" && oe.Status == http.StatusRequestedRangeNotSatisfiable {
			continue // "bytes */size" tells the client the size (RFC 9110 §15.5.17)
		}
		hdr.Del(k)
	}
	if oe.Status == http.StatusNotModified || rq.r.Method == http.MethodHead {
		if !rq.s3 {
			hdr.Set("x-oss-err", base64.StdEncoding.EncodeToString(body))
		}
		hdr.Del("Content-Type")
		hdr.Set("Content-Length", "0")
		w.WriteHeader(oe.Status)
		return
	}
	hdr.Set("Content-Type", "application/xml")
	hdr.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(oe.Status)
	w.Write(body)
}

func (h *Handler) hostID(rq *request) string {
	if rq.r.Host != "" {
		return rq.r.Host
	}
	return "ossd"
}

// errorXML renders OSS's error body.
// S3 clients get S3's shape: no EC or RecommendDoc.
func errorXML(e *oss.Error, requestID, hostID string, s3 bool) []byte {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	b.WriteString("<Error>\n")
	el := func(name, v string) {
		b.WriteString("  <" + name + ">")
		xml.EscapeText(&b, []byte(v))
		b.WriteString("</" + name + ">\n")
	}
	el("Code", e.Code)
	el("Message", e.Message)
	el("RequestId", requestID)
	el("HostId", hostID)
	for _, kv := range e.Extra {
		el(kv.Name, kv.Value)
	}
	if !s3 && e.EC != "" { // an entry without an EC (NotImplemented) omits both
		el("EC", e.EC)
		el("RecommendDoc", "https://api.aliyun.com/troubleshoot?q="+e.EC)
	}
	b.WriteString("</Error>\n")
	return b.Bytes()
}
