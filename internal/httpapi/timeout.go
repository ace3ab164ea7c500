package httpapi

import (
	"errors"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/ossd/ossd/internal/oss"
)

// Idle timeouts on request and response bodies. net/http's ReadTimeout and
// WriteTimeout bound a whole request, which would cut off a legitimate slow
// upload or download of a large object; ossd instead bounds the time
// without progress: a body read fails when no byte arrives for
// Config.BodyReadTimeout, a response write fails when the client takes no
// byte for Config.BodyWriteTimeout. Either way the connection is closed, so
// a client that stalls (slowloris on the body, or never reading a large
// GET) holds a goroutine and a socket for a bounded time only.

// idleDeadline keeps a connection deadline at least d after the last
// progress. It moves the deadline at most once per step (a clock read is
// all the hot path pays between moves), and sets it d+step ahead so that
// skipping a move never cuts a client before d of silence.
type idleDeadline struct {
	set  func(time.Time) error
	d    time.Duration
	step time.Duration
	next time.Time // the deadline needs moving from this instant on
	off  bool      // the connection has no deadlines (e.g. a test recorder)
}

func newIdleDeadline(set func(time.Time) error, d time.Duration) *idleDeadline {
	if d <= 0 {
		return nil
	}
	return &idleDeadline{set: set, d: d, step: min(time.Second, d/4)}
}

// progress records that the body moved (or is about to be read or written
// for the first time) and pushes the deadline when due.
func (t *idleDeadline) progress() {
	if t == nil || t.off {
		return
	}
	now := time.Now()
	if now.Before(t.next) {
		return
	}
	if err := t.set(now.Add(t.d + t.step)); err != nil {
		t.off = true // http.ErrNotSupported: nothing to enforce
		return
	}
	t.next = now.Add(t.step)
}

// isTimeout reports a deadline set by idleDeadline expiring.
func isTimeout(err error) bool { return errors.Is(err, os.ErrDeadlineExceeded) }

// readIdle enforces BodyReadTimeout on the raw request body (the bottom of
// every body wrapper, so it sees socket progress, not decoded bytes).
type readIdle struct {
	dl  *idleDeadline
	hdr http.Header // the response's headers, to close the connection on timeout
	// done: the body ended (EOF or error). net/http has then started its
	// own background read with no deadline, which must stay that way: a
	// deadline hitting it would cancel the request's context.
	done bool
}

// before runs ahead of each raw body read.
func (ri *readIdle) before() {
	if ri != nil && !ri.done {
		ri.dl.progress()
	}
}

// after maps the read's error: a deadline becomes RequestTimeout and the
// connection is closed after the answer, as its stream is now mid-body.
func (ri *readIdle) after(err error) error {
	if ri == nil || err == nil {
		return err
	}
	ri.done = true
	if isTimeout(err) {
		ri.hdr.Set("Connection", "close")
		return oss.ErrRequestTimeout // OSS's answer to a client that stops mid-body
	}
	return err
}

// writeChunk is the most one write-deadline extension covers when net/http
// copies an object body through its buffers (TLS, where sendfile does not
// apply): each chunk must go out within BodyWriteTimeout, about 9 KiB/s at
// the 2-minute default. With sendfile a chunk that made progress when the
// deadline hit just gets a new deadline (sendIdle), so only a whole
// timeout without a byte taken cuts the client off. A chunk costs one more
// sendfile call and a few small allocations: nothing next to 1 MiB.
const writeChunk = 1 << 20

// sendIdle hands an object body to rf (net/http's ReadFrom, which reaches
// sendfile for a LimitedReader over an *os.File) in chunks, moving the
// write deadline before each; lr.N is decremented by what was sent.
func sendIdle(rf io.ReaderFrom, lr *io.LimitedReader, dl *idleDeadline) (int64, error) {
	var total int64
	for lr.N > 0 {
		dl.progress()
		step := min(lr.N, writeChunk)
		part := io.LimitedReader{R: lr.R, N: step}
		n, err := rf.ReadFrom(&part)
		lr.N -= n
		total += n
		if err != nil {
			// sendfile writes straight to the socket and can go on after
			// a deadline; the client took bytes in this window, so it
			// gets another. (On the buffered path a write error sticks:
			// the retry sends nothing and ends here.)
			if isTimeout(err) && n > 0 {
				continue
			}
			return total, err
		}
		if n < step {
			break // the source ended early
		}
	}
	return total, nil
}
