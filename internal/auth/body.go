package auth

import (
	"errors"
	"io"
)

// BodyVerifier is a request body that carries its own integrity check,
// which can be decided only once the body has been read to its end: a
// signed payload hash (x-oss-content-sha256, x-amz-content-sha256), the
// chunk and trailer signatures of an aws-chunked body, an S3 checksum
// (x-amz-checksum-*). Whoever consumes such a body reads it to its end,
// then calls Verify before anything it wrote becomes visible, and answers
// Verify's error (an *oss.Error) instead of storing.
//
// Consumers find the check by a type assertion on the body they were
// given (VerifyBody), so a reader that wraps a BodyVerifier must itself be
// one and forward Verify to the body it wraps (then add its own check): a
// wrapper that does not would silently turn every check beneath it off.
// Each implementation asserts it at compile time (var _ BodyVerifier).
type BodyVerifier interface {
	io.Reader
	// Verify reports whether the bytes read were the ones the request
	// vouched for; nil means verified.
	Verify() error
}

// VerifyBody runs r's check when r is a BodyVerifier; a body with no
// check of its own verifies.
func VerifyBody(r io.Reader) error {
	if v, ok := r.(BodyVerifier); ok {
		return v.Verify()
	}
	return nil
}

var _ BodyVerifier = (*ChunkedReader)(nil)

// errVerifiedEarly: Verify was called on an aws-chunked body not read to
// its end, whose last chunks and trailer signature were never checked.
// It is the consumer's bug, answered as an internal error: never a pass.
var errVerifiedEarly = errors.New("aws-chunked body verified before it was read to its end")

// Verify implements BodyVerifier. Read already refuses a chunk or trailer
// whose signature does not match, before handing out its bytes; Verify
// reports that refusal again, and refuses a body not read to its end. It
// then forwards to the raw body's own check, if it has one.
func (c *ChunkedReader) Verify() error {
	switch c.err {
	case io.EOF:
		return VerifyBody(c.body)
	case nil:
		return errVerifiedEarly
	}
	return c.err
}
