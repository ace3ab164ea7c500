package httpapi

import (
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ossd/ossd/internal/oss"
)

// This file holds a reference model of how OSS answers Range and
// conditional headers, written apart from the handler code (a grammar
// scanner, a decision table) so that the fuzz targets below compare two
// implementations instead of one with itself. The model is exported to
// the external test package (serve_fuzz_test.go), which checks a real
// server against it.
//
// Range (RFC 9110 §14, as OSS documents it for a 1000-byte object):
//   - one range only; a list, a unit other than "bytes" (compared without
//     case, RFC 9110 §14.1), non-digits, or last < first: the header is
//     ignored, 200 with the whole object;
//   - default behaviour: a range that reaches past the object (first >=
//     size, last >= size, a suffix longer than the object or of length 0)
//     is also ignored: 200 with the whole object, never 416;
//   - "x-oss-range-behavior: standard", and every S3 request: last is
//     clipped to size-1, a suffix longer than the object selects all of it,
//     first >= size or a zero suffix is 416 InvalidRange. An empty object
//     has no satisfiable range: 416.
//
// Whitespace (SP, HTAB) is allowed around the value and around each
// number, as nginx (OSS's front end) reads it.
//
// Conditions (RFC 9110 §13.2.2): If-Match, else If-Unmodified-Since; then
// If-None-Match, else If-Modified-Since. A failed If-None-Match or
// If-Modified-Since is 304 on GET/HEAD and 412 for the copy-source forms;
// every other failure is 412. If-Match compares strongly (a W/ tag never
// matches), If-None-Match weakly. ETags compare without case (S3 clients
// see them lower-case) and with or without their quotes (OSS and S3
// accept both). Dates that are not HTTP-dates are ignored, and Last-Modified
// counts in whole seconds.

// RangeAnswer is the model's answer to a Range header.
type RangeAnswer struct {
	Status int   // 200, 206 or 416
	Off, N int64 // the bytes served: [Off, Off+N); 0, size for 200
}

// ModelRange answers a Range header h on an object of size bytes.
// standard is true for "x-oss-range-behavior: standard" and for S3.
func ModelRange(h string, size int64, standard bool) RangeAnswer {
	whole := RangeAnswer{Status: http.StatusOK, N: size}
	sc := scanner{s: h}
	sc.ows()
	if !sc.word("bytes") || !sc.lit('=') {
		return whole
	}
	sc.ows()
	first, hasFirst := sc.number()
	sc.ows()
	if !sc.lit('-') {
		return whole
	}
	sc.ows()
	last, hasLast := sc.number()
	sc.ows()
	if !sc.done() || (!hasFirst && !hasLast) {
		return whole // trailing bytes (a list, garbage) or "bytes=-"
	}
	if hasFirst && hasLast && last.less(first) {
		return whole // invalid range-spec: ignored
	}
	refuse := whole
	if standard {
		refuse = RangeAnswer{Status: http.StatusRequestedRangeNotSatisfiable}
	}
	if !hasFirst { // suffix
		switch {
		case last.isZero() || size == 0:
			return refuse
		case last.huge || last.v > size:
			if !standard {
				return whole
			}
			return RangeAnswer{Status: http.StatusPartialContent, Off: 0, N: size}
		}
		return RangeAnswer{Status: http.StatusPartialContent, Off: size - last.v, N: last.v}
	}
	if !first.below(size) {
		return refuse
	}
	end := size - 1
	if hasLast {
		if last.below(size) {
			end = last.v
		} else if !standard {
			return whole
		}
	}
	return RangeAnswer{Status: http.StatusPartialContent, Off: first.v, N: end - first.v + 1}
}

// num is a decimal that may exceed int64: only its comparison with sizes
// matters, and a huge value is simply larger than every size.
type num struct {
	v    int64
	huge bool
}

// less says n < m.
func (n num) less(m num) bool {
	if n.huge || m.huge {
		return !n.huge && m.huge
	}
	return n.v < m.v
}

