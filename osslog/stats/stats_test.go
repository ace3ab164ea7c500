package stats

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ossd/ossd/osslog"
)

func TestHistogramQuantile(t *testing.T) {
	seq := func(n int64) []int64 {
		v := make([]int64, n)
		for i := range v {
			v[i] = int64(i) + 1
		}
		return v
	}
	for _, tc := range []struct {
		name   string
		values []int64
		q      float64
		want   int64
	}{
		{"empty", nil, 0.5, -1},
		{"one", []int64{7}, 0.99, 7},
		{"exact median", seq(100), 0.5, 50},
		{"exact p90", seq(100), 0.9, 90},
		{"exact p99", seq(100), 0.99, 99},
		{"nearest rank rounds up", []int64{1, 2, 3}, 0.5, 2},
		{"absent ignored", []int64{-1, -1, 5}, 0.5, 5},
		{"zero", []int64{0, 0, 0, 9}, 0.5, 0},
		{"bucket low of 1000", []int64{1000}, 0.5, 1000 - 1000%8},   // [512,1024) in 64 buckets of 8
		{"bucket low of 130", []int64{130}, 0.5, 130},               // [128,256) in buckets of 2
		{"huge", []int64{1 << 50}, 0.5, bucketLow(histBuckets - 1)}, // the last bucket
		{"p100", []int64{1, 2, 3, 4}, 1, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var h Histogram
			for _, v := range tc.values {
				h.Add(v)
			}
			if got := h.Quantile(tc.q); got != tc.want {
				t.Fatalf("Quantile(%v) = %d, want %d", tc.q, got, tc.want)
			}
		})
	}
}

// TestHistogramErrorBound checks the documented bound on random data: the
// reported percentile is never above the true one and less than 1/64 below.
func TestHistogramErrorBound(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for trial := 0; trial < 20; trial++ {
		var h Histogram
		vals := make([]int64, 1+r.Intn(5000))
		for i := range vals {
			vals[i] = int64(r.ExpFloat64() * float64(1+r.Intn(100000)))
			h.Add(vals[i])
		}
		sort.Slice(vals, func(i, j int) bool { return vals[i] < vals[j] })
		for _, q := range []float64{0.5, 0.9, 0.99} {
			rank := int(q * float64(len(vals)))
			if float64(rank) < q*float64(len(vals)) {
				rank++
			}
			if rank < 1 {
				rank = 1
			}
			want := vals[rank-1]
			got := h.Quantile(q)
			if got > want || float64(got) < float64(want)*(1-1.0/64)-1 {
				t.Fatalf("trial %d q %v: got %d, true %d", trial, q, got, want)
			}
		}
	}
}

func TestBucketsMonotonic(t *testing.T) {
	for b := 1; b < histBuckets; b++ {
		if bucketLow(b) <= bucketLow(b-1) {
			t.Fatalf("bucketLow(%d)=%d <= bucketLow(%d)=%d", b, bucketLow(b), b-1, bucketLow(b-1))
		}
		if got := bucketOf(bucketLow(b)); got != b {
			t.Fatalf("bucketOf(bucketLow(%d)) = %d", b, got)
		}
		if got := bucketOf(bucketLow(b) - 1); got != b-1 {
			t.Fatalf("bucketOf(bucketLow(%d)-1) = %d", b, got)
		}
	}
}

func TestTopK(t *testing.T) {
	for _, tc := range []struct {
		name     string
		capacity int
		stream   string // one value per character
		k        int
		want     []Entry
	}{
		{"exact when it fits", 10, "aaabbc", 3, []Entry{{"a", 3, 0}, {"b", 2, 0}, {"c", 1, 0}}},
		{"k cuts", 10, "aaabbc", 1, []Entry{{"a", 3, 0}}},
		{"ties by value", 10, "cba", 3, []Entry{{"a", 1, 0}, {"b", 1, 0}, {"c", 1, 0}}},
		// Capacity 2: c evicts the smaller of a(2)/b(1) → c counts 2 with error 1.
		{"eviction inherits count", 2, "aabc", 2, []Entry{{"a", 2, 0}, {"c", 2, 1}}},
		{"heavy hitter survives churn", 3, "axayazawavauat", 1, []Entry{{"a", 7, 0}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tk := NewTopK(tc.capacity)
			for _, c := range tc.stream {
				tk.Add(string(c))
			}
			got := tk.Top(tc.k)
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("Top(%d) = %v, want %v", tc.k, got, tc.want)
			}
		})
	}
}

