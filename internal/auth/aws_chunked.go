package auth

import (
	"bufio"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/ossd/ossd/internal/oss"
)

// aws-chunked bodies (x-amz-content-sha256 STREAMING-*). The body is a
// series of chunks, then trailing headers in the trailer modes:
//
//	<hex size>;chunk-signature=<sig>\r\n<data>\r\n      (signed modes)
//	<hex size>\r\n<data>\r\n                            (STREAMING-UNSIGNED-PAYLOAD-TRAILER)
//	...
//	0;chunk-signature=<sig>\r\n  or  0\r\n             (final, empty chunk)
//	<name>:<value>\r\n ...                              (trailers, trailer modes only)
//	x-amz-trailer-signature:<sig>\r\n                   (STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER)
//	\r\n
//
// Each chunk signature chains on the previous one, starting from the
// request's own (seed) signature, so chunks can be neither changed,
// dropped, reordered nor appended:
//
//	AWS4-HMAC-SHA256-PAYLOAD \n timestamp \n scope \n prev-sig \n hex(SHA256("")) \n hex(SHA256(data))
//
// and the trailer signature chains on the final chunk's:
//
//	AWS4-HMAC-SHA256-TRAILER \n timestamp \n scope \n prev-sig \n hex(SHA256(trailers))
//
// where trailers is "name:value\n" per trailer, names lower-cased and
// sorted, as the SDKs sign them.

// MaxAWSChunkSize bounds one signed chunk, which ChunkedReader holds in
// memory until its signature is checked (SDKs send 64 KiB to 1 MiB).
const MaxAWSChunkSize = 16 << 20

// Limits on the framing, which is read line by line.
const (
	maxChunkLine    = 4096     // a chunk header or one trailer line
	maxTrailerBytes = 16 << 10 // all trailer lines together
)

const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// Streaming describes the aws-chunked body of an accepted SigV4 request
// (Result.Streaming). The HTTP layer reads the body through NewReader
// instead of hashing it; it must also drop "aws-chunked" from the
// Content-Encoding it stores (TrimAWSChunked) and take DecodedLength, not
// Content-Length, as the object's size. A Streaming may be used for one
// body only.
type Streaming struct {
	Mode string // AWSStreamingSigned, AWSStreamingSignedTrailer or AWSStreamingUnsignedTrailer

	// DecodedLength is x-amz-decoded-content-length, the size of the
	// decoded body, which the reader enforces. -1 when unknown: only
	// STREAMING-UNSIGNED-PAYLOAD-TRAILER may omit it (aws-sdk-go-v2 does for
	// a stream of unknown length); the signed modes require it.
	DecodedLength int64

	// Trailers are the names x-amz-trailer declared, lower-cased and
	// sorted (e.g. "x-amz-checksum-crc32"). The reader refuses a trailer
	// that was not declared and a declared one that is missing.
	Trailers []string

	ak                     string
	key                    []byte // SigV4 signing key
	seed, timestamp, scope string
}

// Signed reports whether the chunks carry signatures.
func (s *Streaming) Signed() bool { return s.Mode != AWSStreamingUnsignedTrailer }

func (s *Streaming) hasTrailer() bool { return s.Mode != AWSStreamingSigned }

// newStreaming reads the headers a streaming request needs.
func newStreaming(h http.Header, mode string) (*Streaming, *oss.Error) {
	s := &Streaming{Mode: mode, DecodedLength: -1}
	if v := hget(h, "x-amz-decoded-content-length"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 || !digits(v) {
			return nil, oss.ErrInvalidArgument.WithEC("").WithMessage("x-amz-decoded-content-length must be a non-negative integer.").
				With("ArgumentName", "x-amz-decoded-content-length").With("ArgumentValue", clip(v))
		}
		s.DecodedLength = n
	} else if s.Signed() {
		return nil, errAWSMissingDecodedLength.WithMessage("You must provide the x-amz-decoded-content-length header with a streaming upload.")
	}
	if s.hasTrailer() {
		seen := map[string]bool{}
		for _, v := range hvalues(h, "x-amz-trailer") {
			for _, n := range strings.Split(v, ",") {
				n = strings.ToLower(strings.TrimSpace(n))
				if n == "" {
					continue
				}
				if !token(n) || n == "x-amz-trailer-signature" {
					return nil, errAWSTrailerMalformed.WithMessage("x-amz-trailer names an invalid trailer %q.", clip(n))
				}
				if !seen[n] {
					seen[n] = true
					s.Trailers = append(s.Trailers, n)
				}
			}
		}
		sort.Strings(s.Trailers)
	}
	return s, nil
}

