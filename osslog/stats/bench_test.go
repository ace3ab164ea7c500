package stats

import (
	"bytes"
	"fmt"
	"io"
	"math/rand"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ossd/ossd/osslog"
)

// lineGen is an io.Reader of n generated log lines, encoded with osslog's
// own encoder as they are read, so that a benchmark of any size needs no
// memory for its input: a month of traffic on one bucket, keys and remote
// IPs Zipf-distributed over a million keys and 50 000 addresses, a dozen
// operations with their statuses and error codes, request times spread over
// four orders of magnitude.
type lineGen struct {
	n, i  int
	r     *rand.Rand
	keys  *rand.Zipf
	ips   *rand.Zipf
	start time.Time
	buf   []byte
	off   int
	l     osslog.Line
}

func newLineGen(n int) *lineGen {
	r := rand.New(rand.NewSource(42))
	g := &lineGen{n: n, r: r, keys: rand.NewZipf(r, 1.1, 1, 1e6-1), ips: rand.NewZipf(r, 1.2, 1, 5e4-1),
		start: time.Date(2026, 11, 1, 0, 0, 0, 0, time.FixedZone("", 8*3600))}
	g.l = osslog.Line{Reserved1: "", Host: "examplebucket.oss-cn-hangzhou.aliyuncs.com", LoggingFlag: "true",
		Bucket: "examplebucket", UserID: "1657183691453700", StorageClass: "standard", DeltaDataSize: osslog.AbsentDelta}
	return g
}

var genOps = []struct {
	op, method string
	status     int
	code       string
	ms         float64
}{
	{"GetObject", "GET", 200, "", 20}, {"GetObject", "GET", 200, "", 20}, {"GetObject", "GET", 200, "", 20},
	{"GetObject", "GET", 206, "", 15}, {"GetObject", "GET", 404, "NoSuchKey", 2}, {"GetObject", "GET", 304, "", 1},
	{"HeadObject", "HEAD", 200, "", 3}, {"PutObject", "PUT", 200, "", 60}, {"PutObject", "PUT", 403, "AccessDenied", 1},
	{"GetBucket", "GET", 200, "", 30}, {"DeleteObject", "DELETE", 204, "", 10}, {"UploadPart", "PUT", 200, "", 400},
}

var genAgents = []string{"aliyun-sdk-go/v2.1.0 (Linux/6.1; amd64) Go/1.23", "aliyun-sdk-python/2.19.1(Linux/6.1/x86_64;3.11)",
	"ossutil/1.7.19 (linux/amd64)", "aws-cli/2.9.19 Python/3.11.2 Linux/6.1 source/x86_64", "rclone/v1.60.1",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36"}

func (g *lineGen) next() {
	r, l := g.r, &g.l
	o := genOps[r.Intn(len(genOps))]
	key := "data/" + strconv.FormatUint(g.keys.Uint64(), 36) + ".bin"
	ip := g.ips.Uint64()
	l.RemoteIP = "10." + strconv.Itoa(int(ip>>16)) + "." + strconv.Itoa(int(ip>>8&255)) + "." + strconv.Itoa(int(ip&255))
	l.Time = g.start.Add(time.Duration(float64(g.i) / float64(g.n) * float64(30*24*time.Hour)))
	l.RequestURI = o.method + " /" + key + " HTTP/1.1"
	l.HTTPStatus = o.status
	l.SentBytes = r.Int63n(1 << 20)
	l.RequestTime = int64(r.ExpFloat64() * o.ms)
	l.ServerCostTime = l.RequestTime / 2
	l.UserAgent = genAgents[r.Intn(len(genAgents))]
	l.RequestID = fmt.Sprintf("%024X", g.i)
	l.RequesterID = strconv.Itoa(1657183691453700 + r.Intn(20))
	l.AccessKeyID = "LTAI" + strconv.Itoa(r.Intn(40))
	l.Operation, l.Key, l.ErrorCode = o.op, key, o.code
	l.ObjectSize = l.SentBytes
	l.RequestLength = 300 + r.Int63n(400)
	g.buf = append(l.Append(g.buf[:0]), '\n')
	g.off = 0
	g.i++
}

func (g *lineGen) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if g.off == len(g.buf) {
			if g.i == g.n {
				if n == 0 {
					return 0, io.EOF
				}
				break
			}
			g.next()
		}
		c := copy(p[n:], g.buf[g.off:])
		g.off += c
		n += c
	}
	return n, nil
}

// peakRSS is the process's peak resident set (VmHWM), in MiB; 0 off Linux.
func peakRSS() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

// BenchmarkAggregate streams b.N generated lines (a month of logs) through
// parsing and aggregation, as `ossd logs stats` does with each log object.
// One op is one line; it reports lines/s and the peak RSS of the whole test
// process. Run it at full size on a quiet machine:
//
//	go test ./osslog/stats -run '^$' -bench 'Aggregate|Generate' -benchtime 10000000x -count 1
//
// BenchmarkGenerate is the generator alone: subtract its time per line to
// get parsing and aggregation alone.
func BenchmarkAggregate(b *testing.B) {
	g := newLineGen(b.N)
	a := New(Options{})
	b.ResetTimer()
	start := time.Now()
	if err := a.AddReader(g); err != nil {
		b.Fatal(err)
	}
	r := a.Report()
	elapsed := time.Since(start)
	b.StopTimer()
	if r.Lines != int64(b.N) || r.Malformed != 0 {
		b.Fatalf("counted %d lines (%d malformed), want %d", r.Lines, r.Malformed, b.N)
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "lines/s")
	b.ReportMetric(peakRSS(), "peak-RSS-MiB")
	b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-inuse-MiB")
}

func BenchmarkGenerate(b *testing.B) {
	g := newLineGen(b.N)
	b.ResetTimer()
	n, err := io.Copy(io.Discard, g)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(n)/float64(b.N), "bytes/line")
}

// TestLineGen: the generator's lines parse, and a month of them spans 720 hours.
func TestLineGen(t *testing.T) {
	g := newLineGen(5000)
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, g); err != nil {
		t.Fatal(err)
	}
	a := New(Options{})
	if err := a.AddReader(&buf); err != nil {
		t.Fatal(err)
	}
	r := a.Report()
	if r.Lines != 5000 || r.Malformed != 0 || len(r.Hours) != 720 || len(r.ErrorCodes) != 2 {
		t.Fatalf("lines %d malformed %d hours %d codes %v", r.Lines, r.Malformed, len(r.Hours), r.ErrorCodes)
	}
}