// TestTopKBound checks Space-Saving's guarantees on a skewed random stream:
// counts never low, at most N/m high, and every value above N/m listed.
func TestTopKBound(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	const m, n = 50, 20000
	tk := NewTopK(m)
	truth := map[string]int64{}
	z := rand.NewZipf(r, 1.3, 1, 5000)
	for i := 0; i < n; i++ {
		v := fmt.Sprint(z.Uint64())
		truth[v]++
		if i%2 == 0 {
			tk.Add(v)
		} else {
			tk.AddBytes([]byte(v))
		}
	}
	listed := map[string]bool{}
	for _, e := range tk.Top(m) {
		listed[e.Value] = true
		if e.Count < truth[e.Value] || e.Count-truth[e.Value] > n/m || e.Count-e.Error > truth[e.Value] {
			t.Fatalf("%q: count %d error %d, true %d", e.Value, e.Count, e.Error, truth[e.Value])
		}
	}
	for v, c := range truth {
		if c > n/m && !listed[v] {
			t.Fatalf("%q has %d > N/m = %d but is not listed", v, c, n/m)
		}
	}
}

func TestParseObjectName(t *testing.T) {
	cst := time.FixedZone("+0800", 8*3600)
	for _, tc := range []struct {
		prefix, name string
		ok           bool
		source       string
		hour         time.Time
	}{
		{"log/", "log/examplebucket2026-11-24-10-00-00-00000000000004D2", true, "examplebucket", time.Date(2026, 11, 24, 10, 0, 0, 0, cst)},
		{"", "b-1-22026-01-02-03-00-00-ABC", true, "b-1-2", time.Date(2026, 1, 2, 3, 0, 0, 0, cst)},
		// ossd with a node id in UniqueString (several nodes)
		{"log/", "log/examplebucket2026-11-24-10-00-00-N7K2Q9XA00000000000004D2", true, "examplebucket", time.Date(2026, 11, 24, 10, 0, 0, 0, cst)},
		{"log/", "other/b2026-11-24-10-00-00-1", false, "", time.Time{}},
		{"log/", "log/2026-11-24-10-00-00-1", false, "", time.Time{}},  // no source
		{"log/", "log/b2026-11-24-10-00-00-", false, "", time.Time{}},  // no unique part
		{"log/", "log/b2026-13-24-10-00-00-1", false, "", time.Time{}}, // month 13
		{"log/", "log/readme.txt", false, "", time.Time{}},
	} {
		n, ok := ParseObjectName(tc.prefix, tc.name, cst)
		if ok != tc.ok || ok && (n.Source != tc.source || !n.Hour.Equal(tc.hour)) {
			t.Errorf("ParseObjectName(%q, %q) = %+v, %v; want %q %v %v", tc.prefix, tc.name, n, ok, tc.source, tc.hour, tc.ok)
		}
	}
}

func TestMayOverlap(t *testing.T) {
	h := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	n := ObjectName{Source: "b", Hour: h}
	for _, tc := range []struct {
		from, to time.Time
		slack    time.Duration
		want     bool
	}{
		{time.Time{}, time.Time{}, 0, true},
		{h.Add(30 * time.Minute), time.Time{}, 0, true},
		{h.Add(time.Hour), time.Time{}, 0, false},
		{time.Time{}, h, 0, false},
		{time.Time{}, h.Add(time.Second), 0, true},
		{h.Add(2 * time.Hour), time.Time{}, 90 * time.Minute, true},
	} {
		if got := n.MayOverlap(tc.from, tc.to, tc.slack); got != tc.want {
			t.Errorf("MayOverlap(%v, %v, %v) = %v, want %v", tc.from, tc.to, tc.slack, got, tc.want)
		}
	}
}