// NewReader returns the decoded body of a streaming request whose raw
// body is body (r.Body). Its Read returns the object's bytes; in the
// signed modes a chunk's bytes are returned only after its signature
// verified. It returns io.EOF only after the final chunk, the trailers
// (and the trailer signature) verified and the body ended, so a consumer
// that commits on a clean io.EOF never commits unverified or truncated
// data. Errors: a bad chunk or trailer signature is S3's
// SignatureDoesNotMatch, broken framing InvalidRequest or
// MalformedTrailerError, a body shorter than its declared length
// IncompleteBody (all *oss.Error); a failure of body itself is returned
// as is. The first error sticks. Close closes body if it is an io.Closer.
func (s *Streaming) NewReader(body io.Reader) *ChunkedReader {
	if body == nil {
		body = http.NoBody
	}
	return &ChunkedReader{s: s, body: body, br: bufio.NewReaderSize(body, maxChunkLine), prev: s.seed}
}

// ChunkedReader decodes and verifies an aws-chunked body; see
// Streaming.NewReader. It is not safe for concurrent use.
type ChunkedReader struct {
	s    *Streaming
	body io.Reader
	br   *bufio.Reader
	prev string // previous signature in the chain

	buf  []byte // signed: the verified chunk being returned
	off  int    // signed: how much of buf was returned
	left int64  // unsigned: bytes of the current chunk not yet returned
	crlf bool   // unsigned: the current chunk's CRLF is still to be read

	total   int64 // decoded bytes so far
	trailer http.Header
	err     error // sticky; io.EOF at the end
}

// Trailer returns the trailing headers (canonical keys, e.g.
// "X-Amz-Checksum-Crc32") once Read has returned io.EOF, and nil before.
// Their values are not checked here: verifying an x-amz-checksum-* against
// the bytes read is the caller's job. x-amz-trailer-signature is not
// included.
func (c *ChunkedReader) Trailer() http.Header {
	if c.err != io.EOF {
		return nil
	}
	return c.trailer
}

// Close closes the underlying body if it is an io.Closer.
func (c *ChunkedReader) Close() error {
	if cl, ok := c.body.(io.Closer); ok {
		return cl.Close()
	}
	return nil
}

func (c *ChunkedReader) Read(p []byte) (int, error) {
	for {
		switch {
		case c.err != nil:
			return 0, c.err
		case c.off < len(c.buf):
			n := copy(p, c.buf[c.off:])
			c.off += n
			return n, nil
		case c.left > 0:
			if len(p) == 0 {
				return 0, nil
			}
			if int64(len(p)) > c.left {
				p = p[:c.left]
			}
			n, err := c.br.Read(p)
			c.left -= int64(n)
			if err != nil && (c.left > 0 || err != io.EOF) {
				c.err = c.bodyErr(err)
				return n, c.err
			}
			return n, nil
		}
		if err := c.next(); err != nil {
			c.err = err
		}
	}
}

// bodyErr maps a failure to read the raw body: the body ending early is
// the client's fault (IncompleteBody); anything else (a timeout, a size
// limit) passes through for the HTTP layer to map.
func (c *ChunkedReader) bodyErr(err error) error {
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		return errAWSIncompleteBody
	}
	return err
}

func malformedChunk(why string) *oss.Error {
	return errAWSChunkMalformed.WithMessage("The aws-chunked request body is malformed: %s.", why)
}

