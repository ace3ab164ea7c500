package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"regexp"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"

	"github.com/ossd/ossd/ossdtest"
)

// browserPage is a web app's upload page: on load it posts a file to ossd
// as a browser form upload (multipart/form-data through fetch) with the
// fields its server signed, and writes the answer into the page, where
// the test reads it from the DOM Chromium dumps. The file is made in the
// page from base64, so its bytes are known exactly.
const browserPage = `<!doctype html><html><body data-status="pending"><script>
const cfg = %s;
const bytes = Uint8Array.from(atob(cfg.file), c => c.charCodeAt(0));
const fd = new FormData();
for (const [k, v] of cfg.fields) fd.append(k, v);
fd.append("file", new Blob([bytes], {type: "application/octet-stream"}), "photo.bin");
fetch(cfg.url, {method: "POST", body: fd})
  .then(async r => { document.body.setAttribute("data-status", String(r.status));
                     document.body.setAttribute("data-etag", r.headers.get("ETag") || "");
                     document.body.textContent = await r.text(); })
  .catch(e => document.body.setAttribute("data-status", "error: " + e));
</script></body></html>`

// TestBrowserFormUpload: a real browser (headless Chromium) on a page served
// by another origin uploads a file straight to ossd with a form whose
// policy the page's server signed (OSS V4), as OSS's "direct upload from
// the web" guides do; the bucket's CORS rule lets the page read the answer.
// The object reads back byte for byte. A policy whose size range the file
// exceeds is refused, and nothing is stored.
func TestBrowserFormUpload(t *testing.T) {
	bin := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		t.Skip("chromium not found: the browser form upload is not tried (apt-get install chromium; .ci/run does)")
	}
	srv := ossdtest.Start(t)
	c := v2Client(srv, modes[0])
	ctx := context.Background()
	b := newBucket(t, c)

	var page []byte
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page)
	}))
	defer site.Close()
	_, err := c.PutBucketCors(ctx, &oss.PutBucketCorsRequest{Bucket: oss.Ptr(b), CORSConfiguration: &oss.CORSConfiguration{
		CORSRules: []oss.CORSRule{{AllowedOrigins: []string{site.URL}, AllowedMethods: []string{"POST"},
			AllowedHeaders: []string{"*"}, ExposeHeaders: []string{"ETag"}}}}})
	if err != nil {
		t.Fatalf("PutBucketCors: %v", err)
	}

	file := make([]byte, 3000)
	for i := range file {
		file[i] = byte(i*7 + i/256) // every byte value, in no simple repeat
	}
	now := time.Now().UTC()
	day := now.Format("20060102")
	// sign is what the web app's server does: a policy document, signed
	// with OSS V4 by a key the browser never sees.
	sign := func(key string, conds ...string) [][2]string {
		policy := postPolicy(b, time.Hour, append(conds, `["starts-with","$key","uploads/"]`)...)
		k := hmacSHA256([]byte("aliyun_v4"+srv.AccessKeySecret), day)
		for _, p := range []string{srv.Region, "oss", "aliyun_v4_request"} {
			k = hmacSHA256(k, p)
		}
		return [][2]string{{"key", key}, {"x-oss-signature-version", "OSS4-HMAC-SHA256"},
			{"x-oss-credential", srv.AccessKeyID + "/" + day + "/" + srv.Region + "/oss/aliyun_v4_request"},
			{"x-oss-date", now.Format("20060102T150405Z")}, {"policy", policy},
			{"x-oss-signature", hex.EncodeToString(hmacSHA256(k, policy))}}
	}
	upload := func(fields [][2]string) (status, etag, body string) {
		t.Helper()
		cfg, _ := json.Marshal(map[string]any{"url": srv.Endpoint + "/" + b, "fields": fields,
			"file": base64.StdEncoding.EncodeToString(file)})
		page = fmt.Appendf(nil, browserPage, cfg)
		cctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(cctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
			"--user-data-dir="+t.TempDir(), "--virtual-time-budget=20000", "--dump-dom", site.URL)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			t.Fatalf("chromium: %v\n%s", err, errb.String())
		}
		attr := func(name string) string {
			m := regexp.MustCompile(name + `="([^"]*)"`).FindStringSubmatch(out.String())
			if m == nil {
				t.Fatalf("no %s in the page Chromium rendered:\n%s\n%s", name, out.String(), errb.String())
			}
			return m[1]
		}
		return attr("data-status"), attr("data-etag"), out.String()
	}

	status, etag, dom := upload(sign("uploads/photo.bin", `["content-length-range",1,10000]`))
	if status != "204" || etag == "" {
		t.Fatalf("browser upload: status %s, ETag %q (CORS exposes it), page:\n%s", status, etag, dom)
	}
	got, err := c.GetObject(ctx, &oss.GetObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("uploads/photo.bin")})
	if err != nil {
		t.Fatalf("GetObject after the browser's upload: %v", err)
	}
	data, _ := io.ReadAll(got.Body)
	got.Body.Close()
	if !bytes.Equal(data, file) {
		t.Fatalf("stored %d bytes that differ from the %d the browser sent", len(data), len(file))
	}

	status, _, dom = upload(sign("uploads/big.bin", `["content-length-range",1,100]`))
	// The page put the XML error into its text, so the DOM holds it escaped.
	if status != "400" || !bytes.Contains([]byte(dom), []byte("&lt;Code&gt;EntityTooLarge&lt;/Code&gt;")) {
		t.Fatalf("upload over the policy's size range: status %s, page:\n%s", status, dom)
	}
	if _, err := c.HeadObject(ctx, &oss.HeadObjectRequest{Bucket: oss.Ptr(b), Key: oss.Ptr("uploads/big.bin")}); err == nil {
		t.Fatal("the refused upload was stored")
	}
}