// line builds a log line for the aggregation tests.
func line(at time.Time, op, bucket, key string, status int, sent, ms int64, code, ip, ua, requester string) string {
	l := osslog.Line{
		RemoteIP: ip, Time: at, RequestURI: "GET /" + bucket + "/" + key + " HTTP/1.1", HTTPStatus: status,
		SentBytes: sent, RequestTime: ms, UserAgent: ua, Host: "127.0.0.1", RequestID: "0123456789ABCDEF01234567",
		LoggingFlag: "true", RequesterID: requester, Operation: op, Bucket: bucket, Key: key, ObjectSize: osslog.Absent,
		ServerCostTime: ms, ErrorCode: code, RequestLength: 100, UserID: "1", DeltaDataSize: osslog.AbsentDelta,
		AccessKeyID: map[string]string{"": "", "1": "LTAI1"}[requester],
	}
	return string(l.Append(nil)) + "\n"
}

func TestAggregator(t *testing.T) {
	t0 := time.Date(2026, 11, 24, 10, 15, 0, 0, time.FixedZone("", 8*3600))
	lines := []string{
		line(t0, "GetObject", "b", "a.txt", 200, 5, 3, "", "10.0.0.1", "ua1", "1"),
		line(t0.Add(time.Minute), "GetObject", "b", "a.txt", 200, 5, 5, "", "10.0.0.1", "ua1", "1"),
		line(t0.Add(2*time.Minute), "GetObject", "b", "no/such", 404, 300, 1, "NoSuchKey", "10.0.0.2", "ua2", ""),
		line(t0.Add(2*time.Hour), "PutObject", "b", "a.txt", 200, 0, 20, "", "10.0.0.1", "ua1", "1"),
		line(t0.Add(2*time.Hour), "GetBucket", "b", "", 403, 250, 2, "AccessDenied", "10.0.0.3", "ua2", ""),
		"not a log line\n",
		"\n",
	}
	for _, tc := range []struct {
		name  string
		opt   Options
		check func(*testing.T, *Report)
	}{
		{"everything", Options{}, func(t *testing.T, r *Report) {
			want := Totals{Requests: 5, Errors: 2, BytesSent: 560, BytesReceived: 500}
			if r.Total.Totals != want || r.Lines != 5 || r.Malformed != 1 {
				t.Fatalf("total %+v lines %d malformed %d", r.Total.Totals, r.Lines, r.Malformed)
			}
			ops := fmt.Sprintf("%s %d %d %v", r.Operations[0].Name, r.Operations[0].Requests, r.Operations[0].Errors, *r.Operations[0].Latency)
			if ops != "GetObject 3 1 {3 5 5}" || len(r.Operations) != 3 {
				t.Fatalf("operations %v (%s)", r.Operations, ops)
			}
			if fmt.Sprint(r.Statuses) != fmt.Sprint([]Group{
				{Name: "200", Totals: Totals{3, 0, 10, 300}},
				{Name: "403", Totals: Totals{1, 1, 250, 100}},
				{Name: "404", Totals: Totals{1, 1, 300, 100}}}) {
				t.Fatalf("statuses %v", r.Statuses)
			}
			if fmt.Sprint(r.ErrorCodes) != fmt.Sprint([]Group{
				{Name: "AccessDenied", Totals: Totals{1, 1, 250, 100}},
				{Name: "NoSuchKey", Totals: Totals{1, 1, 300, 100}}}) {
				t.Fatalf("error codes %v", r.ErrorCodes)
			}
			if fmt.Sprint(r.TopKeys) != "[{b/a.txt 3 0} {b/no/such 1 0}]" {
				t.Fatalf("top keys %v", r.TopKeys)
			}
			if fmt.Sprint(r.TopRemoteIPs) != "[{10.0.0.1 3 0} {10.0.0.2 1 0} {10.0.0.3 1 0}]" {
				t.Fatalf("top ips %v", r.TopRemoteIPs)
			}
			if fmt.Sprint(r.TopRequesters) != "[{1 3 0} {(anonymous) 2 0}]" || fmt.Sprint(r.TopAccessKeys) != "[{LTAI1 3 0} {(anonymous) 2 0}]" {
				t.Fatalf("requesters %v access keys %v", r.TopRequesters, r.TopAccessKeys)
			}
			if fmt.Sprint(r.TopUserAgents) != "[{ua1 3 0} {ua2 2 0}]" {
				t.Fatalf("user agents %v", r.TopUserAgents)
			}
			// 10:00, 11:00 (empty, filled), 12:00 in UTC+8 = 02, 03, 04 UTC.
			if len(r.Hours) != 3 || r.Hours[0].Requests != 3 || r.Hours[1].Requests != 0 || r.Hours[2].Requests != 2 ||
				!r.Hours[0].Start.Equal(time.Date(2026, 11, 24, 2, 0, 0, 0, time.UTC)) {
				t.Fatalf("hours %v", r.Hours)
			}
		}},
		{"window", Options{From: t0.Add(time.Minute), To: t0.Add(2 * time.Hour)}, func(t *testing.T, r *Report) {
			if r.Total.Requests != 2 || r.OutsideWindow != 3 || r.Lines != 5 {
				t.Fatalf("total %+v outside %d", r.Total, r.OutsideWindow)
			}
		}},
		{"top n", Options{TopN: 1}, func(t *testing.T, r *Report) {
			if len(r.TopKeys) != 1 || len(r.TopRemoteIPs) != 1 {
				t.Fatalf("top lists %v %v", r.TopKeys, r.TopRemoteIPs)
			}
		}},
		{"location", Options{Location: time.FixedZone("", 8*3600)}, func(t *testing.T, r *Report) {
			if got := r.Hours[0].Start.Format("15:04 -0700"); got != "10:00 +0800" {
				t.Fatalf("first hour %s", got)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := New(tc.opt)
			if err := a.AddReader(strings.NewReader(strings.Join(lines, ""))); err != nil {
				t.Fatal(err)
			}
			tc.check(t, a.Report())
		})
	}
}

// TestAddReaderLongLine: a line longer than the buffer is one malformed
// line, and the lines around it are read.
func TestAddReaderLongLine(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ok := line(t0, "GetObject", "b", "k", 200, 1, 1, "", "1.2.3.4", "ua", "1")
	in := ok + strings.Repeat("x", 3*MaxLineBytes) + "\n" + ok
	a := New(Options{})
	if err := a.AddReader(strings.NewReader(in)); err != nil {
		t.Fatal(err)
	}
	if r := a.Report(); r.Lines != 2 || r.Malformed != 1 {
		t.Fatalf("lines %d malformed %d", r.Lines, r.Malformed)
	}
}

// TestGroupCap: distinct operations beyond MaxGroups are counted as Other.
func TestGroupCap(t *testing.T) {
	a := New(Options{})
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var b strings.Builder
	for i := 0; i < MaxGroups+10; i++ {
		b.WriteString(line(t0, fmt.Sprint("Op", i), "b", "k", 200, 1, 1, "", "1.2.3.4", "ua", "1"))
	}
	a.AddReader(strings.NewReader(b.String()))
	r := a.Report()
	if len(r.Operations) != MaxGroups+1 || r.Operations[0].Name != Other || r.Operations[0].Requests != 10 {
		t.Fatalf("%d operations, first %+v", len(r.Operations), r.Operations[0])
	}
}

// TestTopKMerge: summaries of the parts of a stream, merged, keep
// Space-Saving's guarantees over the whole stream; exact when they fit.
func TestTopKMerge(t *testing.T) {
	for _, tc := range []struct {
		name      string
		m, parts  int
		n, domain int
	}{
		{"fits", 100, 3, 3000, 50},
		{"skewed, small", 20, 4, 20000, 5000},
		{"skewed, two", 50, 2, 20000, 5000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewSource(int64(tc.m)))
			z := rand.NewZipf(r, 1.2, 1, uint64(tc.domain-1))
			truth := map[string]int64{}
			parts := make([]*TopK, tc.parts)
			for i := range parts {
				parts[i] = NewTopK(tc.m)
			}
			for i := 0; i < tc.n; i++ {
				v := fmt.Sprint(z.Uint64())
				truth[v]++
				parts[r.Intn(tc.parts)].Add(v)
			}
			for _, p := range parts[1:] {
				parts[0].Merge(p)
			}
			tk := parts[0]
			if tk.Total() != int64(tc.n) || len(tk.h) > tc.m {
				t.Fatalf("total %d, %d counters", tk.Total(), len(tk.h))
			}
			bound := int64(tc.n / tc.m)
			listed := map[string]bool{}
			for _, e := range tk.Top(tc.m) {
				listed[e.Value] = true
				if e.Count < truth[e.Value] || e.Count-truth[e.Value] > bound || e.Count-e.Error > truth[e.Value] {
					t.Fatalf("%q: count %d error %d, true %d, bound %d", e.Value, e.Count, e.Error, truth[e.Value], bound)
				}
				if len(truth) <= tc.m && e.Count != truth[e.Value] {
					t.Fatalf("%q: count %d, true %d: not exact although it fits", e.Value, e.Count, truth[e.Value])
				}
			}
			for v, c := range truth {
				if c > bound && !listed[v] {
					t.Fatalf("%q has %d > N/m = %d but is not listed", v, c, bound)
				}
			}
		})
	}
}