// readLine reads one CRLF-terminated line and returns it without the CRLF.
func (c *ChunkedReader) readLine() (string, error) {
	line, err := c.br.ReadSlice('\n')
	switch {
	case errors.Is(err, bufio.ErrBufferFull):
		return "", malformedChunk("line too long")
	case err != nil:
		return "", c.bodyErr(err)
	case len(line) < 2 || line[len(line)-2] != '\r':
		return "", malformedChunk("line not terminated by CRLF")
	}
	return string(line[:len(line)-2]), nil
}

func (c *ChunkedReader) readCRLF() error {
	var b [2]byte
	if _, err := io.ReadFull(c.br, b[:]); err != nil {
		return c.bodyErr(err)
	}
	if b != [2]byte{'\r', '\n'} {
		return malformedChunk("chunk data not followed by CRLF")
	}
	return nil
}

// parseChunkHeader parses "<hex size>[;chunk-signature=<sig>]".
func (c *ChunkedReader) parseChunkHeader(line string) (int64, string, error) {
	sizeStr, ext, hasExt := strings.Cut(line, ";")
	if sizeStr == "" || len(sizeStr) > 15 {
		return 0, "", malformedChunk("invalid chunk size")
	}
	for i := 0; i < len(sizeStr); i++ {
		if !isHexDigit(sizeStr[i]) {
			return 0, "", malformedChunk("invalid chunk size")
		}
	}
	size, err := strconv.ParseInt(sizeStr, 16, 64)
	if err != nil {
		return 0, "", malformedChunk("invalid chunk size")
	}
	if !c.s.Signed() {
		if hasExt {
			return 0, "", malformedChunk("unexpected chunk extension in an unsigned stream")
		}
		return size, "", nil
	}
	sig, ok := strings.CutPrefix(ext, "chunk-signature=")
	if !hasExt || !ok || !isHexSHA256(sig) {
		return 0, "", malformedChunk("chunk header must be <hex-size>;chunk-signature=<64 hex digits>")
	}
	return size, strings.ToLower(sig), nil
}

// next reads the next chunk: into buf after checking its signature
// (signed), or up to its data (unsigned). The final chunk leads to finish.
func (c *ChunkedReader) next() error {
	if c.crlf {
		if err := c.readCRLF(); err != nil {
			return err
		}
		c.crlf = false
	}
	line, err := c.readLine()
	if err != nil {
		return err
	}
	size, sig, err := c.parseChunkHeader(line)
	if err != nil {
		return err
	}
	if d := c.s.DecodedLength; d >= 0 && size > d-c.total {
		return malformedChunk("more data than x-amz-decoded-content-length")
	}
	if !c.s.Signed() {
		if size == 0 {
			return c.finish()
		}
		c.total += size
		c.left, c.crlf = size, true
		return nil
	}
	if size > MaxAWSChunkSize {
		return malformedChunk("chunk larger than " + strconv.Itoa(MaxAWSChunkSize) + " bytes")
	}
	if err := c.fill(int(size)); err != nil {
		return err
	}
	if size > 0 {
		if err := c.readCRLF(); err != nil {
			return err
		}
	}
	sum := sha256.Sum256(c.buf)
	sts := "AWS4-HMAC-SHA256-PAYLOAD\n" + c.s.timestamp + "\n" + c.s.scope + "\n" + c.prev + "\n" + emptySHA256 + "\n" + hex.EncodeToString(sum[:])
	if !hmac.Equal([]byte(sig), []byte(hex.EncodeToString(hmacSHA256(c.s.key, sts)))) {
		c.buf = c.buf[:0]
		return c.mismatch(sig, sts)
	}
	c.prev = sig
	c.total += size
	c.off = 0
	if size == 0 {
		return c.finish()
	}
	return nil
}

func (c *ChunkedReader) mismatch(sig, sts string) *oss.Error {
	return errAWSSignatureDoesNotMatch.With("AWSAccessKeyId", c.s.ak).
		With("StringToSign", sts).With("SignatureProvided", sig).With("StringToSignBytes", spacedHex(sts))
}

