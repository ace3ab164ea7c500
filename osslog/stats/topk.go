package stats

import (
	"container/heap"
	"sort"
	"strings"
)

// TopK finds the most frequent values of a stream in bounded memory with
// the Space-Saving algorithm (Metwally, Agrawal, El Abbadi, 2005). It keeps
// at most Capacity counters; a value not tracked, arriving when all are in
// use, takes over the counter with the smallest count c and starts at c+1,
// remembering c as its possible overcount.
//
// Why Space-Saving rather than a count-min sketch: it needs no second pass
// and no heap of candidates beside the sketch, it never undercounts, and
// its error is per entry and known, so the report can print it. The bound:
// with N values seen and m counters, every count is at most N/m too high
// (Entry.Error is that entry's own, usually much smaller, bound), and every
// value whose true count exceeds N/m is in the summary. With m = 1000 a
// value that makes up more than 0.1% of the requests is never missed.
//
// Memory is O(Capacity): the map, the heap and the cloned values.
type TopK struct {
	capacity int
	n        int64
	index    map[string]*counter
	h        minHeap
}

type counter struct {
	value string
	count int64
	err   int64
	pos   int // index in the heap
}

// NewTopK returns a summary with capacity counters (at least 1).
func NewTopK(capacity int) *TopK {
	if capacity < 1 {
		capacity = 1
	}
	return &TopK{capacity: capacity, index: make(map[string]*counter, capacity)}
}

// Add counts one occurrence of v. v may share memory with a buffer the
// caller reuses: it is cloned before it is kept.
func (t *TopK) Add(v string) { t.AddN(v, 1) }

// AddN counts n occurrences of v.
func (t *TopK) AddN(v string, n int64) {
	t.n += n
	if c, ok := t.index[v]; ok {
		c.count += n
		heap.Fix(&t.h, c.pos)
		return
	}
	if len(t.h) < t.capacity {
		c := &counter{value: strings.Clone(v), count: n}
		t.index[c.value] = c
		heap.Push(&t.h, c)
		return
	}
	// Evict the smallest counter: the newcomer inherits its count as error.
	c := t.h[0]
	delete(t.index, c.value)
	c.value = strings.Clone(v)
	c.err = c.count
	c.count += n
	t.index[c.value] = c
	heap.Fix(&t.h, 0)
}

// AddBytes counts one occurrence of string(v) without allocating when the
// value is already tracked.
func (t *TopK) AddBytes(v []byte) {
	t.n++
	if c, ok := t.index[string(v)]; ok {
		c.count++
		heap.Fix(&t.h, c.pos)
		return
	}
	t.n--
	t.AddN(string(v), 1)
}

// Total is the number of values seen.
func (t *TopK) Total() int64 { return t.n }

// Entry is one value of a top-k list: its estimated count, which is at
// most Error above the true count (and never below it).
type Entry struct {
	Value string `json:"value"`
	Count int64  `json:"count"`
	Error int64  `json:"error,omitempty"`
}

// Top returns up to k entries, highest count first (ties by value).
func (t *TopK) Top(k int) []Entry {
	out := make([]Entry, 0, len(t.h))
	for _, c := range t.h {
		out = append(out, Entry{Value: c.value, Count: c.count, Error: c.err})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Value < out[j].Value
	})
	if len(out) > k {
		out = out[:k]
	}
	return out
}

type minHeap []*counter

func (h minHeap) Len() int           { return len(h) }
func (h minHeap) Less(i, j int) bool { return h[i].count < h[j].count }
func (h minHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].pos, h[j].pos = i, j
}
func (h *minHeap) Push(x any) {
	c := x.(*counter)
	c.pos = len(*h)
	*h = append(*h, c)
}
func (h *minHeap) Pop() any {
	old := *h
	c := old[len(old)-1]
	*h = old[:len(old)-1]
	return c
}

// floor is the most a value the summary does not track can have occurred:
// the smallest counter once every counter is in use, else 0 (until then
// every value seen is tracked, exactly).
func (t *TopK) floor() int64 {
	if len(t.h) < t.capacity {
		return 0
	}
	return t.h[0].count
}

// Merge adds the counts of o (a summary of another part of the stream) to
// t, keeping t's capacity. A value tracked by one summary only is charged
// the other's floor, both in its count and in its error, so counts stay
// never low; the merged summary keeps the Space-Saving bound over the
// combined stream (Agarwal et al., "Mergeable Summaries", 2012): every count
// at most (N_t+N_o)/m high.
func (t *TopK) Merge(o *TopK) {
	ft, fo := t.floor(), o.floor()
	all := make([]*counter, 0, len(t.h)+len(o.h))
	for _, c := range t.h {
		all = append(all, c)
	}
	for _, c := range o.h {
		if mine, ok := t.index[c.value]; ok {
			mine.count += c.count
			mine.err += c.err
			continue
		}
		all = append(all, &counter{value: c.value, count: c.count + ft, err: c.err + ft})
	}
	for _, c := range t.h {
		if _, ok := o.index[c.value]; !ok {
			c.count += fo
			c.err += fo
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].count > all[j].count })
	if len(all) > t.capacity {
		all = all[:t.capacity]
	}
	t.n += o.n
	t.index = make(map[string]*counter, t.capacity)
	t.h = t.h[:0]
	for _, c := range all {
		t.index[c.value] = c
		heap.Push(&t.h, c)
	}
}
