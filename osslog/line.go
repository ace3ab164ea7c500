// Package osslog reads and writes the lines of Alibaba Cloud OSS access logs:
// the format OSS writes into the log objects of bucket logging ("log
// storage"), one request per line, 28 space-separated fields in a fixed order.
//
// A line looks like this (one line, wrapped here):
//
//	192.168.0.1 - - [03/Jan/2021:14:59:49 +0800] "GET /example.jpg HTTP/1.0" 200 999131 127
//	"http://www.aliyun.com/product/oss" "curl/7.15.5" "examplebucket.oss-cn-hangzhou.aliyuncs.com"
//	"5FF16B65F05BC932307A3C3C" "true" "16571836914537****" "GetObject" "examplebucket"
//	"example.jpg" 999131 88 "-" 302 "16571836914537****" - "cdn" "standard" "-" "-"
//	"LTAI4FrfJPUSoKm4JHb5****"
//
// # Encoding rules
//
// Fields are separated by exactly one space. remote_ip, the two reserved
// fields, time, http_status, sent_bytes, request_time, object_size,
// server_cost_time, request_length and delta_data_size are written bare;
// every other field is written in double quotes. An absent value is "-" (bare
// or quoted, by the field's kind). Consequently the string "-" and the empty
// string are the same value: both are written as - and both read back as "".
//
// The object key is URL-encoded as RFC 3986 does for a path segment: bytes
// outside the unreserved set A-Z a-z 0-9 - . _ ~ are written as %XX with
// upper-case hex, "/" included (a/b.txt is written a%2Fb.txt). So a key
// never contains a space, a quote or a backslash in the line.
//
// Any other string value is written as is, except bytes that would break the
// line or its reader: '"', '\\', control bytes (0x00-0x1F, 0x7F) and bytes
// that are not part of valid UTF-8 are written nginx-style as \xHH
// (upper-case hex); in bare fields a space is written \x20 as well. Valid
// multi-byte UTF-8 is kept.
//
// # Reading
//
// [Parse] inverts [Line.Append] and is tolerant where OSS might be: extra
// trailing fields (OSS reserves the right to append fields) are kept in
// [Line.Extra]; a quoted field may be given bare and a bare one quoted; a
// backslash that does not start \xHH, and a quote that does not end a field,
// are taken literally; a '%' that does not start %XX in a key is taken
// literally. Whatever Parse accepts, [Line.Append] writes in the canonical
// form above, so parse → append → parse is a fixed point.
package osslog

