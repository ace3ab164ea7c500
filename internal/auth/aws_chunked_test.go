package auth

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// streamFor returns the Streaming Verify would produce for a request
// signed by ak/sk at rtNow with seed signature seed, and a chunk signer
// that continues its chain.
func streamFor(mode string, decoded int64, trailers ...string) (*Streaming, *chunkSigner) {
	c := aws4Credential{ak: "ak", date: rtNow.Format(dateOnly), region: testRegion, service: "s3"}
	ts := rtNow.Format(iso8601Basic)
	seed := strings.Repeat("5e", 32)
	s := &Streaming{Mode: mode, DecodedLength: decoded, Trailers: trailers,
		ak: "ak", key: aws4SigningKey("sk", c), seed: seed, timestamp: ts, scope: c.scope()}
	var cs *chunkSigner
	if mode != AWSStreamingUnsignedTrailer {
		cs = newChunkSigner("sk", c, ts, seed)
	}
	return s, cs
}

func readAllChunked(s *Streaming, body []byte) ([]byte, http.Header, error) {
	r := s.NewReader(bytes.NewReader(body))
	got, err := io.ReadAll(r)
	return got, r.Trailer(), err
}

func TestAWSChunkedRoundTrip(t *testing.T) {
	data := make([]byte, 100000)
	for i := range data {
		data[i] = byte(i * 7)
	}
	trailers := [][2]string{{"x-amz-checksum-crc32", "AAAAAA=="}, {"x-amz-checksum-sha256", "x/y+z="}}
	for _, mode := range []string{AWSStreamingSigned, AWSStreamingSignedTrailer, AWSStreamingUnsignedTrailer} {
		for _, size := range []int{0, 1, 8192, 65536, 100000} {
			for _, chunk := range []int{1, 8192, 64 << 10, 1 << 20} {
				if size/chunk > 20000 {
					continue
				}
				t.Run(fmt.Sprintf("%s/%d/%d", mode, size, chunk), func(t *testing.T) {
					var tr [][2]string
					var names []string
					if mode != AWSStreamingSigned {
						tr = trailers
						names = []string{"x-amz-checksum-crc32", "x-amz-checksum-sha256"}
					}
					s, cs := streamFor(mode, int64(size), names...)
					body, _ := encodeChunked(data[:size], chunk, cs, tr)
					got, trailer, err := readAllChunked(s, body)
					if err != nil || !bytes.Equal(got, data[:size]) {
						t.Fatalf("decoded %d bytes, %v", len(got), err)
					}
					for _, kv := range tr {
						if trailer.Get(kv[0]) != kv[1] {
							t.Errorf("trailer %v", trailer)
						}
					}
					if len(trailer) != len(tr) {
						t.Errorf("trailer %v", trailer)
					}
					// Any read pattern gets the same bytes.
					if err := iotest.TestReader(s.NewReader(iotest.OneByteReader(bytes.NewReader(body))), data[:size]); err != nil {
						t.Error(err)
					}
				})
			}
		}
	}
}

func TestAWSChunkedUnknownLength(t *testing.T) {
	s, _ := streamFor(AWSStreamingUnsignedTrailer, -1, "x-amz-checksum-crc32")
	body, _ := encodeChunked([]byte("hello world"), 4, nil, [][2]string{{"x-amz-checksum-crc32", "DUoRhQ=="}})
	got, trailer, err := readAllChunked(s, body)
	if err != nil || string(got) != "hello world" || trailer.Get("X-Amz-Checksum-Crc32") != "DUoRhQ==" {
		t.Fatalf("%q %v %v", got, trailer, err)
	}
}

// TestAWSChunkedVerifiedBeforeRelease: a signed chunk's bytes are returned
// only once its signature verified.
func TestAWSChunkedVerifiedBeforeRelease(t *testing.T) {
	data := []byte("0123456789abcdefghij")
	s, cs := streamFor(AWSStreamingSigned, int64(len(data)))
	body, _ := encodeChunked(data, 10, cs, nil)
	i := bytes.Index(body, []byte("abcdefghij"))
	body[i+9] = 'J'
	r := s.NewReader(bytes.NewReader(body))
	got, err := io.ReadAll(r)
	if string(got) != "0123456789" {
		t.Errorf("released %q", got)
	}
	wantErr(t, err, "SignatureDoesNotMatch", 403, "", "StringToSign", "SignatureProvided")
	// The error sticks.
	if n, err2 := r.Read(make([]byte, 10)); n != 0 || err2 != err {
		t.Errorf("after error: %d %v", n, err2)
	}
	if r.Trailer() != nil {
		t.Error("trailer after an error")
	}
}

