package httpapi

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"io"
	"net/http"
	"strings"

	"github.com/ossd/ossd/internal/auth"
	"github.com/ossd/ossd/internal/oss"
)

// S3 additional checksums (x-amz-checksum-*): computed over the body as it
// is read, compared with the value the client sent in a header or in the
// trailer of an aws-chunked body, stored with the object and returned when
// the client asks (x-amz-checksum-mode: ENABLED).

var checksumAlgs = map[string]func() hash.Hash{
	"crc32":     func() hash.Hash { return crc32.NewIEEE() },
	"crc32c":    func() hash.Hash { return crc32.New(crc32.MakeTable(crc32.Castagnoli)) },
	"crc64nvme": func() hash.Hash { return crc64.New(crc64NVME) },
	"sha1":      sha1.New,
	"sha256":    sha256.New,
}

// crc64NVME is CRC-64/NVME (reflected polynomial 0x9A6C9329AC4BC9B5, init
// and final xor all ones — the same shape Go's hash/crc64 computes).
var crc64NVME = crc64.MakeTable(0x9A6C9329AC4BC9B5)

// checksumBody verifies one S3 checksum of the body it wraps.
type checksumBody struct {
	io.ReadCloser
	alg, header string // e.g. "crc32", "x-amz-checksum-crc32"
	h           hash.Hash
	want        string        // from the request header; "" when it comes in the trailer
	trailer     func() string // the trailer's value, read after EOF
}

func (c *checksumBody) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.h.Write(p[:n])
	return n, err
}

// value is the checksum of what was read, as S3 encodes it.
func (c *checksumBody) value() string {
	// hash/crc32 and hash/crc64 sums are big-endian bytes, as S3 wants.
	return base64.StdEncoding.EncodeToString(c.h.Sum(nil))
}

var _ auth.BodyVerifier = (*checksumBody)(nil)

// Verify implements auth.BodyVerifier: the check of the body it wraps
// (a signed payload, aws-chunked signatures), then the checksum's.
func (c *checksumBody) Verify() error {
	if err := auth.VerifyBody(c.ReadCloser); err != nil {
		return err
	}
	want := c.want
	if want == "" && c.trailer != nil {
		want = c.trailer()
	}
	if want == "" {
		return oss.ErrInvalidDigest.WithMessage("The x-amz-checksum-%s value was not sent.", c.alg)
	}
	if want != c.value() {
		return oss.ErrBadDigest.WithMessage("The %s you specified did not match the calculated checksum.", strings.ToUpper(c.alg))
	}
	return nil
}

// Attributes are stored with the object: the verified checksum.
func (c *checksumBody) Attributes() map[string]string {
	return map[string]string{c.header: c.value()}
}

// wrapChecksum installs a checksum check on an S3 request body when the
// client sent one (as a header, or announced in x-amz-trailer).
func wrapChecksum(rq *request, trailer func(name string) string) error {
	hdr := rq.r.Header
	trailers := map[string]bool{}
	for _, v := range hdr.Values("x-amz-trailer") {
		for _, n := range strings.Split(v, ",") {
			trailers[strings.ToLower(strings.TrimSpace(n))] = true
		}
	}
	for alg, mk := range checksumAlgs {
		name := "x-amz-checksum-" + alg
		want := hdr.Get(name)
		inTrailer := trailers[name]
		if want == "" && !inTrailer {
			continue
		}
		if _, err := base64.StdEncoding.DecodeString(want); err != nil {
			return oss.ErrInvalidArgument.WithMessage("Value for %s header is invalid.", name)
		}
		cb := &checksumBody{ReadCloser: rq.r.Body, alg: alg, header: name, h: mk(), want: want}
		if inTrailer && trailer != nil {
			cb.trailer = func() string { return trailer(name) }
		}
		rq.r.Body = cb
		return nil
	}
	return nil
}

// echoChecksums returns stored checksums to an S3 client that asked.
func echoChecksums(rq *request, hdr http.Header, stored map[string]string) {
	if !rq.s3 || !strings.EqualFold(rq.r.Header.Get("x-amz-checksum-mode"), "ENABLED") {
		return
	}
	for k, v := range stored {
		if strings.HasPrefix(k, "x-amz-checksum-") {
			hdr.Set(k, v)
		}
	}
}