import (
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// Absent is the value of a numeric field (other than DeltaDataSize) that is
// written as "-". Append writes any negative value as "-"; Parse returns
// Absent for "-".
const Absent = -1

// AbsentDelta is the value of DeltaDataSize that is written as "-". The delta
// is signed (an overwrite with a smaller object or a delete shrinks the
// bucket), so it needs a sentinel of its own.
const AbsentDelta = math.MinInt64

// NumFields is the number of fields of the current OSS line format; fields
// after these are kept in [Line.Extra].
const NumFields = 28

// Line is one access-log line: the 28 documented fields in line order, then
// any fields OSS appends after them. The zero value is not a useful line:
// numeric fields should be set to Absent (or AbsentDelta) when unknown.
//
// String fields hold the plain value (the key decoded, escapes undone); ""
// stands for "-".
type Line struct {
	// RemoteIP (remote_ip, 1) is the client address as OSS saw it: the
	// client, or a proxy or firewall in front of it. Written bare.
	RemoteIP string
	// Reserved1 and Reserved2 (2, 3) are reserved by OSS and always "-";
	// they are kept so that a parsed line re-encodes as it was read.
	Reserved1, Reserved2 string
	// Time (time, 4) is when OSS received the request, written to the
	// second in Time's own location as [02/Jan/2006:15:04:05 -0700]. The
	// zero Time (or a time in its second), and a time outside the years
	// 0000-9999, is written "-"; a
	// location whose offset is not whole minutes below 24 hours is replaced
	// by UTC (the instant is kept). Parse returns a time in a fixed zone
	// with the line's offset (time.UTC for +0000).
	Time time.Time
	// RequestURI (request_uri, 5) is the request line: method, URI with
	// query string, protocol, e.g. "GET /example.jpg HTTP/1.0".
	RequestURI string
	// HTTPStatus (http_status, 6) is the status code OSS returned.
	HTTPStatus int
	// SentBytes (sent_bytes, 7) is the number of bytes OSS sent (the
	// downstream traffic of the request).
	SentBytes int64
	// RequestTime (request_time, 8) is the total time the request took, in
	// milliseconds.
	RequestTime int64
	// Referer (referer, 9) is the request's Referer header.
	Referer string
	// UserAgent (user_agent, 10) is the request's User-Agent header.
	UserAgent string
	// Host (host, 11) is the domain the request addressed (its Host header).
	Host string
	// RequestID (request_id, 12) is the x-oss-request-id of the response.
	RequestID string
	// LoggingFlag (logging_flag, 13) is "true" when log storage was enabled
	// on the bucket at the time of the request, else "false".
	LoggingFlag string
	// RequesterID (requester_aliyun_id, 14) is the requester's user ID
	// (a RAM user's ID for RAM users); "" for an anonymous request.
	RequesterID string
	// Operation (operation, 15) is the API action, e.g. "GetObject".
	Operation string
	// Bucket (bucket, 16) is the bucket the request addressed.
	Bucket string
	// Key (key, 17) is the object key, decoded; it is URL-encoded in the line.
	Key string
	// ObjectSize (object_size, 18) is the size of the object, in bytes.
	ObjectSize int64
	// ServerCostTime (server_cost_time, 19) is the time OSS spent serving
	// the request, in milliseconds.
	ServerCostTime int64
	// ErrorCode (error_code, 20) is the OSS error code returned, e.g.
	// "NoSuchKey"; "" on success.
	ErrorCode string
	// RequestLength (request_length, 21) is the size of the request,
	// headers included, in bytes.
	RequestLength int64
	// UserID (user_id, 22) is the ID of the bucket owner.
	UserID string
	// DeltaDataSize (delta_data_size, 23) is the change of the object's
	// (bucket's) size caused by the request, in bytes; AbsentDelta when
	// nothing changed or the request is not a write.
	DeltaDataSize int64
	// SyncRequest (sync_request, 24) is "cdn" for a CDN back-to-origin
	// request, else "".
	SyncRequest string
	// StorageClass (storage_class, 25) is the object's storage class, e.g.
	// "standard"; "" for bucket-level requests.
	StorageClass string
	// TargetStorageClass (target_storage_class, 26) is the storage class an
	// object is moved to (lifecycle transition, CopyObject), else "".
	TargetStorageClass string
	// AccessPoint (transmission_acceleration_access_point, 27) is the
	// transfer-acceleration access region (e.g. "us-east-1"), else "".
	AccessPoint string
	// AccessKeyID (accesskey_id, 28) is the AccessKey ID that signed the
	// request; "" for anonymous requests.
	AccessKeyID string
	// Extra holds fields after the 28th, in order and decoded. Append
	// writes each quoted, so a bare trailing field gains quotes when a
	// parsed line is written again.
	Extra []string
}

// fieldNames are the documented names of the 28 fields, for error messages.
var fieldNames = [NumFields]string{
	"remote_ip", "reserved", "reserved", "time", "request_uri", "http_status",
	"sent_bytes", "request_time", "referer", "user_agent", "host", "request_id",
	"logging_flag", "requester_aliyun_id", "operation", "bucket", "key",
	"object_size", "server_cost_time", "error_code", "request_length", "user_id",
	"delta_data_size", "sync_request", "storage_class", "target_storage_class",
	"transmission_acceleration_access_point", "accesskey_id",
}

// FieldName returns the documented name of field i (1-based), or "" when i
// is out of range.
func FieldName(i int) string {
	if i < 1 || i > NumFields {
		return ""
	}
	return fieldNames[i-1]
}

// Append appends the line, encoded as OSS writes it, to dst and returns the
// extended buffer. It writes no trailing newline. It does not allocate when
// dst has room for the line.
func (l *Line) Append(dst []byte) []byte {
	dst = appendBare(dst, l.RemoteIP)
	dst = append(dst, ' ')
	dst = appendBare(dst, l.Reserved1)
	dst = append(dst, ' ')
	dst = appendBare(dst, l.Reserved2)
	dst = append(dst, ' ')
	dst = appendTime(dst, l.Time)
	dst = append(dst, ' ')
	dst = appendQuoted(dst, l.RequestURI)
	dst = append(dst, ' ')
	dst = appendNum(dst, int64(l.HTTPStatus))
	dst = append(dst, ' ')
	dst = appendNum(dst, l.SentBytes)
	dst = append(dst, ' ')
	dst = appendNum(dst, l.RequestTime)
	dst = append(dst, ' ')
	dst = appendQuoted(dst, l.Referer)
	dst = append(dst, ' ')
	dst = appendQuoted(dst, l.UserAgent)
	dst = append(dst, ' ')
	dst = appendQuoted(dst, l.Host)
	dst = append(dst, ' ')
	dst = appendQuoted(dst, l.RequestID)
	dst = append(dst, ' ')
	dst = appendQuoted(dst, l.LoggingFlag)
	dst = append(dst, ' ')
	dst = appendQuoted(dst, l.RequesterID)
	dst = append(dst, ' ')
	dst = appendQuoted(dst, l.Operation)
	dst = append(dst, ' ')
	dst = appendQuoted(dst, l.Bucket)
	dst = append(dst, ' ')
	dst = appendKey(dst, l.Key)
	dst = append(dst, ' ')
	dst = appendNum(dst, l.ObjectSize)
	dst = append(dst, ' ')
	dst = appendNum(dst, l.ServerCostTime)
	dst = append(dst, ' ')
	dst = appendQuoted(dst, l.ErrorCode)
	dst = append(dst, ' ')
	dst = appendNum(dst, l.RequestLength)
	dst = append(dst, ' ')
	dst = appendQuoted(dst, l.UserID)
	dst = append(dst, ' ')
	if l.DeltaDataSize == AbsentDelta {
		dst = append(dst, '-')
	} else {
		dst = strconv.AppendInt(dst, l.DeltaDataSize, 10)
	}
	dst = append(dst, ' ')
	dst = appendQuoted(dst, l.SyncRequest)
	dst = append(dst, ' ')
	dst = appendQuoted(dst, l.StorageClass)
	dst = append(dst, ' ')
	dst = appendQuoted(dst, l.TargetStorageClass)
	dst = append(dst, ' ')
	dst = appendQuoted(dst, l.AccessPoint)
	dst = append(dst, ' ')
	dst = appendQuoted(dst, l.AccessKeyID)
	for _, e := range l.Extra {
		dst = append(dst, ' ')
		dst = appendQuoted(dst, e)
	}
	return dst
}

// String returns the encoded line, without a newline.
func (l *Line) String() string { return string(l.Append(nil)) }

const hexUpper = "0123456789ABCDEF"

// escQuoted marks the bytes that need a look inside quotes: ASCII bytes
// written as \xHH, and all bytes >= 0x80 (escaped unless valid UTF-8);
// escBare adds the space for bare fields.
var escQuoted, escBare [256]bool

// keyPlain marks the bytes a key keeps unencoded (RFC 3986 unreserved).
var keyPlain [256]bool

func init() {
	for c := 0; c < 0x20; c++ {
		escQuoted[c] = true
	}
	for c := 0x7F; c < 256; c++ {
		escQuoted[c] = true
	}
	escQuoted['"'] = true
	escQuoted['\\'] = true
	escBare = escQuoted
	escBare[' '] = true
	for c := 0; c < 256; c++ {
		b := byte(c)
		keyPlain[c] = 'A' <= b && b <= 'Z' || 'a' <= b && b <= 'z' || '0' <= b && b <= '9' ||
			b == '-' || b == '.' || b == '_' || b == '~'
	}
}

func appendQuoted(dst []byte, s string) []byte {
	dst = append(dst, '"')
	dst = appendEscaped(dst, s, &escQuoted)
	return append(dst, '"')
}

func appendBare(dst []byte, s string) []byte {
	return appendEscaped(dst, s, &escBare)
}

// appendEscaped writes s, or "-" when s is empty, escaping the ASCII bytes
// marked in esc and every byte of invalid UTF-8. esc also marks all bytes
// >= 0x80, so that the common all-plain-ASCII value takes one tight loop.
func appendEscaped(dst []byte, s string, esc *[256]bool) []byte {
	if s == "" {
		return append(dst, '-')
	}
	i := 0
	for i < len(s) && !esc[s[i]] {
		i++
	}
	if i == len(s) {
		return append(dst, s...)
	}
	dst = append(dst, s[:i]...)
	start := i
	for i < len(s) {
		c := s[i]
		if !esc[c] {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			if _, size := utf8.DecodeRuneInString(s[i:]); size > 1 {
				i += size
				continue
			}
		}
		dst = append(dst, s[start:i]...)
		dst = append(dst, '\\', 'x', hexUpper[c>>4], hexUpper[c&15])
		i++
		start = i
	}
	return append(dst, s[start:]...)
}

func appendKey(dst []byte, s string) []byte {
	dst = append(dst, '"')
	if s == "" {
		dst = append(dst, '-')
	}
	start := 0
	for i := 0; i < len(s); i++ {
		if c := s[i]; !keyPlain[c] {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '%', hexUpper[c>>4], hexUpper[c&15])
			start = i + 1
		}
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

func appendNum(dst []byte, n int64) []byte {
	if n < 0 {
		return append(dst, '-')
	}
	return strconv.AppendInt(dst, n, 10)
}

// zeroUnix is time.Time{}.Unix(): the second Line writes as "-".
const zeroUnix = -62135596800

var monthNames = [12]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// appendTime writes [02/Jan/2006:15:04:05 -0700] by hand: it is the hot part
// of Append, and time.AppendFormat is several times slower.
func appendTime(dst []byte, t time.Time) []byte {
	if t.Unix() == zeroUnix { // the zero time, or within its second
		return append(dst, '-')
	}
	_, off := t.Zone()
	if off%60 != 0 || off <= -24*3600 || off >= 24*3600 {
		t, off = t.UTC(), 0
	}
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return append(dst, '-')
	}
	hour, min, sec := t.Clock()
	dst = append(dst, '[')
	dst = append2(dst, day)
	dst = append(dst, '/')
	dst = append(dst, monthNames[month-1]...)
	dst = append(dst, '/')
	dst = append2(dst, year/100)
	dst = append2(dst, year%100)
	dst = append(dst, ':')
	dst = append2(dst, hour)
	dst = append(dst, ':')
	dst = append2(dst, min)
	dst = append(dst, ':')
	dst = append2(dst, sec)
	if off < 0 {
		dst = append(dst, ' ', '-')
		off = -off
	} else {
		dst = append(dst, ' ', '+')
	}
	dst = append2(dst, off/3600)
	dst = append2(dst, off%3600/60)
	return append(dst, ']')
}

func append2(dst []byte, n int) []byte {
	return append(dst, byte('0'+n/10), byte('0'+n%10))
}
