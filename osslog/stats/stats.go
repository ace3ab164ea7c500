// Package stats aggregates OSS access-log lines (as [osslog.Parse] reads
// them) into the figures people ask of their logs: requests, errors and
// bytes by operation, status and error code; the most frequent keys, remote
// IPs, user agents, requesters and access keys; request-time percentiles by
// operation; requests per hour.
//
// Memory is bounded whatever the number of lines: breakdowns by a field are
// capped at MaxGroups names (the rest is counted under "(other)"), top lists
// use Space-Saving counters (see [TopK]) and percentiles fixed-bucket
// histograms (see [Histogram]); the only part that grows is one small
// record per hour of log time in the window. Lines are streamed: a reader is
// read a line at a time through a fixed buffer.
//
// cmd/ossd's `ossd logs stats` and `ossd logs report` read log objects
// through the OSS API and feed them here; the package itself does no I/O
// beyond the readers it is given.
package stats

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
	"unsafe"

	"github.com/ossd/ossd/osslog"
)

// MaxGroups caps the distinct names of each breakdown (operations, statuses,
// error codes). OSS has a few hundred operations and fewer error codes, so
// real logs never reach it; it keeps a hostile or corrupt log from growing
// the maps without bound.
const MaxGroups = 1000

// Other is the name under which values beyond MaxGroups are counted.
const Other = "(other)"

// Anonymous stands for an empty requester or access key id (an anonymous
// request) in the top lists.
const Anonymous = "(anonymous)"

// MaxLineBytes is the longest line read; a longer one is counted as
// malformed and skipped. OSS lines are a few hundred bytes (a key is at
// most 1 KiB, 3 KiB URL-encoded).
const MaxLineBytes = 256 << 10

// Options configure an Aggregator. The zero value is usable.
type Options struct {
	// From and To bound the window: lines whose time is before From or at
	// or after To are counted in OutsideWindow and otherwise ignored. A zero
	// bound is open.
	From, To time.Time
	// TopN is the length of each top list (default 10).
	TopN int
	// Capacity is the number of Space-Saving counters per top list
	// (default 1000; at least TopN).
	Capacity int
	// Location is the time zone hours are reported in (default UTC).
	// Hours are whole UTC hours, so in a zone whose offset is not whole
	// hours (+0530) they start at :30.
	Location *time.Location
}

// Totals are the sums over a set of requests.
type Totals struct {
	Requests int64 `json:"requests"`
	// Errors counts responses with a status of 400 or more.
	Errors int64 `json:"errors"`
	// BytesSent sums sent_bytes (downstream traffic).
	BytesSent int64 `json:"bytes_sent"`
	// BytesReceived sums request_length (upstream traffic, headers included).
	BytesReceived int64 `json:"bytes_received"`
}

func (t *Totals) merge(o *Totals) {
	t.Requests += o.Requests
	t.Errors += o.Errors
	t.BytesSent += o.BytesSent
	t.BytesReceived += o.BytesReceived
}

func (t *Totals) add(l *osslog.Line) {
	t.Requests++
	if l.HTTPStatus >= 400 {
		t.Errors++
	}
	if l.SentBytes > 0 {
		t.BytesSent += l.SentBytes
	}
	if l.RequestLength > 0 {
		t.BytesReceived += l.RequestLength
	}
}

// Aggregator accumulates lines. It is not safe for concurrent use.
type Aggregator struct {
	opt Options

	lines, malformed, outside int64
	total                     Totals
	latency                   Histogram
	first, last               time.Time

	ops    map[string]*opStats
	status map[string]*Totals
	codes  map[string]*Totals
	hours  map[int64]*Totals // by Unix hour

	keys, ips, agents, requesters, accessKeys *TopK
	keyBuf                                    []byte
}

type opStats struct {
	Totals
	latency Histogram
}

// New returns an empty Aggregator.
func New(opt Options) *Aggregator {
	if opt.TopN <= 0 {
		opt.TopN = 10
	}
	if opt.Capacity <= 0 {
		opt.Capacity = 1000
	}
	if opt.Capacity < opt.TopN {
		opt.Capacity = opt.TopN
	}
	if opt.Location == nil {
		opt.Location = time.UTC
	}
	return &Aggregator{
		opt:        opt,
		ops:        map[string]*opStats{},
		status:     map[string]*Totals{},
		codes:      map[string]*Totals{},
		hours:      map[int64]*Totals{},
		keys:       NewTopK(opt.Capacity),
		ips:        NewTopK(opt.Capacity),
		agents:     NewTopK(opt.Capacity),
		requesters: NewTopK(opt.Capacity),
		accessKeys: NewTopK(opt.Capacity),
	}
}

// group returns the entry of name in m, creating it (with a copy of name,
// which may alias a reused buffer) unless m is full, when the entry of
// Other is returned.
func group[T any](m map[string]*T, name string) *T {
	if g, ok := m[name]; ok {
		return g
	}
	if len(m) >= MaxGroups {
		name = Other
		if g, ok := m[name]; ok {
			return g
		}
	}
	g := new(T)
	m[strings.Clone(name)] = g
	return g
}

