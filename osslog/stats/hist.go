package stats

import "math/bits"

// Histogram counts non-negative integers (request times in ms) in fixed
// log-linear buckets, so that percentiles of an unbounded stream take a
// fixed amount of memory (histBuckets int64s, 18 KiB).
//
// Values below 128 have a bucket each and are exact. Above, each power of
// two [2^e, 2^(e+1)) is split into 64 equal buckets, and a percentile is
// reported as the lowest value of its bucket: the reported value v is at
// most the true one, and the true one is below v·(1+1/64). So the relative
// error is under 1.6% (a p99 of 5 000 ms is exact to within 78 ms). Values
// at or above 2^40 ms (35 years) share the last bucket.
type Histogram struct {
	counts [histBuckets]int64
	n      int64
}

const (
	histExact   = 128 // values below this have a bucket each
	histSubBits = 6   // 64 buckets per power of two above it
	histMaxExp  = 40
	histBuckets = histExact + (histMaxExp-7)<<histSubBits
)

func bucketOf(v int64) int {
	if v < histExact {
		return int(v)
	}
	e := 63 - bits.LeadingZeros64(uint64(v)) // 2^e <= v < 2^(e+1), e >= 7
	if e >= histMaxExp {
		return histBuckets - 1
	}
	sub := int((v >> (e - histSubBits)) & (1<<histSubBits - 1))
	return histExact + (e-7)<<histSubBits + sub
}

// bucketLow is the smallest value that falls in bucket b.
func bucketLow(b int) int64 {
	if b < histExact {
		return int64(b)
	}
	b -= histExact
	e := b>>histSubBits + 7
	sub := int64(b & (1<<histSubBits - 1))
	return 1<<e + sub<<(e-histSubBits)
}

// Add records v; negative values (absent request times) are ignored.
func (h *Histogram) Add(v int64) {
	if v < 0 {
		return
	}
	h.counts[bucketOf(v)]++
	h.n++
}

// Count is the number of values recorded.
func (h *Histogram) Count() int64 { return h.n }

// Quantile returns the nearest-rank q-quantile (0 < q <= 1): the smallest
// recorded value v with at least ceil(q·n) values <= v, to the bucket's
// precision (see Histogram). It returns -1 when nothing was recorded.
func (h *Histogram) Quantile(q float64) int64 {
	if h.n == 0 {
		return -1
	}
	rank := int64(q * float64(h.n))
	if float64(rank) < q*float64(h.n) {
		rank++
	}
	if rank < 1 {
		rank = 1
	}
	var seen int64
	for b, c := range h.counts {
		seen += c
		if seen >= rank {
			return bucketLow(b)
		}
	}
	return bucketLow(histBuckets - 1)
}

// Merge adds the counts of o to h.
func (h *Histogram) Merge(o *Histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
}