func TestAWSChunkedErrors(t *testing.T) {
	data := []byte("0123456789abcdefghijKLMNOPQRST")
	crc := [][2]string{{"x-amz-checksum-crc32", "AAAAAA=="}}
	type tc struct {
		name     string
		mode     string
		decoded  int64
		declared []string
		trailers [][2]string
		edit     func(b []byte) []byte
		code     string // "" accepted
		status   int
	}
	replace := func(old, new string) func([]byte) []byte {
		return func(b []byte) []byte {
			if !bytes.Contains(b, []byte(old)) {
				panic("no " + old)
			}
			return bytes.Replace(b, []byte(old), []byte(new), 1)
		}
	}
	n := int64(len(data))
	tests := []tc{
		{name: "data byte", mode: AWSStreamingSigned, edit: replace("abc", "abd"), code: "SignatureDoesNotMatch", status: 403},
		{name: "data byte unsigned", mode: AWSStreamingUnsignedTrailer, edit: replace("abc", "abd")},
		{name: "chunk signature", mode: AWSStreamingSigned, edit: func(b []byte) []byte {
			i := bytes.Index(b, []byte("chunk-signature=")) + 20
			b[i] ^= 1
			return b
		}, code: "SignatureDoesNotMatch", status: 403},
		{name: "chunks swapped", mode: AWSStreamingSigned, edit: func(b []byte) []byte {
			parts := bytes.SplitAfter(b, []byte("\r\n")) // header, data, header, data, ...
			parts[0], parts[1], parts[2], parts[3] = parts[2], parts[3], parts[0], parts[1]
			return bytes.Join(parts, nil)
		}, code: "SignatureDoesNotMatch", status: 403},
		{name: "chunk dropped", mode: AWSStreamingSigned, decoded: 20, edit: func(b []byte) []byte {
			parts := bytes.SplitAfter(b, []byte("\r\n"))
			return bytes.Join(append(parts[:2], parts[4:]...), nil)
		}, code: "SignatureDoesNotMatch", status: 403},
		{name: "truncated in data", mode: AWSStreamingSigned, edit: func(b []byte) []byte { return b[:120] }, code: "IncompleteBody", status: 400},
		{name: "truncated in header", mode: AWSStreamingSigned, edit: func(b []byte) []byte { return b[:5] }, code: "IncompleteBody", status: 400},
		{name: "no final chunk", mode: AWSStreamingSigned, edit: func(b []byte) []byte {
			return b[:bytes.LastIndex(b, []byte("0;chunk"))]
		}, code: "IncompleteBody", status: 400},
		{name: "no final CRLF", mode: AWSStreamingSigned, edit: func(b []byte) []byte { return b[:len(b)-2] }, code: "IncompleteBody", status: 400},
		{name: "data after the end", mode: AWSStreamingSigned, edit: func(b []byte) []byte { return append(b, 'x') }, code: "InvalidRequest", status: 400},
		{name: "decoded length larger", mode: AWSStreamingSigned, decoded: n + 1, code: "IncompleteBody", status: 400},
		{name: "decoded length smaller", mode: AWSStreamingSigned, decoded: n - 1, code: "InvalidRequest", status: 400},
		{name: "size not hex", mode: AWSStreamingSigned, edit: replace("a;chunk", "g;chunk"), code: "InvalidRequest", status: 400},
		{name: "size signed", mode: AWSStreamingUnsignedTrailer, edit: replace("a\r\n", "+a\r\n"), code: "InvalidRequest", status: 400},
		{name: "size too long", mode: AWSStreamingSigned, edit: replace("a;chunk", "000000000000000a;chunk"), code: "InvalidRequest", status: 400},
		{name: "size case", mode: AWSStreamingUnsignedTrailer, edit: replace("a\r\n", "A\r\n")},
		{name: "huge chunk announced", mode: AWSStreamingSigned, decoded: 1 << 40, edit: func(b []byte) []byte {
			return append([]byte("7fffffff;chunk-signature="+strings.Repeat("0", 64)+"\r\n"), b...)
		}, code: "InvalidRequest", status: 400},
		{name: "no chunk signature", mode: AWSStreamingSigned, edit: func(b []byte) []byte {
			i, j := bytes.Index(b, []byte(";")), bytes.Index(b, []byte("\r\n"))
			return append(b[:i:i], b[j:]...)
		}, code: "InvalidRequest", status: 400},
		{name: "chunk signature in unsigned stream", mode: AWSStreamingUnsignedTrailer, edit: replace("a\r\n", "a;chunk-signature="+strings.Repeat("0", 64)+"\r\n"), code: "InvalidRequest", status: 400},
		{name: "LF only", mode: AWSStreamingUnsignedTrailer, edit: replace("a\r\n", "a\n"), code: "InvalidRequest", status: 400},
		{name: "data not followed by CRLF", mode: AWSStreamingUnsignedTrailer, edit: replace("9\r\n", "9\n\n"), code: "InvalidRequest", status: 400},
		{name: "long line", mode: AWSStreamingUnsignedTrailer, edit: func(b []byte) []byte {
			return append([]byte(strings.Repeat("0", 5000)+"a\r\n"), b...)
		}, code: "InvalidRequest", status: 400},
		{name: "trailer in non-trailer mode", mode: AWSStreamingSigned, trailers: crc, code: "InvalidRequest", status: 400},
		{name: "trailer not declared", mode: AWSStreamingUnsignedTrailer, trailers: crc, code: "MalformedTrailerError", status: 400},
		{name: "declared trailer missing", mode: AWSStreamingUnsignedTrailer, declared: []string{"x-amz-checksum-crc32"}, code: "MalformedTrailerError", status: 400},
		{name: "trailer without colon", mode: AWSStreamingUnsignedTrailer, declared: []string{"x-amz-checksum-crc32"}, trailers: crc,
			edit: replace("crc32:", "crc32="), code: "MalformedTrailerError", status: 400},
		{name: "unsigned trailer value changed", mode: AWSStreamingUnsignedTrailer, declared: []string{"x-amz-checksum-crc32"}, trailers: crc,
			edit: replace("AAAAAA==", "BBBBBB==")},
		{name: "signed trailer value changed", mode: AWSStreamingSignedTrailer, declared: []string{"x-amz-checksum-crc32"}, trailers: crc,
			edit: replace("AAAAAA==", "BBBBBB=="), code: "SignatureDoesNotMatch", status: 403},
		{name: "trailer signature changed", mode: AWSStreamingSignedTrailer, declared: []string{"x-amz-checksum-crc32"}, trailers: crc,
			edit: func(b []byte) []byte {
				i := bytes.Index(b, []byte("x-amz-trailer-signature:")) + 30
				b[i] ^= 1
				return b
			}, code: "SignatureDoesNotMatch", status: 403},
		{name: "trailer signature missing", mode: AWSStreamingSignedTrailer, declared: []string{"x-amz-checksum-crc32"}, trailers: crc,
			edit: func(b []byte) []byte {
				i := bytes.Index(b, []byte("x-amz-trailer-signature:"))
				return append(b[:i:i], "\r\n"...)
			}, code: "MalformedTrailerError", status: 400},
		{name: "trailer signature in unsigned mode", mode: AWSStreamingUnsignedTrailer, declared: []string{"x-amz-checksum-crc32"}, trailers: crc,
			edit: replace("AAAAAA==\r\n", "AAAAAA==\r\nx-amz-trailer-signature:"+strings.Repeat("0", 64)+"\r\n"), code: "MalformedTrailerError", status: 400},
		{name: "trailers too large", mode: AWSStreamingUnsignedTrailer, declared: []string{"x-amz-checksum-crc32"}, trailers: crc,
			edit: replace("AAAAAA==\r\n", "AAAAAA==\r\n"+strings.Repeat("x-amz-checksum-crc32:"+strings.Repeat("A", 1000)+"\r\n", 20)), code: "MalformedTrailerError", status: 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			decoded := tt.decoded
			if decoded == 0 {
				decoded = n
			}
			s, cs := streamFor(tt.mode, decoded, tt.declared...)
			body, _ := encodeChunked(data, 10, cs, tt.trailers)
			if tt.edit != nil {
				body = tt.edit(bytes.Clone(body))
			}
			got, _, err := readAllChunked(s, body)
			if tt.code == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			e := wantErr(t, err, tt.code, tt.status, "")
			if e.EC != "" {
				t.Errorf("EC %q", e.EC)
			}
			if tt.mode != AWSStreamingUnsignedTrailer && len(got) > 0 && !bytes.HasPrefix(data, got) {
				t.Errorf("released unverified bytes %q", got)
			}
		})
	}
}