// Add counts one line. Add keeps no reference to l or its strings.
func (a *Aggregator) Add(l *osslog.Line) {
	a.lines++
	if !l.Time.IsZero() && (!a.opt.From.IsZero() && l.Time.Before(a.opt.From) || !a.opt.To.IsZero() && !l.Time.Before(a.opt.To)) {
		a.outside++
		return
	}
	a.total.add(l)
	a.latency.Add(l.RequestTime)
	op := l.Operation
	if op == "" {
		op = "-"
	}
	o := group(a.ops, op)
	o.add(l)
	o.latency.Add(l.RequestTime)
	group(a.status, statusName(l.HTTPStatus)).add(l)
	if l.ErrorCode != "" {
		group(a.codes, l.ErrorCode).add(l)
	}
	if !l.Time.IsZero() {
		if a.first.IsZero() || l.Time.Before(a.first) {
			a.first = l.Time
		}
		if l.Time.After(a.last) {
			a.last = l.Time
		}
		h := l.Time.Unix() / 3600
		if l.Time.Unix() < 0 && l.Time.Unix()%3600 != 0 {
			h-- // floor, not truncation, before 1970
		}
		t := a.hours[h]
		if t == nil {
			t = new(Totals)
			a.hours[h] = t
		}
		t.add(l)
	}
	if l.Key != "" {
		a.keyBuf = append(append(append(a.keyBuf[:0], l.Bucket...), '/'), l.Key...)
		a.keys.AddBytes(a.keyBuf)
	}
	if l.RemoteIP != "" {
		a.ips.Add(l.RemoteIP)
	}
	a.agents.Add(orDash(l.UserAgent))
	a.requesters.Add(orAnonymous(l.RequesterID))
	a.accessKeys.Add(orAnonymous(l.AccessKeyID))
}

func statusName(s int) string {
	if s < 0 {
		return "-"
	}
	if s >= 100 && s <= 599 {
		return statusNames[s-100]
	}
	return fmt.Sprint(s)
}

// statusNames avoids a string allocation per line.
var statusNames = func() (n [500]string) {
	for i := range n {
		n[i] = fmt.Sprint(i + 100)
	}
	return
}()

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func orAnonymous(s string) string {
	if s == "" {
		return Anonymous
	}
	return s
}

// Merge adds what o counted to a, so that parts of a log (objects read
// concurrently) can be counted apart and reported as one. Both must have
// been made with the same Options. The top lists keep their bound over
// the combined lines (see TopK.Merge); everything else is exact.
func (a *Aggregator) Merge(o *Aggregator) {
	a.lines += o.lines
	a.malformed += o.malformed
	a.outside += o.outside
	a.total.merge(&o.total)
	a.latency.Merge(&o.latency)
	if !o.first.IsZero() && (a.first.IsZero() || o.first.Before(a.first)) {
		a.first = o.first
	}
	if o.last.After(a.last) {
		a.last = o.last
	}
	for name, g := range o.ops {
		mine := group(a.ops, name)
		mine.merge(&g.Totals)
		mine.latency.Merge(&g.latency)
	}
	for _, m := range [][2]map[string]*Totals{{a.status, o.status}, {a.codes, o.codes}} {
		for name, t := range m[1] {
			group(m[0], name).merge(t)
		}
	}
	for h, t := range o.hours {
		mine := a.hours[h]
		if mine == nil {
			mine = new(Totals)
			a.hours[h] = mine
		}
		mine.merge(t)
	}
	a.keys.Merge(o.keys)
	a.ips.Merge(o.ips)
	a.agents.Merge(o.agents)
	a.requesters.Merge(o.requesters)
	a.accessKeys.Merge(o.accessKeys)
}

// AddLine parses one line and counts it; a line osslog.Parse rejects is
// counted as malformed and its error returned.
func (a *Aggregator) AddLine(line string) error {
	l, err := osslog.Parse(line)
	if err != nil {
		a.malformed++
		return err
	}
	a.Add(&l)
	return nil
}

