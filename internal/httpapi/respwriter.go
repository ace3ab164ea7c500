package httpapi

import (
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"io"
	"net/http"
	"strconv"

	"github.com/ossd/ossd/internal/auth"
)

// respWriter records status and body bytes for the access log, keeps
// io.ReaderFrom so that object bodies still reach sendfile, and holds back
// the last byte of a body whose length was declared: the client cannot
// finish reading the response until release, which runs after the
// request's access-log record is durable. (Bodies that fit net/http's
// buffers are not sent before the handler returns anyway; large ones are
// streamed, and without the held byte a client could see a complete
// response whose record a crash then loses.)
type respWriter struct {
	http.ResponseWriter
	status      int
	n           int64
	wroteHeader bool
	// remaining is the declared body length not yet written; -1 when
	// undeclared (or no body is sent).
	remaining int64
	held      []byte
	// onHeader, when set, edits the headers just before they are sent
	// (the S3 dialect renames them).
	onHeader func(http.Header)
	// wdl enforces the write idle timeout; nil when there is none.
	wdl *idleDeadline
	// ridle is the request body's read idle timeout (nil when none).
	ridle *readIdle
	// body is the request body (nil when there is none).
	body *countingBody
}

// holdBackMin is the body size up to which net/http keeps the whole
// response in its buffer until the handler returns (bufferBeforeChunkingSize).
const holdBackMin = 2048

func newRespWriter(w http.ResponseWriter) *respWriter {
	return &respWriter{ResponseWriter: w, remaining: -1}
}

func (w *respWriter) WriteHeader(code int) {
	if w.wroteHeader {
		return
	}
	w.wroteHeader = true
	w.status = code
	if w.onHeader != nil {
		w.onHeader(w.Header())
	}
	if cl := w.Header().Get("Content-Length"); cl != "" && code != http.StatusNoContent && code != http.StatusNotModified {
		// A body that fits net/http's first buffer (2 KiB) is not sent
		// before the handler returns, so it needs no hold-back.
		if n, err := strconv.ParseInt(cl, 10, 64); err == nil && n > holdBackMin {
			w.remaining = n
		}
	}
	// The deadline also covers what net/http flushes after the handler
	// returns (it clears it once the response is out).
	w.wdl.progress()
	// The operation is answering without having read the whole request
	// body (a GET that declares Content-Length: 9, an upload refused
	// before its body). net/http would first drain up to 256 KiB of it,
	// waiting for bytes the client may never send: the client would get
	// no response at all. Closing the connection after the reply makes it
	// answer at once (it still reads what the client sends, after the
	// response, so that closing resets nothing). Full-duplex mode would
	// keep the connection, but net/http then fails the next request on it.
	if w.body != nil && w.body.unread() {
		w.Header().Set("Connection", "close")
	}
	// The read deadline bounds that drain.
	w.ridle.before()
	w.ResponseWriter.WriteHeader(code)
}

func (w *respWriter) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	w.wdl.progress()
	if w.remaining > 0 && int64(len(p)) >= w.remaining {
		k := w.remaining - 1
		n, err := w.ResponseWriter.Write(p[:k])
		w.n += int64(n)
		if err != nil {
			return n, err
		}
		w.held = append(w.held[:0], p[k])
		w.remaining = 0
		return len(p), nil
	}
	if w.remaining > 0 {
		w.remaining -= int64(len(p))
	}
	n, err := w.ResponseWriter.Write(p)
	w.n += int64(n)
	return n, err
}

func (w *respWriter) ReadFrom(r io.Reader) (int64, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	rf, isRF := w.ResponseWriter.(io.ReaderFrom)
	if !isRF { // not net/http's own writer (a recorder, a middleware)
		return io.Copy(writerOnly{w}, r)
	}
	lr, ok := r.(*io.LimitedReader)
	if w.remaining <= 0 || !ok || lr.N < w.remaining {
		if !ok && (w.remaining > 0 || w.wdl != nil) {
			return io.Copy(writerOnly{w}, r) // keeps the hold-back and the write deadline in Write
		}
		n, err := w.send(rf, r)
		w.n += n
		if w.remaining > 0 {
			w.remaining -= n
		}
		return n, err
	}
	// This read completes the body: send all but the last byte (still by
	// sendfile, as lr keeps its *os.File), then hold that byte.
	extra := lr.N - (w.remaining - 1)
	lr.N -= extra
	n, err := w.send(rf, lr)
	lr.N += extra
	w.n += n
	w.remaining -= n
	if err != nil || w.remaining != 1 {
		return n, err
	}
	var last [1]byte
	if _, err := io.ReadFull(lr, last[:]); err != nil {
		return n, err
	}
	w.held = append(w.held[:0], last[0])
	w.remaining = 0
	return n + 1, nil
}

// send hands r to net/http's ReadFrom (sendfile for a LimitedReader over
// a file), in deadline-extending chunks when a write idle timeout is set;
// r is then always a *io.LimitedReader (ReadFrom routes others to Write).
func (w *respWriter) send(rf io.ReaderFrom, r io.Reader) (int64, error) {
	if w.wdl == nil {
		return rf.ReadFrom(r)
	}
	return sendIdle(rf, r.(*io.LimitedReader), w.wdl)
}

// release sends the held byte, completing the response.
func (w *respWriter) release() {
	if len(w.held) > 0 {
		w.wdl.progress()
		n, _ := w.ResponseWriter.Write(w.held)
		w.n += int64(n)
		w.held = nil
	}
}

// writerOnly hides ReadFrom so io.Copy uses Write.
type writerOnly struct{ io.Writer }

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *respWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// countingBody counts request body bytes read, for the access log, and
// enforces the body read idle timeout (idle is nil when there is none).
type countingBody struct {
	io.ReadCloser
	n        int64
	declared int64 // Content-Length, -1 when unknown (chunked)
	idle     *readIdle
	ended    bool // a read returned EOF or an error: nothing more will be read
}

// unread reports a request body the client declared and the operation has
// not read to its end. (net/http returns EOF with the last declared byte.)
func (c *countingBody) unread() bool {
	if c.declared >= 0 {
		return c.n < c.declared && !c.ended
	}
	return !c.ended
}

func (c *countingBody) Read(p []byte) (int, error) {
	c.idle.before()
	n, err := c.ReadCloser.Read(p)
	c.n += int64(n)
	c.ended = c.ended || err != nil
	return n, c.idle.after(err)
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
	h   hash.Hash
	res auth.Result
}

func newPayloadVerifier(body io.ReadCloser, res auth.Result) *payloadVerifier {
	return &payloadVerifier{ReadCloser: body, h: sha256.New(), res: res}
}

func (p *payloadVerifier) Read(b []byte) (int, error) {
	n, err := p.ReadCloser.Read(b)
	p.h.Write(b[:n])
	return n, err
}

var _ auth.BodyVerifier = (*payloadVerifier)(nil)

// Verify implements auth.BodyVerifier: it reports a mismatch between the
// signed hash and the bytes read, after the check of the body it wraps.
func (p *payloadVerifier) Verify() error {
	if err := auth.VerifyBody(p.ReadCloser); err != nil {
		return err
	}
	if got := hex.EncodeToString(p.h.Sum(nil)); got != p.res.PayloadSHA256 {
		return auth.PayloadMismatch(p.res, got) // S3's or OSS's error, by dialect
	}
	return nil
}