type failingReader struct{ err error }

func (f failingReader) Read([]byte) (int, error) { return 0, f.err }
func (failingReader) Close() error               { return errClosed }

var errClosed = errors.New("closed")

func TestAWSChunkedBodyErrors(t *testing.T) {
	s, _ := streamFor(AWSStreamingSigned, 10)
	boom := errors.New("boom")
	r := s.NewReader(failingReader{boom})
	if _, err := io.ReadAll(r); err != boom {
		t.Errorf("underlying error %v not passed through", err)
	}
	if r.Close() != errClosed {
		t.Error("Close does not close the body")
	}
	if err := s.NewReader(bytes.NewReader(nil)).Close(); err != nil {
		t.Errorf("Close of a non-Closer: %v", err)
	}
	if _, err := io.ReadAll(s.NewReader(nil)); err == nil {
		t.Error("nil body accepted")
	}
}

func TestTrimAWSChunked(t *testing.T) {
	for in, want := range map[string]string{
		"aws-chunked": "", "aws-chunked,gzip": "gzip", "gzip, aws-chunked": "gzip", "gzip": "gzip", "": "", "AWS-CHUNKED , br": "br",
		"deflate, gzip": "deflate, gzip", "aws-chunked, aws-chunked": "", "deflate,aws-chunked,gzip": "deflate, gzip",
	} {
		if got := TrimAWSChunked(in); got != want {
			t.Errorf("TrimAWSChunked(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestAWSStreamingHeaders covers what Verify checks of a streaming request
// before the body: its headers.
func TestAWSStreamingHeaders(t *testing.T) {
	sign := func(h http.Header) Input {
		h.Set("x-amz-date", rtNow.Format(iso8601Basic))
		in := Input{Method: "PUT", Bucket: "b", Key: "k", Path: "/b/k", Header: h, Host: "h", Now: rtNow, Region: testRegion}
		return signAWS4(in, "ak", "sk")
	}
	tests := []struct {
		name   string
		header http.Header
		code   string
		check  func(t *testing.T, s *Streaming)
	}{
		{"signed", hdr("x-amz-content-sha256", AWSStreamingSigned, "x-amz-decoded-content-length", "5"), "", func(t *testing.T, s *Streaming) {
			if s.DecodedLength != 5 || s.Trailers != nil || !s.Signed() {
				t.Errorf("%+v", s)
			}
		}},
		{"signed without decoded length", hdr("x-amz-content-sha256", AWSStreamingSigned), "MissingContentLength", nil},
		{"decoded length not a number", hdr("x-amz-content-sha256", AWSStreamingSigned, "x-amz-decoded-content-length", "+5"), "InvalidArgument", nil},
		{"decoded length negative", hdr("x-amz-content-sha256", AWSStreamingSigned, "x-amz-decoded-content-length", "-5"), "InvalidArgument", nil},
		{"unsigned trailer, unknown length", hdr("x-amz-content-sha256", AWSStreamingUnsignedTrailer,
			"x-amz-trailer", "X-Amz-Checksum-CRC32, x-amz-checksum-sha1"), "", func(t *testing.T, s *Streaming) {
			if s.DecodedLength != -1 || s.Signed() || strings.Join(s.Trailers, " ") != "x-amz-checksum-crc32 x-amz-checksum-sha1" {
				t.Errorf("%+v", s)
			}
		}},
		{"trailer names the signature", hdr("x-amz-content-sha256", AWSStreamingSignedTrailer, "x-amz-decoded-content-length", "5",
			"x-amz-trailer", "x-amz-trailer-signature"), "MalformedTrailerError", nil},
		{"ECDSA streaming", hdr("x-amz-content-sha256", "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD", "x-amz-decoded-content-length", "5"), "InvalidArgument", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Verify(sign(tt.header), akSK)
			if tt.code != "" {
				wantErr(t, err, tt.code, asOSSStatus(tt.code), "")
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Streaming == nil || res.PayloadSHA256 != "" {
				t.Fatalf("%+v", res)
			}
			tt.check(t, res.Streaming)
		})
	}
}

func asOSSStatus(code string) int {
	switch code {
	case "MissingContentLength":
		return 411
	case "SignatureDoesNotMatch", "AccessDenied", "InvalidAccessKeyId", "RequestTimeTooSkewed":
		return 403
	}
	return 400
}

// signAWS4 signs in with the documented SigV4 algorithm (test copy),
// signing host and every header present.
func signAWS4(in Input, ak, sk string) Input {
	in = clone(in)
	ts := hget(in.Header, "x-amz-date")
	t, _ := time.Parse(iso8601Basic, ts)
	c := aws4Credential{ak: ak, date: t.Format(dateOnly), region: testRegion, service: "s3"}
	names := []string{"host"}
	for k := range in.Header {
		names = append(names, strings.ToLower(k))
	}
	signed, _ := parseSignedHeaders(strings.Join(names, ";"))
	cr := in.Method + "\n" + aws4URIs(in)[0] + "\n" + aws4Queries(parseQuery(in.RawQuery), false)[0] + "\n" +
		aws4CanonicalHeaders(in, signed) + "\n" + strings.Join(signed, ";") + "\n" + hget(in.Header, "x-amz-content-sha256")
	sig := newChunkSigner(sk, c, ts, "").hmac(aws4StringToSign(ts, c, cr))
	in.Header.Set("Authorization", aws4Algorithm+" Credential="+ak+"/"+c.scope()+", SignedHeaders="+strings.Join(signed, ";")+", Signature="+sig)
	return in
}