// below says n < size.
func (n num) below(size int64) bool { return !n.huge && n.v < size }
func (n num) isZero() bool          { return !n.huge && n.v == 0 }

// scanner reads a header value left to right.
type scanner struct {
	s string
	i int
}

func (sc *scanner) ows() {
	for sc.i < len(sc.s) && (sc.s[sc.i] == ' ' || sc.s[sc.i] == '\t') {
		sc.i++
	}
}

func (sc *scanner) lit(c byte) bool {
	if sc.i < len(sc.s) && sc.s[sc.i] == c {
		sc.i++
		return true
	}
	return false
}

func (sc *scanner) word(w string) bool {
	if len(sc.s)-sc.i < len(w) {
		return false
	}
	for j := 0; j < len(w); j++ {
		c := sc.s[sc.i+j]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != w[j] {
			return false
		}
	}
	sc.i += len(w)
	return true
}

// number reads 1*DIGIT.
func (sc *scanner) number() (num, bool) {
	var n num
	start := sc.i
	for sc.i < len(sc.s) && '0' <= sc.s[sc.i] && sc.s[sc.i] <= '9' {
		d := int64(sc.s[sc.i] - '0')
		if !n.huge && n.v > (math.MaxInt64-d)/10 {
			n.huge = true
		}
		if !n.huge {
			n.v = n.v*10 + d
		}
		sc.i++
	}
	return n, sc.i > start
}

func (sc *scanner) done() bool { return sc.i == len(sc.s) }

// ConditionHeaders are the four conditional headers of a request (the
// copy-source forms carry the same values under other names).
type ConditionHeaders struct {
	IfMatch, IfNoneMatch, IfModifiedSince, IfUnmodifiedSince string
}

// ModelConditions answers conditional headers against an object with
// etag (hex, any case) last modified at mod: 0 (proceed), 304 or 412.
// copySource selects the x-oss-copy-source-if-* semantics.
func ModelConditions(c ConditionHeaders, etag string, mod time.Time, copySource bool) int {
	sec := mod.Unix() // Last-Modified has whole seconds; Unix() floors
	notModified := http.StatusNotModified
	if copySource {
		notModified = http.StatusPreconditionFailed
	}
	// Step 1 and 2 (RFC 9110 §13.2.2): If-Match, else If-Unmodified-Since.
	if c.IfMatch != "" {
		if !listMatches(c.IfMatch, etag, false) {
			return http.StatusPreconditionFailed
		}
	} else if t, ok := httpDate(c.IfUnmodifiedSince); ok && sec > t {
		return http.StatusPreconditionFailed
	}
	// Steps 3 and 4: If-None-Match, else If-Modified-Since.
	if c.IfNoneMatch != "" {
		if listMatches(c.IfNoneMatch, etag, true) {
			return notModified
		}
	} else if t, ok := httpDate(c.IfModifiedSince); ok && sec <= t {
		return notModified
	}
	return 0
}

// listMatches says whether a comma-separated entity-tag list holds etag.
// weak selects If-None-Match's weak comparison (W/"x" matches "x").
func listMatches(list, etag string, weak bool) bool {
	for _, el := range strings.Split(list, ",") {
		el = strings.Trim(el, " \t")
		if el == "*" {
			return true
		}
		if rest, ok := strings.CutPrefix(el, "W/"); ok {
			if !weak {
				continue
			}
			el = rest
		}
		for len(el) > 0 && el[0] == '"' {
			el = el[1:]
		}
		for len(el) > 0 && el[len(el)-1] == '"' {
			el = el[:len(el)-1]
		}
		if el != "" && strings.EqualFold(el, etag) {
			return true
		}
	}
	return false
}

// httpDate parses the three HTTP-date forms (RFC 9110 §5.6.7) and returns
// Unix seconds, floored.
func httpDate(s string) (int64, bool) {
	for _, layout := range []string{"Mon, 02 Jan 2006 15:04:05 GMT", "Monday, 02-Jan-06 15:04:05 MST", "Mon Jan _2 15:04:05 2006"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.Unix(), true
		}
	}
	return 0, false
}