// TestAggregatorMerge: lines counted in parts and merged give the report
// of the lines counted at once.
func TestAggregatorMerge(t *testing.T) {
	g := newLineGen(20000)
	var all strings.Builder
	parts := []*Aggregator{New(Options{}), New(Options{}), New(Options{})}
	whole := New(Options{})
	if _, err := io.Copy(&all, g); err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(all.String(), "\n")
	for i, l := range lines {
		if l == "" {
			continue
		}
		whole.AddLine(l)
		parts[i%3].AddLine(l)
	}
	parts[0].AddLine("garbage")
	whole.AddLine("garbage")
	parts[0].Merge(parts[1])
	parts[0].Merge(parts[2])
	got, want := parts[0].Report(), whole.Report()
	// Top lists of 1000 counters over a million possible keys are
	// estimates; their bound is checked in TestTopKMerge. The rest is exact.
	got.TopKeys, want.TopKeys, got.TopRemoteIPs, want.TopRemoteIPs = nil, nil, nil, nil
	gj, _ := json.Marshal(got)
	wj, _ := json.Marshal(want)
	if string(gj) != string(wj) {
		t.Fatalf("merged report differs:\n got %s\nwant %s", gj, wj)
	}
	if got.Lines != 20000 || got.Malformed != 1 || len(got.ErrorCodes) != 2 {
		t.Fatalf("lines %d malformed %d codes %v", got.Lines, got.Malformed, got.ErrorCodes)
	}
}

