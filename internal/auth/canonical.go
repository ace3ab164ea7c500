package auth

import (
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// param is one query parameter in the order received. key and val are
// decoded ('+' is a space, as both SDKs encode a space as %20 and net/url
// decodes '+'); encKey and encVal are the canonical RFC 3986 forms V4 signs.
type param struct {
	key, val       string
	encKey, encVal string
}

// parseQuery splits a raw query on '&' only (Go's rule since 1.17; OSS
// never uses ';'). A segment whose escapes are invalid keeps its raw bytes:
// that is what V2SDK, which signs RawQuery verbatim, would have signed.
func parseQuery(raw string) []param {
	var ps []param
	for raw != "" {
		var seg string
		seg, raw, _ = strings.Cut(raw, "&")
		if seg == "" {
			continue
		}
		k, v, _ := strings.Cut(seg, "=")
		var p param
		p.key, p.encKey = decodeQueryPart(k)
		p.val, p.encVal = decodeQueryPart(v)
		ps = append(ps, p)
	}
	return ps
}

func decodeQueryPart(raw string) (decoded, canonical string) {
	d, err := url.QueryUnescape(raw)
	if err != nil {
		return raw, strings.ReplaceAll(raw, "+", "%20")
	}
	return d, escape(d, true)
}

// first returns the first value of a decoded query key, as V2SDK's
// url.Values.Get does.
func first(q []param, key string) (string, bool) {
	for _, p := range q {
		if p.key == key {
			return p.val, true
		}
	}
	return "", false
}

func has(q []param, key string) bool {
	_, ok := first(q, key)
	return ok
}

func count(q []param, key string) int {
	n := 0
	for _, p := range q {
		if p.key == key {
			n++
		}
	}
	return n
}

// escape percent-encodes everything outside RFC 3986's unreserved set with
// upper-case hex, keeping '/' when encodeSlash is false: V2SDK's
// escapePath, and url.QueryEscape with %20 for space (V1SDK, and V2SDK's
// query encoding).
func escape(s string, encodeSlash bool) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) || (c == '/' && !encodeSlash) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// resourcePath is "/bucket/key", "/bucket/" or "/" as both SDKs build it
// for V1's CanonicalizedResource and, escaped, V4's CanonicalURI. The
// bucket is included even for virtual-hosted requests.
func resourcePath(bucket, key string) string {
	p := "/"
	if bucket != "" {
		p += bucket + "/"
	}
	return p + key
}

// headerLine is one canonical header: lower-case name and its value.
type headerLine struct{ name, value string }

