package httpapi

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/ossd/ossd/internal/auth"
	"github.com/ossd/ossd/internal/oss"
)

// writeXML writes v as an XML document with status.
func (h *Handler) writeXML(rq *request, status int, v any) error {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	if err := xml.NewEncoder(&b).Encode(v); err != nil {
		return err
	}
	doc := b.Bytes()
	if rq.s3 {
		doc = withS3Namespace(doc)
	}
	hdr := rq.w.Header()
	hdr.Set("Content-Type", "application/xml")
	hdr.Set("Content-Length", strconv.Itoa(len(doc)))
	rq.w.WriteHeader(status)
	if rq.r.Method != http.MethodHead {
		rq.w.Write(doc)
	}
	return nil
}

// writeEmpty answers status with no body.
func writeEmpty(rq *request, status int) error {
	rq.w.Header().Set("Content-Length", "0")
	rq.w.WriteHeader(status)
	return nil
}

// readBody reads a capped XML request body and checks Content-MD5 when
// given. A body over the cap is MalformedXML-class (OSS rejects oversized
// configuration documents) rather than a read of unbounded size.
func (h *Handler) readBody(rq *request) ([]byte, error) {
	r := http.MaxBytesReader(rq.w, rq.r.Body, h.cfg.MaxXMLBody)
	body, err := io.ReadAll(r)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, oss.ErrMaxMessageLengthExceeded
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, oss.ErrIncompleteBody
		}
		return nil, err
	}
	if err := auth.VerifyBody(rq.r.Body); err != nil {
		return nil, err
	}
	if want := rq.r.Header.Get("Content-MD5"); want != "" {
		raw, err := base64.StdEncoding.DecodeString(want)
		if err != nil || len(raw) != md5.Size {
			return nil, oss.ErrInvalidDigest
		}
		sum := md5.Sum(body)
		if !bytes.Equal(sum[:], raw) {
			return nil, oss.ErrBadDigest
		}
	}
	return body, nil
}

// decodeXML reads the body into v, requiring root as the document element.
func (h *Handler) decodeXML(rq *request, root string, v any, malformed *oss.Error) error {
	body, err := h.readBody(rq)
	if err != nil {
		return err
	}
	if err := unmarshalRoot(body, root, v); err != nil {
		return malformed
	}
	return nil
}

// controlRef matches character references to control characters, which
// XML 1.0 forbids but OSS SDKs send for keys that contain them. Some send
// the raw byte instead (oss2's ElementTree writes a form feed as is), which
// OSS accepts as well.
var controlRef = regexp.MustCompile(`&#(x[0-9a-fA-F]{1,2}|[0-9]{1,2});`)

// controlBase is where control characters are parked in the Private Use
// Area while encoding/xml decodes the body; restoreControl moves them back.
const controlBase = 0xF700

func protectControl(body []byte) []byte {
	if bytes.IndexFunc(body, isXMLControl) >= 0 {
		var b bytes.Buffer
		b.Grow(len(body) + 8)
		for _, c := range body {
			if isXMLControl(rune(c)) {
				b.WriteRune(controlBase + rune(c))
			} else {
				b.WriteByte(c)
			}
		}
		body = b.Bytes()
	}
	if !bytes.Contains(body, []byte("&#")) {
		return body
	}
	return controlRef.ReplaceAllFunc(body, func(m []byte) []byte {
		s := string(m[2 : len(m)-1])
		var n int64
		var err error
		if s[0] == 'x' {
			n, err = strconv.ParseInt(s[1:], 16, 32)
		} else {
			n, err = strconv.ParseInt(s, 10, 32)
		}
		if err != nil || !isXMLControl(rune(n)) {
			return m
		}
		return []byte(string(rune(controlBase + n)))
	})
}

// isXMLControl reports a control character XML 1.0 does not allow.
func isXMLControl(r rune) bool { return r < 0x20 && r != '\t' && r != '\n' && r != '\r' }

func restoreControl(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= controlBase && r < controlBase+0x20 {
			return r - controlBase
		}
		return r
	}, s)
}

func unmarshalRoot(body []byte, root string, v any) error {
	d := xml.NewDecoder(bytes.NewReader(protectControl(body)))
	for {
		t, err := d.Token()
		if err != nil {
			return err
		}
		if se, ok := t.(xml.StartElement); ok {
			if se.Name.Local != root {
				return errors.New("wrong root element")
			}
			return d.DecodeElement(v, &se)
		}
	}
}

// isoTime is the one formatter of every time in an XML response, in both
// dialects: whole seconds followed by a literal ".000Z", as OSS and S3 write
// them. Clients rely on the exact form: oss2's parser accepts nothing else
// (its _ISO8601_RE ends in \.000Z$), so real milliseconds would break every
// listing it reads.
func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05") + ".000Z" }

// etag renders an ETag: OSS writes MD5 hex upper-case, S3 lower-case
// (s3cmd compares it with its own MD5 as text).
func (rq *request) etag(etag string) string {
	if rq.s3 {
		etag = strings.ToLower(etag)
	}
	return `"` + etag + `"`
}

// setResultETag repeats the ETag of an XML result (CopyObject,
// UploadPartCopy, CompleteMultipartUpload) in the ETag header, as OSS does:
// oss2 reads these ETags from the header only (its part copy would
// otherwise complete with ETag "None"). S3 carries them in the body alone.
func setResultETag(rq *request, etag string) {
	if !rq.s3 {
		rq.w.Header().Set("ETag", rq.etag(etag))
	}
}

// urlEncode is encoding-type=url: OSS escapes keys like a query value.
func urlEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' || c == '/' {
			b.WriteByte(c)
			continue
		}
		b.WriteString("%" + strings.ToUpper(strconv.FormatInt(int64(c)>>4, 16)) + strings.ToUpper(strconv.FormatInt(int64(c)&15, 16)))
	}
	return b.String()
}

type ownerXML struct {
	ID          string `xml:"ID"`
	DisplayName string `xml:"DisplayName"`
}
