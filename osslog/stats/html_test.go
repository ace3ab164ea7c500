package stats

import (
	"bytes"
	"context"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// sampleReport aggregates a day and a half of generated traffic: several
// operations, statuses, error codes, keys, clients and request times.
func sampleReport(t testing.TB) *Report {
	r := rand.New(rand.NewSource(3))
	t0 := time.Date(2026, 11, 24, 0, 0, 0, 0, time.FixedZone("", 8*3600))
	ops := []struct {
		op     string
		status int
		code   string
		ms     int64
	}{
		{"GetObject", 200, "", 8}, {"GetObject", 200, "", 15}, {"PutObject", 200, "", 40}, {"HeadObject", 200, "", 3},
		{"GetObject", 404, "NoSuchKey", 2}, {"GetBucket", 200, "", 25}, {"PutObject", 403, "AccessDenied", 1},
		{"DeleteObject", 204, "", 12}, {"InitiateMultipartUpload", 200, "", 9}, {"UploadPart", 200, "", 300},
	}
	agents := []string{"aliyun-sdk-go/v2.1.0", "aliyun-sdk-python/2.19.1", "ossutil/1.7.19", "aws-cli/2.9.19", "rclone/v1.60.1"}
	var b strings.Builder
	for i := 0; i < 6000; i++ {
		at := t0.Add(time.Duration(r.Int63n(int64(36 * time.Hour))))
		if i%7 == 0 { // a busy afternoon
			at = t0.Add(14*time.Hour + time.Duration(r.Int63n(int64(3*time.Hour))))
		}
		o := ops[r.Intn(len(ops))]
		key := fmt.Sprintf("photos/%04d.jpg", int(r.ExpFloat64()*40))
		requester := fmt.Sprint(1000000 + r.Intn(4))
		b.WriteString(line(at, o.op, "examplebucket", key, o.status, int64(r.Intn(1<<20)), o.ms+int64(r.ExpFloat64()*float64(o.ms)),
			o.code, fmt.Sprintf("10.0.%d.%d", r.Intn(3), r.Intn(20)), agents[r.Intn(len(agents))], requester))
	}
	// Values a page must show as text, not run: the page draws them with
	// textContent, and the data is JSON with <, > and & escaped.
	for i := 0; i < 500; i++ {
		b.WriteString(line(t0.Add(20*time.Hour), "GetObject", "examplebucket", hostileKey, 200, 10, 5, "",
			"10.9.9.9", hostileAgent, "1000000"))
	}
	a := New(Options{Location: time.FixedZone("", 8*3600)})
	if err := a.AddReader(strings.NewReader(b.String())); err != nil {
		t.Fatal(err)
	}
	rep := a.Report()
	rep.Objects = 36
	return rep
}

const (
	hostileKey   = `</script><script>document.body.setAttribute("data-rendered","hacked")</script>"'&.jpg`
	hostileAgent = `<img src=x onerror="document.body.setAttribute('data-rendered','hacked')">`
)

// chromium returns the path of a Chromium binary, or skips.
func chromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("chromium not found: the HTML report is not rendered (apt-get install chromium; .ci/run does)")
	return ""
}

// renderDOM loads file in headless Chromium and returns the DOM after the
// page's scripts ran, and Chromium's log (console messages included).
func renderDOM(t *testing.T, file string) (dom, log string) {
	bin := chromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--user-data-dir="+t.TempDir(), "--enable-logging=stderr", "--v=0", "--dump-dom", "file://"+file)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, errb.String())
	}
	return out.String(), errb.String()
}

// TestReportRenders opens the report in a real browser: the page's script
// runs without an error or a console message of error level, and every
// chart is drawn with one mark per data point.
func TestReportRenders(t *testing.T) {
	rep := sampleReport(t)
	file := filepath.Join(t.TempDir(), "report.html")
	var page bytes.Buffer
	if err := WriteHTML(&page, rep); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, page.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	// Self-contained: nothing is fetched when the page is viewed.
	if m := regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?(https?:)?//`).FindString(page.String()); m != "" {
		t.Fatalf("the page refers to the network: %s", m)
	}
	dom, log := renderDOM(t, file)
	// Chromium logs every console message and uncaught exception as
	// INFO:CONSOLE (without its level); the page writes none.
	if msgs := regexp.MustCompile(`CONSOLE[^\n]*`).FindAllString(log, -1); len(msgs) > 0 {
		t.Fatalf("console messages:\n%s", strings.Join(msgs, "\n"))
	}
	if !strings.Contains(dom, `data-rendered="ok"`) {
		errs := regexp.MustCompile(`(?s)<div id="errors">(.*?)</div>`).FindStringSubmatch(dom)
		t.Fatalf("the page's script did not finish: %v", errs)
	}
	charts := map[string]*regexp.Regexp{}
	for _, name := range []string{"requests", "bytes", "latency", "operations", "statuses", "errorcodes"} {
		charts[name] = regexp.MustCompile(`(?s)<svg[^>]*data-chart="` + name + `".*?</svg>`)
	}
	count := func(chart, mark string) int {
		svg := charts[chart].FindString(dom)
		if svg == "" {
			t.Fatalf("chart %q not in the DOM", chart)
		}
		return len(regexp.MustCompile(mark).FindAllString(svg, -1))
	}
	bar := `<rect[^>]*class="bar"[^>]*data-value="[0-9]+"`
	for _, tc := range []struct {
		chart, mark string
		want        int
	}{
		{"requests", bar, len(rep.Hours)},
		{"requests", `<rect[^>]*class="err"`, len(rep.Hours)},
		{"bytes", `<polyline[^>]*class="series"`, 2},
		{"bytes", `<circle[^>]*data-value=`, 2 * len(rep.Hours)},
		{"latency", bar, 3 * len(rep.Operations)},
		{"operations", bar, len(rep.Operations)},
		{"statuses", bar, len(rep.Statuses)},
		{"errorcodes", bar, len(rep.ErrorCodes)},
	} {
		if got := count(tc.chart, tc.mark); got != tc.want || got == 0 {
			t.Errorf("chart %s: %d marks %q, want %d", tc.chart, got, tc.mark, tc.want)
		}
	}
	// The bars carry the report's numbers: the busiest hour's bar has its count.
	busiest := rep.Hours[0]
	for _, h := range rep.Hours {
		if h.Requests > busiest.Requests {
			busiest = h
		}
	}
	if !strings.Contains(charts["requests"].FindString(dom), fmt.Sprintf(`data-value="%d"`, busiest.Requests)) {
		t.Errorf("no bar of the busiest hour's %d requests", busiest.Requests)
	}
	if got := strings.Count(dom, `<table class="top">`); got != 5 {
		t.Errorf("%d top tables, want 5", got)
	}
	if rep.TopKeys[0].Value != "examplebucket/"+hostileKey || !strings.Contains(dom, "&lt;/script&gt;&lt;script&gt;document.body") {
		t.Errorf("top key %q not shown as text", rep.TopKeys[0].Value)
	}
	if !strings.Contains(dom, "&lt;img src=x onerror=") {
		t.Errorf("user agent %q not shown as text", hostileAgent)
	}
	if os.Getenv("OSSD_REPORT_SCREENSHOT") != "" { // how docs/report.png is made
		out, err := exec.Command(chromium(t), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
			"--user-data-dir="+t.TempDir(), "--screenshot="+os.Getenv("OSSD_REPORT_SCREENSHOT"),
			"--window-size=1200,1600", "file://"+file).CombinedOutput()
		if err != nil {
			t.Fatalf("screenshot: %v\n%s", err, out)
		}
	}
}