// TestBoundedState: however many distinct values arrive, every part of an
// Aggregator stays within its documented size; only hours grow.
func TestBoundedState(t *testing.T) {
	a := New(Options{Capacity: 100})
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 20000; i++ {
		s := fmt.Sprint(i)
		a.AddLine(line(t0.Add(time.Duration(i%48)*time.Hour), "Op"+s, "b", "k"+s, 200+i%400, 1, int64(i), "Code"+s, "10.0."+s, "ua"+s, s))
	}
	for name, n := range map[string]int{"ops": len(a.ops), "codes": len(a.codes)} {
		if n > MaxGroups+1 {
			t.Errorf("%s: %d groups", name, n)
		}
	}
	if len(a.status) > 400 || len(a.hours) != 48 {
		t.Errorf("%d statuses, %d hours", len(a.status), len(a.hours))
	}
	for name, tk := range map[string]*TopK{"keys": a.keys, "ips": a.ips, "agents": a.agents, "requesters": a.requesters, "access keys": a.accessKeys} {
		if len(tk.h) > 100 || len(tk.index) > 100 || tk.Total() != 20000 {
			t.Errorf("%s: %d counters, %d indexed, total %d", name, len(tk.h), len(tk.index), tk.Total())
		}
	}
	if r := a.Report(); r.TopError != 200 || r.Lines != 20000 {
		t.Errorf("top error bound %d, lines %d", r.TopError, r.Lines)
	}
}

// TestWriteTable: values from clients reach the terminal quoted when they
// hold control characters (an escape sequence, a newline), as they are
// otherwise.
func TestWriteTable(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a := New(Options{})
	for _, ua := range []string{"curl/8.0", "evil\x1b[2J\nua", "agent ü"} {
		a.AddLine(line(t0, "GetObject", "b", "k", 200, 1, 1, "", "1.2.3.4", ua, "1"))
	}
	var b strings.Builder
	if err := WriteTable(&b, a.Report()); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"  curl/8.0\n", `  "evil\x1b[2J\nua"` + "\n", "  agent ü\n", "GetObject", "requests  value"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b") {
		t.Errorf("a raw escape reached the table:\n%q", out)
	}
}
