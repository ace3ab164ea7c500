package auth

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// vouchedBody is a raw body with a check of its own that fails with err
// (nil: passes), as a signed-payload reader beneath the aws-chunked
// decoder would.
type vouchedBody struct {
	io.Reader
	err error
}

func (v vouchedBody) Verify() error { return v.err }

// signatureRefused stands in a table for the SignatureDoesNotMatch a
// corrupted chunk gets.
var signatureRefused = errors.New("SignatureDoesNotMatch")

// TestChunkedReaderVerify: an aws-chunked body verifies only when read to
// its end with every signature matching, and then only if the body it
// decodes verifies too (the decoder forwards Verify, so wrapping a
// verifying body never turns its check off).
func TestChunkedReaderVerify(t *testing.T) {
	data := []byte("0123456789abcdefghij")
	inner := errors.New("inner check failed")
	tests := []struct {
		name    string
		corrupt bool  // flip a byte of the second chunk
		readAll bool  // read to the end before Verify
		under   error // the raw body's own check (nil: passes)
		want    error // nil: verified
	}{
		{"read to the end", false, true, nil, nil},
		{"not read to the end", false, false, nil, errVerifiedEarly},
		{"bad chunk signature", true, true, nil, signatureRefused},
		{"raw body's check fails", false, true, inner, inner},
		{"bad signature beats the raw body's check", true, true, inner, signatureRefused},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, cs := streamFor(AWSStreamingSigned, int64(len(data)))
			body, _ := encodeChunked(data, 10, cs, nil)
			if tc.corrupt {
				body[bytes.Index(body, []byte("abcdefghij"))+9] = 'J'
			}
			r := s.NewReader(vouchedBody{bytes.NewReader(body), tc.under})
			var bv BodyVerifier = r
			if tc.readAll {
				io.ReadAll(r)
			} else {
				io.ReadFull(r, make([]byte, 5))
			}
			err := VerifyBody(bv)
			switch {
			case tc.want == nil && err != nil:
				t.Fatalf("Verify = %v, want nil", err)
			case tc.want == signatureRefused:
				wantErr(t, err, "SignatureDoesNotMatch", 403, "")
			case tc.want != nil && tc.want != signatureRefused && !errors.Is(err, tc.want):
				t.Fatalf("Verify = %v, want %v", err, tc.want)
			}
		})
	}
}
