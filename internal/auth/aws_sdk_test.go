package auth

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4signer "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/ossd/ossd/internal/oss"
)

// Cross-checks against aws-sdk-go-v2: what its SigV4 signer and its S3
// client sign, Verify must accept, and a change to a signed element must
// be refused. The requests go over real HTTP to awsServer, which builds
// Input the way the HTTP layer has to.

const awsTestHost = "s3.test" // virtual-hosted requests go to <bucket>.s3.test

// awsSeen is what awsServer saw of one request.
type awsSeen struct {
	in      Input
	res     Result
	err     error // from Verify, or from reading the body
	body    []byte
	trailer http.Header
}

// awsServer is a minimal stand-in for the HTTP layer.
type awsServer struct {
	region string
	lookup Lookup
	mu     sync.Mutex
	seen   []awsSeen
}

// s3Resource splits a request into bucket and key the way S3 does:
// virtual-hosted when the host is <bucket>.s3.test, else path-style.
func s3Resource(host, path string) (bucket, key string) {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if b, ok := strings.CutSuffix(host, "."+awsTestHost); ok {
		return b, strings.TrimPrefix(path, "/")
	}
	bucket, key, _ = strings.Cut(strings.TrimPrefix(path, "/"), "/")
	return bucket, key
}

func (s *awsServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	bucket, key := s3Resource(r.Host, r.URL.Path)
	in := Input{Method: r.Method, Host: r.Host, Path: r.URL.EscapedPath(), Bucket: bucket, Key: key,
		RawQuery: r.URL.RawQuery, Header: r.Header, Now: time.Now(), Region: s.region}
	res, err := Verify(in, s.lookup)
	seen := awsSeen{in: in, res: res, err: err}
	if err == nil {
		var body io.Reader = r.Body
		var cr *ChunkedReader
		if res.Streaming != nil {
			cr = res.Streaming.NewReader(r.Body)
			body = cr
		}
		h := sha256.New()
		seen.body, seen.err = io.ReadAll(io.TeeReader(body, h))
		if sum := hex.EncodeToString(h.Sum(nil)); seen.err == nil && res.PayloadSHA256 != "" && sum != res.PayloadSHA256 {
			seen.err = PayloadMismatch(res, sum)
		}
		if cr != nil {
			seen.trailer = cr.Trailer()
		}
	}
	s.mu.Lock()
	s.seen = append(s.seen, seen)
	s.mu.Unlock()
	if seen.err != nil {
		var e *oss.Error
		if !errors.As(seen.err, &e) {
			e = oss.ErrInternalError
		}
		w.WriteHeader(e.Status)
		fmt.Fprintf(w, "<Error><Code>%s</Code><Message>%s</Message></Error>", e.Code, e.Message)
		return
	}
	switch {
	case r.Method == "GET" && key == "":
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>%s</Name><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated></ListBucketResult>`, bucket)
	case r.Method == "GET":
		io.WriteString(w, "hello")
	case r.Method == "PUT" && r.Header.Get("x-amz-copy-source") != "":
		io.WriteString(w, `<CopyObjectResult><ETag>"e"</ETag></CopyObjectResult>`)
	case r.Method == "DELETE":
		w.WriteHeader(http.StatusNoContent)
	default:
		w.Header().Set("ETag", `"e"`)
	}
}

func (s *awsServer) take(t *testing.T) []awsSeen {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := s.seen
	s.seen = nil
	return seen
}

// newAWSServer starts awsServer and returns a client that sends every
// host (including <bucket>.s3.test) to it.
func newAWSServer(t *testing.T, useTLS bool) (*awsServer, *http.Client, string) {
	s := &awsServer{region: testRegion, lookup: keys("ak", "sk")}
	var ts *httptest.Server
	if useTLS {
		ts = httptest.NewTLSServer(s)
	} else {
		ts = httptest.NewServer(s)
	}
	t.Cleanup(ts.Close)
	addr := ts.Listener.Addr().String()
	_, port, _ := net.SplitHostPort(addr)
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true},
	}
	t.Cleanup(tr.CloseIdleConnections)
	scheme := "http"
	if useTLS {
		scheme = "https"
	}
	return s, &http.Client{Transport: tr}, scheme + "://" + awsTestHost + ":" + port
}

// awsAwkwardKey has every character class that trips S3 path encoding.
const awsAwkwardKey = "dir/a b+c~ü?&=%._-(1)!*'$@:,;.txt"

// s3URL is the URL of bucket/key on endpoint, path-style or virtual-hosted,
// with the key encoded as the SDK encodes it.
func s3URL(endpoint, bucket, key string, virtual bool) string {
	u, _ := url.Parse(endpoint)
	if virtual {
		u.Host = bucket + "." + u.Host
		return u.String() + "/" + escape(key, false)
	}
	return u.String() + "/" + bucket + "/" + escape(key, false)
}

func TestAWSSDKSignerOverHTTP(t *testing.T) {
	srv, client, endpoint := newAWSServer(t, false)
	signer := v4signer.NewSigner(func(o *v4signer.SignerOptions) { o.DisableURIPathEscaping = true })
	body := []byte("Welcome to Amazon S3.")
	bodyHash := fmt.Sprintf("%x", sha256.Sum256(body))

	type tc struct {
		name        string
		method      string
		key         string
		query       string
		header      http.Header
		body        []byte
		payload     string // x-amz-content-sha256 and the signer's payload hash
		token       string
		region      string
		presign     bool
		wantPayload string
	}
	cases := []tc{
		{name: "get awkward key", method: "GET", key: awsAwkwardKey, payload: emptyHash, wantPayload: emptyHash},
		{name: "put with body hash", method: "PUT", key: "k", body: body, payload: bodyHash, wantPayload: bodyHash,
			header: hdr("Content-Type", "text/plain", "x-amz-meta-author", "  alice   and  bob ", "x-amz-acl", "private")},
		{name: "unsigned payload", method: "PUT", key: "k", body: body, payload: AWSUnsignedPayload},
		{name: "query", method: "GET", query: "list-type=2&prefix=a%20b%2Fc&delimiter=%2F&encoding-type=url&start-after=%7C&max-keys=", payload: emptyHash, wantPayload: emptyHash},
		{name: "sub-resource and repeated header", method: "PUT", key: "k", query: "tagging", body: body, payload: bodyHash, wantPayload: bodyHash,
			header: hdr("x-amz-meta-a", "1", "x-amz-meta-a", "2", "Cache-Control", "no-cache")},
		{name: "sts", method: "DELETE", key: "k", payload: emptyHash, wantPayload: emptyHash, token: "FwoGZXIvYXdzE/+="},
		{name: "us-east-1 scope", method: "HEAD", key: "k", payload: emptyHash, wantPayload: emptyHash, region: AWSDefaultRegion},
		{name: "presign get", method: "GET", key: awsAwkwardKey, presign: true,
			query: "response-content-disposition=attachment%3B%20filename%3D%22a%20b.txt%22&versionId=v1"},
		{name: "presign put with hoisted headers", method: "PUT", key: "k", body: body, presign: true,
			header: hdr("Content-Type", "text/plain", "x-amz-meta-author", "alice", "x-amz-acl", "private")},
		{name: "presign sts", method: "GET", key: "k", presign: true, token: "tok/+="},
		{name: "presign signing a payload hash", method: "PUT", key: "k", body: body, presign: true, payload: bodyHash,
			header: hdr("X-Amz-Content-Sha256", bodyHash), wantPayload: bodyHash},
		// The SDK hoists the header into the query but signs
		// UNSIGNED-PAYLOAD: the body is then not checked.
		{name: "presign hoisting a payload hash", method: "PUT", key: "k", body: body, presign: true,
			header: hdr("X-Amz-Content-Sha256", bodyHash)},
	}
	for _, c := range cases {
		for _, virtual := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/virtual=%v", c.name, virtual), func(t *testing.T) {
				region := c.region
				if region == "" {
					region = testRegion
				}
				u := s3URL(endpoint, "bucket", c.key, virtual)
				if c.query != "" {
					u += "?" + c.query
				}
				req, err := http.NewRequest(c.method, u, bytes.NewReader(c.body))
				if err != nil {
					t.Fatal(err)
				}
				if c.body == nil {
					req.Body, req.ContentLength = http.NoBody, 0
				}
				for k, vs := range c.header {
					req.Header[k] = append([]string(nil), vs...)
				}
				creds := aws.Credentials{AccessKeyID: "ak", SecretAccessKey: "sk", SessionToken: c.token}
				now := time.Now()
				if c.presign {
					q := req.URL.Query()
					q.Set("X-Amz-Expires", "300")
					req.URL.RawQuery = strings.ReplaceAll(q.Encode(), "+", "%20")
					payload := c.payload
					if payload == "" {
						payload = AWSUnsignedPayload
					}
					signed, hdrs, err := signer.PresignHTTP(context.Background(), creds, req, payload, "s3", region, now)
					if err != nil {
						t.Fatal(err)
					}
					preq, _ := http.NewRequest(c.method, signed, bytes.NewReader(c.body))
					if c.body == nil {
						preq.Body, preq.ContentLength = http.NoBody, 0
					}
					for k, vs := range hdrs {
						if !strings.EqualFold(k, "host") {
							preq.Header[k] = vs
						}
					}
					for k, vs := range c.header { // headers sent along unsigned
						if preq.Header.Get(k) == "" && strings.EqualFold(k, "X-Amz-Content-Sha256") {
							preq.Header[k] = vs
						}
					}
					req = preq
				} else {
					req.Header.Set("X-Amz-Content-Sha256", c.payload)
					if err := signer.SignHTTP(context.Background(), creds, req, c.payload, "s3", region, now); err != nil {
						t.Fatal(err)
					}
				}
				resp, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				seen := srv.take(t)
				if len(seen) != 1 {
					t.Fatalf("server saw %d requests", len(seen))
				}
				s := seen[0]
				if s.err != nil {
					t.Fatalf("refused: %v\n%v", s.err, asOSS(t, s.err).Extra)
				}
				if s.in.Key != c.key || s.in.Bucket != "bucket" {
					t.Errorf("server parsed %q %q", s.in.Bucket, s.in.Key)
				}
				want := Result{AccessKeyID: "ak", Version: VersionAWS4, Presigned: c.presign, SecurityToken: c.token, PayloadSHA256: c.wantPayload}
				if s.res != want {
					t.Errorf("result %+v, want %+v", s.res, want)
				}
				if !bytes.Equal(s.body, c.body) {
					t.Errorf("body %q", s.body)
				}
				awsMutations(t, s.in, c.presign)
			})
		}
	}
}

// awsMutations changes one signed element of an accepted Input at a time
// and checks that each change is refused, and that unsigned changes pass.
func awsMutations(t *testing.T, in Input, presigned bool) {
	t.Helper()
	type mut struct {
		name   string
		apply  func(in *Input)
		accept bool
	}
	muts := []mut{
		{name: "method", apply: func(in *Input) { in.Method = "POST" }},
		{name: "path", apply: func(in *Input) { in.Path += "x"; in.Key += "x" }},
		{name: "host", apply: func(in *Input) { in.Host = "other." + in.Host }},
		{name: "query added", apply: func(in *Input) { in.RawQuery += "&acl" }},
		{name: "query param value", apply: func(in *Input) {
			if in.RawQuery == "" {
				in.RawQuery = "x=1"
				return
			}
			k, _, _ := strings.Cut(strings.Split(in.RawQuery, "&")[0], "=")
			if k == "X-Amz-Signature" {
				k, _, _ = strings.Cut(strings.Split(in.RawQuery, "&")[1], "=")
			}
			in.RawQuery = replaceParam(in.RawQuery, mustDecode(k), "changed")
		}},
		{name: "x-amz header added", apply: func(in *Input) { in.Header.Set("x-amz-meta-new", "1") }},
		{name: "region scope", apply: func(in *Input) { in.Region = "eu-west-9" }, accept: !strings.Contains(authOf(&in), "/"+testRegion+"/") && !strings.Contains(authOf(&in), "%2F"+testRegion+"%2F")},
		{name: "unsigned header", apply: func(in *Input) { in.Header.Set("User-Agent", "mallory") }, accept: true},
		{name: "late", apply: func(in *Input) { in.Now = in.Now.Add(time.Hour) }},
		{name: "secret", apply: func(in *Input) {}},
	}
	for _, name := range signedNames(in) {
		if name == "host" {
			continue
		}
		muts = append(muts, mut{name: "signed header " + name, apply: func(in *Input) {
			in.Header.Set(name, in.Header.Get(name)+"x")
		}})
	}
	for _, m := range muts {
		mi := clone(in)
		m.apply(&mi)
		lookup := keys("ak", "sk")
		if m.name == "secret" {
			lookup = keys("ak", "sk2")
		}
		_, err := Verify(mi, lookup)
		switch {
		case m.accept && err != nil:
			t.Errorf("%s: refused: %v", m.name, err)
		case !m.accept && err == nil:
			t.Errorf("%s: accepted", m.name)
		}
	}
}

func mustDecode(s string) string {
	d, err := url.QueryUnescape(s)
	if err != nil {
		panic(err)
	}
	return d
}

func authOf(in *Input) string { return in.Header.Get("Authorization") + in.RawQuery }

// signedNames lists SignedHeaders of the header or the query.
func signedNames(in Input) []string {
	if a := in.Header.Get("Authorization"); a != "" {
		_, rest, _ := strings.Cut(a, "SignedHeaders=")
		list, _, _ := strings.Cut(rest, ",")
		return strings.Split(list, ";")
	}
	v, _ := first(parseQuery(in.RawQuery), "X-Amz-SignedHeaders")
	return strings.Split(v, ";")
}

// s3Client is an aws-sdk-go-v2 S3 client talking to endpoint.
func s3Client(client *http.Client, endpoint string, pathStyle bool, region string) *s3.Client {
	return s3.New(s3.Options{
		Region:       region,
		BaseEndpoint: aws.String(endpoint),
		UsePathStyle: pathStyle,
		HTTPClient:   client,
		Credentials:  credentials.NewStaticCredentialsProvider("ak", "sk", ""),
		Retryer:      aws.NopRetryer{},
	})
}

// onlyReader hides Seek, so the SDK has to stream the body.
type onlyReader struct{ io.Reader }

func TestAWSSDKClient(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789abcdef"), 10000) // 160000 bytes: several chunks
	crc := func(b []byte) string {
		var s [4]byte
		binary.BigEndian.PutUint32(s[:], crc32.ChecksumIEEE(b))
		return base64.StdEncoding.EncodeToString(s[:])
	}
	for _, useTLS := range []bool{false, true} {
		for _, pathStyle := range []bool{true, false} {
			for _, region := range []string{testRegion, AWSDefaultRegion} {
				name := fmt.Sprintf("tls=%v/pathStyle=%v/%s", useTLS, pathStyle, region)
				t.Run(name, func(t *testing.T) {
					srv, hc, endpoint := newAWSServer(t, useTLS)
					cl := s3Client(hc, endpoint, pathStyle, region)
					ctx := context.Background()
					check := func(op string, want func(s awsSeen)) {
						t.Helper()
						seen := srv.take(t)
						if len(seen) != 1 {
							t.Fatalf("%s: server saw %d requests", op, len(seen))
						}
						if seen[0].err != nil {
							t.Fatalf("%s: refused: %v\n%v", op, seen[0].err, asOSS(t, seen[0].err).Extra)
						}
						if want != nil {
							want(seen[0])
						}
					}

					_, err := cl.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bucket"), Key: aws.String(awsAwkwardKey),
						Body: bytes.NewReader(data), ContentType: aws.String("text/plain"),
						Metadata: map[string]string{"author": "alice"}})
					if err != nil {
						t.Fatalf("PutObject: %v", err)
					}
					check("PutObject", func(s awsSeen) {
						if !bytes.Equal(s.body, data) {
							t.Errorf("body: %d bytes", len(s.body))
						}
						if s.in.Key != awsAwkwardKey {
							t.Errorf("key %q", s.in.Key)
						}
						if st := s.res.Streaming; st != nil {
							t.Logf("PutObject mode %s, trailer %v", st.Mode, s.trailer)
							if got := s.trailer.Get("x-amz-checksum-crc32"); got != crc(data) {
								t.Errorf("trailer checksum %q, want %q", got, crc(data))
							}
							if TrimAWSChunked(s.in.Header.Get("Content-Encoding")) != "" {
								t.Errorf("Content-Encoding %q", s.in.Header.Get("Content-Encoding"))
							}
						} else {
							t.Logf("PutObject payload %q", s.res.PayloadSHA256)
						}
					})

					if useTLS {
						// An unseekable body over TLS is sent aws-chunked with
						// an unsigned trailer.
						_, err = cl.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bucket"), Key: aws.String("stream"),
							Body: onlyReader{bytes.NewReader(data)}, ContentLength: aws.Int64(int64(len(data))),
							ChecksumAlgorithm: s3types.ChecksumAlgorithmCrc32})
						if err != nil {
							t.Fatalf("PutObject stream: %v", err)
						}
						check("PutObject stream", func(s awsSeen) {
							st := s.res.Streaming
							if st == nil || st.Mode != AWSStreamingUnsignedTrailer || st.DecodedLength != int64(len(data)) {
								t.Fatalf("streaming %+v", st)
							}
							if !bytes.Equal(s.body, data) || s.trailer.Get("x-amz-checksum-crc32") != crc(data) {
								t.Errorf("body %d bytes, trailer %v", len(s.body), s.trailer)
							}
						})
					}

					out, err := cl.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bucket"), Key: aws.String(awsAwkwardKey),
						Range: aws.String("bytes=0-4"), ResponseContentDisposition: aws.String(`attachment; filename="x y.txt"`)})
					if err != nil {
						t.Fatalf("GetObject: %v", err)
					}
					out.Body.Close()
					check("GetObject", nil)

					_, err = cl.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("bucket"), Prefix: aws.String("a b/ü+"),
						Delimiter: aws.String("/"), StartAfter: aws.String("|~")})
					if err != nil {
						t.Fatalf("ListObjectsV2: %v", err)
					}
					check("ListObjectsV2", nil)

					_, err = cl.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("bucket"), Key: aws.String("copy"),
						CopySource: aws.String("bucket/" + url.PathEscape(awsAwkwardKey))})
					if err != nil {
						t.Fatalf("CopyObject: %v", err)
					}
					check("CopyObject", nil)

					_, err = cl.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("bucket"), Key: aws.String(awsAwkwardKey)})
					if err != nil {
						t.Fatalf("DeleteObject: %v", err)
					}
					check("DeleteObject", nil)

					pc := s3.NewPresignClient(cl, s3.WithPresignExpires(10*time.Minute))
					pg, err := pc.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bucket"), Key: aws.String(awsAwkwardKey)})
					if err != nil {
						t.Fatal(err)
					}
					pp, err := pc.PresignPutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bucket"), Key: aws.String(awsAwkwardKey),
						ContentType: aws.String("text/plain"), Metadata: map[string]string{"author": "alice"}})
					if err != nil {
						t.Fatal(err)
					}
					for _, p := range []struct {
						op   string
						req  *v4signer.PresignedHTTPRequest
						body []byte
					}{{"presigned GET", pg, nil}, {"presigned PUT", pp, data}} {
						req, _ := http.NewRequest(p.req.Method, p.req.URL, bytes.NewReader(p.body))
						for k, vs := range p.req.SignedHeader {
							if !strings.EqualFold(k, "host") {
								req.Header[k] = vs
							}
						}
						resp, err := hc.Do(req)
						if err != nil {
							t.Fatal(err)
						}
						resp.Body.Close()
						check(p.op, func(s awsSeen) {
							if !s.res.Presigned || !bytes.Equal(s.body, p.body) {
								t.Errorf("result %+v, body %d bytes", s.res, len(s.body))
							}
						})
						// A header the URL did not sign is refused.
						req, _ = http.NewRequest(p.req.Method, p.req.URL, bytes.NewReader(p.body))
						for k, vs := range p.req.SignedHeader {
							if !strings.EqualFold(k, "host") {
								req.Header[k] = vs
							}
						}
						req.Header.Set("x-amz-acl", "public-read")
						resp, err = hc.Do(req)
						if err != nil {
							t.Fatal(err)
						}
						resp.Body.Close()
						if seen := srv.take(t); len(seen) != 1 || seen[0].err == nil || resp.StatusCode != 403 {
							t.Errorf("%s with an unsigned x-amz-acl: status %d", p.op, resp.StatusCode)
						}
					}

					// A client with the wrong secret or in the wrong region
					// gets S3's errors back.
					bad := s3.New(s3.Options{Region: region, BaseEndpoint: aws.String(endpoint), UsePathStyle: pathStyle, HTTPClient: hc,
						Credentials: credentials.NewStaticCredentialsProvider("ak", "wrong", ""), Retryer: aws.NopRetryer{}})
					_, err = bad.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("bucket"), Key: aws.String("k")})
					if err == nil || !strings.Contains(err.Error(), "SignatureDoesNotMatch") {
						t.Errorf("wrong secret: %v", err)
					}
					srv.take(t)
					wrongRegion := s3Client(hc, endpoint, pathStyle, "eu-west-1")
					_, err = wrongRegion.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("bucket"), Key: aws.String("k")})
					if err == nil || !strings.Contains(err.Error(), "AuthorizationHeaderMalformed") {
						t.Errorf("wrong region: %v", err)
					}
					srv.take(t)
				})
			}
		}
	}
}
