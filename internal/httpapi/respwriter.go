package httpapi

import (
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"io"
	"net/http"

	"github.com/ossd/ossd/internal/oss"
)

// respWriter records status and body bytes for the access log. It keeps
// io.ReaderFrom so that object bodies still reach sendfile.
type respWriter struct {
	http.ResponseWriter
	status      int
	n           int64
	wroteHeader bool
}

func newRespWriter(w http.ResponseWriter) *respWriter { return &respWriter{ResponseWriter: w} }

func (w *respWriter) WriteHeader(code int) {
	if w.wroteHeader {
		return
	}
	w.wroteHeader = true
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *respWriter) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	n, err := w.ResponseWriter.Write(p)
	w.n += int64(n)
	return n, err
}

func (w *respWriter) ReadFrom(r io.Reader) (int64, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	n, err := w.ResponseWriter.(io.ReaderFrom).ReadFrom(r)
	w.n += n
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *respWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// countingBody counts request body bytes read, for the access log.
type countingBody struct {
	io.ReadCloser
	n int64
}

func (c *countingBody) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.n += int64(n)
	return n, err
}

func (rq *request) bodyRead() int64 {
	if c, ok := rq.r.Body.(*countingBody); ok {
		return c.n
	}
	return 0
}

// payloadVerifier checks a V4 signed payload hash (x-oss-content-sha256)
// against the body. Verify is called by the service after the body is
// read and before the write commits; readBody calls it for XML bodies.
type payloadVerifier struct {
	io.ReadCloser
	h    hash.Hash
	want string
}

func newPayloadVerifier(body io.ReadCloser, want string) *payloadVerifier {
	return &payloadVerifier{ReadCloser: body, h: sha256.New(), want: want}
}

func (p *payloadVerifier) Read(b []byte) (int, error) {
	n, err := p.ReadCloser.Read(b)
	p.h.Write(b[:n])
	return n, err
}

// Verify reports a mismatch between the signed hash and the bytes read.
func (p *payloadVerifier) Verify() error {
	if hex.EncodeToString(p.h.Sum(nil)) != p.want {
		return oss.ErrInvalidDigest.WithMessage("The provided 'x-oss-content-sha256' header does not match what was computed.")
	}
	return nil
}