// ExpandCondition replaces placeholders in a fuzzed condition value so
// that the fuzzer can reach the interesting cases (a matching tag, a date
// at Last-Modified) it could not guess: $E and $e are the ETag in upper
// and lower case, $T, $T- and $T+ are Last-Modified, one second before and
// one second after, as HTTP-dates.
func ExpandCondition(s, etag string, mod time.Time) string {
	if !strings.Contains(s, "$") {
		return s
	}
	f := func(d time.Duration) string { return mod.Add(d).UTC().Format(http.TimeFormat) }
	return strings.NewReplacer("$E", strings.ToUpper(etag), "$e", strings.ToLower(etag),
		"$T-", f(-time.Second), "$T+", f(time.Second), "$T", f(0)).Replace(s)
}

// FuzzParseRange checks parseRange against ModelRange on any header and
// size, and its own invariants: a served range is non-empty and inside
// the object; only standard behaviour ever refuses (416); an ignored
// header serves the whole object; and the range a 206 reports in
// Content-Range, sent back as a Range header, selects the same bytes.
func FuzzParseRange(f *testing.F) {
	for _, s := range []struct {
		h    string
		size int64
	}{
		{"bytes=0-499", 1000}, {"bytes=500-999", 1000}, {"bytes=-500", 1000}, {"bytes=500-", 1000}, {"bytes=0-", 1000},
		{"byte=0-499", 1000}, {"bytes=0-1000", 1000}, {"bytes=500-2000", 1000}, {"bytes=1000-2000", 1000},
		{"bytes=1000-", 1000}, {"bytes=-2000", 1000}, {"bytes=-0", 1000}, {"bytes=0-499,500-999", 1000},
		{"bytes=5-2", 10}, {"bytes=x-y", 10}, {"bytes=-", 10}, {"bytes=0-0", 0}, {"bytes=-5", 0}, {"bytes=0-", 0},
		{" Bytes = 1 - 2 ", 10}, {"bytes=+1-2", 10}, {"bytes=1-+2", 10}, {"bytes=1--2", 10}, {"bytes=\v1-2", 10},
		{"bytes=0-99999999999999999999", 10}, {"bytes=99999999999999999999-", 10}, {"bytes=-99999999999999999999", 10},
		{"bytes=9223372036854775805-", math.MaxInt64 - 1}, {"bytes=-9223372036854775806", math.MaxInt64 - 1}, {"", 10},
	} {
		f.Add(s.h, s.size, false)
		f.Add(s.h, s.size, true)
	}
	f.Fuzz(func(t *testing.T, h string, size int64, standard bool) {
		// Sizes below MaxInt64 (no object is 2^63-1 bytes), where
		// parseRange's saturation of long numbers compares exactly.
		if size < 0 {
			size = -(size + 1)
		}
		size %= math.MaxInt64
		off, n, ok, err := parseRange(h, size, standard)
		var got RangeAnswer
		switch {
		case err != nil:
			if !errors.Is(err, oss.ErrInvalidRange) {
				t.Fatalf("parseRange(%q, %d, %v): error %v, want InvalidRange", h, size, standard, err)
			}
			if !standard {
				t.Fatalf("parseRange(%q, %d): 416 without x-oss-range-behavior: standard", h, size)
			}
			got = RangeAnswer{Status: http.StatusRequestedRangeNotSatisfiable}
		case ok:
			if off < 0 || n < 1 || off > size-n {
				t.Fatalf("parseRange(%q, %d, %v) = [%d, +%d): outside the object or empty", h, size, standard, off, n)
			}
			got = RangeAnswer{Status: http.StatusPartialContent, Off: off, N: n}
			back := "bytes=" + strconv.FormatInt(off, 10) + "-" + strconv.FormatInt(off+n-1, 10)
			for _, std := range []bool{false, true} {
				if o2, n2, ok2, err2 := parseRange(back, size, std); !ok2 || err2 != nil || o2 != off || n2 != n {
					t.Fatalf("Content-Range of %q (%s) read back as a Range = %d %d %v %v", h, back, o2, n2, ok2, err2)
				}
			}
		default:
			if off != 0 || n != size {
				t.Fatalf("parseRange(%q, %d, %v): ignored but serves [%d, +%d)", h, size, standard, off, n)
			}
			got = RangeAnswer{Status: http.StatusOK, N: size}
		}
		if want := ModelRange(h, size, standard); got != want {
			t.Fatalf("parseRange(%q, %d, standard=%v) = %+v, model %+v", h, size, standard, got, want)
		}
	})
}