// fill reads n bytes into buf, growing it as data arrives, so a chunk
// header that announces more than the client sends costs no more memory
// than what it sent.
func (c *ChunkedReader) fill(n int) error {
	c.buf = c.buf[:0]
	for len(c.buf) < n {
		if len(c.buf) == cap(c.buf) {
			c.buf = slices.Grow(c.buf, min(n-len(c.buf), max(cap(c.buf), 32<<10)))
		}
		m, err := c.br.Read(c.buf[len(c.buf):min(cap(c.buf), n)])
		c.buf = c.buf[:len(c.buf)+m]
		if err != nil && len(c.buf) < n {
			return c.bodyErr(err)
		}
	}
	return nil
}

// finish handles what follows the final chunk: the length check, the
// trailers and their signature, the end of the body.
func (c *ChunkedReader) finish() error {
	if d := c.s.DecodedLength; d >= 0 && c.total != d {
		return errAWSIncompleteBody
	}
	trailer := http.Header{}
	lines := map[string][]string{}
	var sig string
	var sigSeen bool
	size := 0
	for {
		line, err := c.readLine()
		if err != nil {
			return err
		}
		if line == "" {
			break
		}
		if size += len(line) + 2; size > maxTrailerBytes {
			return errAWSTrailerMalformed.WithMessage("The trailing headers are too large.")
		}
		if !c.s.hasTrailer() {
			return malformedChunk("trailing data after the final chunk")
		}
		name, value, ok := strings.Cut(line, ":")
		name = strings.ToLower(name)
		if !ok || !token(name) {
			return errAWSTrailerMalformed
		}
		value = strings.TrimSpace(value)
		if name == "x-amz-trailer-signature" {
			if !c.s.Signed() || sigSeen || !isHexSHA256(value) {
				return errAWSTrailerMalformed
			}
			sig, sigSeen = strings.ToLower(value), true
			continue
		}
		if sigSeen {
			return errAWSTrailerMalformed.WithMessage("x-amz-trailer-signature must be the last trailer.")
		}
		if _, declared := slices.BinarySearch(c.s.Trailers, name); !declared {
			return errAWSTrailerMalformed.WithMessage("The trailer %q was not declared in x-amz-trailer.", clip(name))
		}
		lines[name] = append(lines[name], value)
		trailer.Add(name, value)
	}
	for _, n := range c.s.Trailers {
		if len(lines[n]) == 0 {
			return errAWSTrailerMalformed.WithMessage("The trailer %q declared in x-amz-trailer is missing.", n)
		}
	}
	if c.s.Signed() && c.s.hasTrailer() && (len(lines) > 0 || sigSeen) {
		if !sigSeen {
			return errAWSTrailerMalformed.WithMessage("x-amz-trailer-signature is missing.")
		}
		sts := "AWS4-HMAC-SHA256-TRAILER\n" + c.s.timestamp + "\n" + c.s.scope + "\n" + c.prev + "\n" + hashTrailers(lines)
		if !hmac.Equal([]byte(sig), []byte(hex.EncodeToString(hmacSHA256(c.s.key, sts)))) {
			return c.mismatch(sig, sts)
		}
		c.prev = sig
	}
	// Nothing may follow the terminating CRLF.
	if _, err := c.br.ReadByte(); err != io.EOF {
		if err != nil {
			return err
		}
		return malformedChunk("data after the end of the aws-chunked body")
	}
	c.trailer = trailer
	return io.EOF
}

// hashTrailers is hex(SHA-256) of the trailers as the SDKs sign them:
// "name:value\n" per name, sorted, repeated values joined with ','.
func hashTrailers(lines map[string][]string) string {
	names := make([]string, 0, len(lines))
	for n := range lines {
		names = append(names, n)
	}
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		io.WriteString(h, n+":"+strings.Join(lines[n], ",")+"\n")
	}
	return hex.EncodeToString(h.Sum(nil))
}

func isHexDigit(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// TrimAWSChunked removes the "aws-chunked" coding from a Content-Encoding
// value: S3 stores the object with the codings that remain ("" when none).
func TrimAWSChunked(contentEncoding string) string {
	var keep []string
	for _, c := range strings.Split(contentEncoding, ",") {
		c = strings.TrimSpace(c)
		if c != "" && !strings.EqualFold(c, "aws-chunked") {
			keep = append(keep, c)
		}
	}
	return strings.Join(keep, ", ")
}