// AddReader counts every line of r, streaming it through a buffer of
// MaxLineBytes. Malformed lines (and lines longer than MaxLineBytes) are
// counted and skipped; blank lines are ignored. Only a read error is
// returned.
func (a *Aggregator) AddReader(r io.Reader) error {
	br := bufio.NewReaderSize(r, MaxLineBytes)
	for {
		b, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			a.malformed++
			for errors.Is(err, bufio.ErrBufferFull) { // drop the rest of the line
				_, err = br.ReadSlice('\n')
			}
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			continue
		}
		if len(b) > 0 && !(len(b) == 1 && b[0] == '\n') {
			// The line is parsed in place: Parse's strings alias the
			// buffer, and Add copies whatever it keeps, so no line is
			// copied to the heap (a third of the time of a naive loop).
			a.AddLine(unsafe.String(&b[0], len(b)))
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// Group is one row of a breakdown.
type Group struct {
	Name string `json:"name"`
	Totals
	// Latency is set for operations and the total only.
	Latency *Latency `json:"latency_ms,omitempty"`
}

// Latency is request-time percentiles in ms, nearest rank, to the precision
// of Histogram (exact below 128 ms, under 1.6% low above).
type Latency struct {
	P50 int64 `json:"p50"`
	P90 int64 `json:"p90"`
	P99 int64 `json:"p99"`
}

// Hour is the traffic of one hour.
type Hour struct {
	Start time.Time `json:"start"`
	Totals
}

// Report is what an Aggregator found.
type Report struct {
	// From and To are the window asked for (zero when open).
	From time.Time `json:"from,omitzero"`
	To   time.Time `json:"to,omitzero"`
	// First and Last are the times of the first and last line counted.
	First time.Time `json:"first,omitzero"`
	Last  time.Time `json:"last,omitzero"`
	// Objects is the number of log objects read (set by the caller).
	Objects int `json:"objects"`
	// Lines counts every well-formed line read; Malformed those Parse
	// rejected; OutsideWindow the well-formed lines outside [From, To).
	Lines         int64 `json:"lines"`
	Malformed     int64 `json:"malformed"`
	OutsideWindow int64 `json:"outside_window"`
	// Total is every counted request, with percentiles over all of them.
	Total Group `json:"total"`
	// Operations, Statuses and ErrorCodes are sorted by requests, highest
	// first.
	Operations []Group `json:"operations"`
	Statuses   []Group `json:"statuses"`
	ErrorCodes []Group `json:"error_codes"`
	// The top lists: estimated counts, each at most its Error above the
	// true count, and at most TopError above for any entry.
	TopKeys       []Entry `json:"top_keys"`
	TopRemoteIPs  []Entry `json:"top_remote_ips"`
	TopUserAgents []Entry `json:"top_user_agents"`
	TopRequesters []Entry `json:"top_requesters"`
	TopAccessKeys []Entry `json:"top_access_keys"`
	// TopError is the Space-Saving bound N/m: no count in a top list is
	// higher than the true count by more than this, and every value with
	// more than this many requests is listed if it ranks high enough.
	TopError int64 `json:"top_error_bound"`
	// Hours is every hour from the first line's to the last line's, in
	// order, empty hours included.
	Hours []Hour `json:"hours"`
}

// maxFilledHours bounds how many empty hours Report inserts between the
// first and last line (about 3 years); beyond it only hours with lines are
// listed.
const maxFilledHours = 3 * 366 * 24

// Report summarises what was added so far.
func (a *Aggregator) Report() *Report {
	r := &Report{
		From: a.opt.From, To: a.opt.To, Lines: a.lines, Malformed: a.malformed, OutsideWindow: a.outside,
		Total:         Group{Name: "total", Totals: a.total},
		TopKeys:       a.keys.Top(a.opt.TopN),
		TopRemoteIPs:  a.ips.Top(a.opt.TopN),
		TopUserAgents: a.agents.Top(a.opt.TopN),
		TopRequesters: a.requesters.Top(a.opt.TopN),
		TopAccessKeys: a.accessKeys.Top(a.opt.TopN),
		TopError:      a.total.Requests / int64(a.opt.Capacity),
		Operations:    []Group{}, Statuses: []Group{}, ErrorCodes: []Group{}, Hours: []Hour{},
	}
	if !a.first.IsZero() {
		r.First, r.Last = a.first.In(a.opt.Location), a.last.In(a.opt.Location)
	}
	r.Total.Latency = latency(&a.latency)
	for name, o := range a.ops {
		r.Operations = append(r.Operations, Group{Name: name, Totals: o.Totals, Latency: latency(&o.latency)})
	}
	for name, t := range a.status {
		r.Statuses = append(r.Statuses, Group{Name: name, Totals: *t})
	}
	for name, t := range a.codes {
		r.ErrorCodes = append(r.ErrorCodes, Group{Name: name, Totals: *t})
	}
	for _, gs := range [][]Group{r.Operations, r.Statuses, r.ErrorCodes} {
		sort.Slice(gs, func(i, j int) bool {
			if gs[i].Requests != gs[j].Requests {
				return gs[i].Requests > gs[j].Requests
			}
			return gs[i].Name < gs[j].Name
		})
	}
	hs := make([]int64, 0, len(a.hours))
	for h := range a.hours {
		hs = append(hs, h)
	}
	sort.Slice(hs, func(i, j int) bool { return hs[i] < hs[j] })
	fill := len(hs) > 0 && hs[len(hs)-1]-hs[0] < maxFilledHours
	for i, h := range hs {
		if fill && i > 0 {
			for e := hs[i-1] + 1; e < h; e++ {
				r.Hours = append(r.Hours, Hour{Start: time.Unix(e*3600, 0).In(a.opt.Location)})
			}
		}
		r.Hours = append(r.Hours, Hour{Start: time.Unix(h*3600, 0).In(a.opt.Location), Totals: *a.hours[h]})
	}
	return r
}

// latency is nil when no request time was recorded (every one was "-").
func latency(h *Histogram) *Latency {
	if h.Count() == 0 {
		return nil
	}
	return &Latency{P50: h.Quantile(0.50), P90: h.Quantile(0.90), P99: h.Quantile(0.99)}
}