// FuzzConditions checks checkConditions against ModelConditions for GET
// (304 allowed) and for the copy-source forms (every failure is 412), with
// ETags in either case and modification times with sub-second parts.
func FuzzConditions(f *testing.F) {
	for _, s := range [][4]string{
		{`"$E"`, "", "", ""}, {`"0000"`, "", "", ""}, {"*", "", "", ""}, {`W/"$E"`, "", "", ""}, {"$e", "", "", ""},
		{"", `"$E"`, "", ""}, {"", `W/"$e"`, "", ""}, {"", `"a", "$E"`, "", ""}, {"", "*", "", ""},
		{"", "", "$T", ""}, {"", "", "$T-", ""}, {"", "", "$T+", ""}, {"", "", "", "$T"}, {"", "", "", "$T-"},
		{`"$E"`, "", "", "$T-"}, {`"x"`, "", "", "$T+"}, {"", `"x"`, "$T+", ""}, {"", `"$E"`, "$T-", ""},
		{"", "", "Sunday, 06-Nov-94 08:49:37 GMT", ""}, {"", "", "Sun Nov  6 08:49:37 1994", ""}, {"", "", "yesterday", "not a date"},
		{"", "", "Mon, 02 Jan 2006 15:04:05.999 GMT", ""}, {`"$E`, "\v\"$E\"", "", ""},
	} {
		f.Add(s[0], s[1], s[2], s[3], int64(1700000000), uint32(500_000_000), false, false)
		f.Add(s[0], s[1], s[2], s[3], int64(1700000000), uint32(0), true, true)
	}
	f.Fuzz(func(t *testing.T, im, inm, ims, ius string, sec int64, nsec uint32, copySource, lower bool) {
		mod := time.Unix(sec%(1<<40), int64(nsec%1e9)).UTC()
		etag := "5EB63BBBE01EEED093CB22BB8F5ACDC3"
		if lower {
			etag = strings.ToLower(etag) // as the S3 dialect stores and compares them
		}
		c := ConditionHeaders{ExpandCondition(im, etag, mod), ExpandCondition(inm, etag, mod),
			ExpandCondition(ims, etag, mod), ExpandCondition(ius, etag, mod)}
		prefix := ""
		if copySource {
			prefix = "x-oss-copy-source-"
		}
		hdr := http.Header{}
		for name, v := range map[string]string{"If-Match": c.IfMatch, "If-None-Match": c.IfNoneMatch,
			"If-Modified-Since": c.IfModifiedSince, "If-Unmodified-Since": c.IfUnmodifiedSince} {
			if v != "" {
				hdr.Set(prefix+name, v)
			}
		}
		err := checkConditions(hdr, etag, mod, prefix)
		got := 0
		switch {
		case err == nil:
		case errors.Is(err, oss.ErrNotModified):
			got = http.StatusNotModified
		case errors.Is(err, oss.ErrPreconditionFailed):
			got = http.StatusPreconditionFailed
		default:
			t.Fatalf("checkConditions: unexpected error %v", err)
		}
		if want := ModelConditions(c, etag, mod, copySource); got != want {
			t.Fatalf("checkConditions(%+v, %s, %s, copy=%v) = %d, model %d", c, etag, mod.Format(time.RFC3339Nano), copySource, got, want)
		}
	})
}