// canonicalHeaders collects the headers include selects, sorted by
// lower-case name, each value trimmed. Multiple values of one header are
// joined with ',' as V2SDK does; with firstOnly, only the first is kept, as
// V1SDK does (it reads v[0]). Names that differ only in case merge in the
// order of their original spelling, so the result is deterministic.
func canonicalHeaders(h http.Header, include func(lower string) bool, firstOnly bool) []headerLine {
	names := make([]string, 0, len(h))
	for k := range h {
		if include(strings.ToLower(k)) {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	byName := map[string][]string{}
	var order []string
	for _, k := range names {
		low := strings.ToLower(k)
		if _, seen := byName[low]; !seen {
			order = append(order, low)
			byName[low] = nil
		}
		for _, v := range h[k] {
			byName[low] = append(byName[low], strings.TrimSpace(v))
		}
	}
	sort.Strings(order)
	lines := make([]headerLine, 0, len(order))
	for _, low := range order {
		vs := byName[low]
		if firstOnly && len(vs) > 1 {
			vs = vs[:1]
		}
		lines = append(lines, headerLine{low, strings.Join(vs, ",")})
	}
	return lines
}

// hvalues returns every value of a header, matching its name
// case-insensitively. net/http hands over canonical keys, but a map built
// by a caller may not be canonical, and the fixed lines (Content-MD5,
// Date...) must read the same values canonicalHeaders sees, or a signed
// header could be silently skipped.
func hvalues(h http.Header, name string) []string {
	var keys []string
	for k := range h {
		if strings.EqualFold(k, name) {
			keys = append(keys, k)
		}
	}
	if len(keys) == 1 {
		return h[keys[0]]
	}
	sort.Strings(keys)
	var vs []string
	for _, k := range keys {
		vs = append(vs, h[k]...)
	}
	return vs
}

// hget is hvalues' first value, like http.Header.Get.
func hget(h http.Header, name string) string {
	if vs := hvalues(h, name); len(vs) > 0 {
		return vs[0]
	}
	return ""
}

// multiValued reports whether any selected header carries more than one
// value: only then do the V1SDK and V2SDK canonical forms differ.
func multiValued(h http.Header, include func(lower string) bool) bool {
	n := map[string]int{}
	for k, vs := range h {
		low := strings.ToLower(k)
		if include(low) {
			n[low] += len(vs)
			if n[low] > 1 {
				return true
			}
		}
	}
	return false
}

// isOSSHeader is the prefix rule both versions sign by default.
func isOSSHeader(lower string) bool { return strings.HasPrefix(lower, "x-oss-") }

// Time formats on the wire and in error bodies.
const (
	iso8601Basic = "20060102T150405Z" // V4 x-oss-date
	dateOnly     = "20060102"         // V4 credential scope
	errorTime    = "2006-01-02T15:04:05.000Z"
)

// isoTime formats a time the way OSS error bodies do (Expires, ServerTime).
func isoTime(t time.Time) string { return t.UTC().Format(errorTime) }

// parseHTTPDate accepts what a Date header may carry (RFC 1123 and the two
// obsolete forms net/http also accepts).
func parseHTTPDate(s string) (time.Time, bool) {
	t, err := http.ParseTime(s)
	return t, err == nil
}

func parseISO8601(s string) (time.Time, bool) {
	t, err := time.Parse(iso8601Basic, s)
	return t, err == nil
}

// subResources are the query keys V1 signs besides any "x-oss-*" key: the
// union of V1SDK's signKeyList (oss/conn.go), V2SDK's fixed list
// (oss/signer/v1.go) and the per-operation lists V2SDK passes as
// SubResource, which include the logging APIs. A key in this set that some
// SDK sends unsigned would break that SDK, so keys either SDK sends
// unsigned are left out: "regions" (DescribeRegions), "encoding-type",
// "list-type", "accessmonitor", "rule-id", "agenticBucket".
var subResources = func() map[string]bool {
	m := map[string]bool{}
	for _, k := range strings.Fields(`
		acl bucketInfo location stat delete append tagging objectMeta uploads uploadId
		partNumber security-token position response-content-type response-content-language
		response-expires response-cache-control response-content-disposition
		response-content-encoding restore callback callback-var versions versioning versionId
		sequential continuation-token regionList cloudboxes symlink

		cors logging website referer lifecycle img style styleName replication
		replicationProgress replicationLocation cname comp qos live status vod startTime
		endTime udf udfName udfImage udfId udfImageDesc udfApplication udfApplicationLog
		qosInfo policy encryption requestPayment inventory inventoryId asyncFetch worm wormId
		wormExtend withHashContext transferAcceleration metaQuery resourceGroup rtc
		responseHeader

		userDefinedLogFieldsConfig accessPoint accessPointConfigForObjectProcess
		accessPointForObjectProcess accessPointPolicy accessPointPolicyForObjectProcess
		bucketArchiveDirectRead cleanRestoredObject httpsConfig legalHold
		metadataConfiguration metadataInventoryTable metadataJournalTable objectWorm
		overwriteConfig policyStatus publicAccessBlock quota redundancyTransition retention
		seal`) {
		m[k] = true
	}
	return m
}()

func isSubResource(key string) bool { return subResources[key] || isOSSHeader(key) }
