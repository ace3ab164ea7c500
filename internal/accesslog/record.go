package accesslog

import (
	"encoding/binary"
	"errors"
	"math"
	"time"

	"github.com/ossd/ossd/osslog"
)

// Record is one request's access-log record: the OSS line plus what
// delivery needs to route it. The HTTP layer fills it; Append copies what it
// needs before returning, so the caller may reuse r afterwards.
type Record struct {
	osslog.Line // the 28 fields of the OSS line (and any extra ones)

	// SourceBucket is the bucket the request addressed: the log object is
	// named after it.
	SourceBucket string
	// TargetBucket and TargetPrefix are the bucket's logging configuration
	// captured when the request was served. Delivery uses these, not the
	// configuration current at delivery time, so disabling or changing
	// logging never drops or re-routes records already appended.
	TargetBucket, TargetPrefix string
	// UserDefined is the base64 user_defined_log_fields value. It is kept in
	// the journal and shown to subscribers (the real-time view) but never
	// written into the delivered line.
	UserDefined string
}

// The journal payload of a record, version 1 (all integers little-endian):
//
//	u8      version (1)
//	u64     record ID
//	str     TargetBucket   ┐ the "stream key": these three, length-prefixed,
//	str     TargetPrefix   │ are compared as raw bytes to route a record
//	str     SourceBucket   ┘ without decoding the rest
//	varint  Time, Unix seconds
//	uvarint Time, nanoseconds
//	varint  HTTPStatus, SentBytes, RequestTime, ObjectSize, ServerCostTime,
//	        RequestLength, DeltaDataSize
//	str     the 20 string fields of osslog.Line in line order, then UserDefined
//	uvarint number of extra fields, then each as str
//
// where str is a uvarint length followed by the bytes. Time is stored as an
// instant: delivery writes it in Config.Location.
//
// A cancel frame (always mode, Provisional) withdraws an earlier record
// whose request turned out otherwise than the record said:
//
//	u8      kind (2)
//	u64     its own ID (IDs stay strictly increasing through the journal)
//	str×3   the stream key of the cancelled record
//	varint  Time of the cancelled record, Unix seconds
//	uvarint Time, nanoseconds
//	u64     ID of the cancelled record
//
// It shares the record's head (decodeHead) so that routing code reads
// both alike; delivery never writes it as a line.
const (
	recVersion  = 1
	recCancel   = 2
	idOffset    = 1 // offset of the record ID in the payload
	minPayload  = 1 + 8 + 3
	maxPayload  = 4 << 20 // larger records are refused (ErrInvalidRecord)
	numStrings  = 20
	numIntegers = 7
)

var errBadPayload = errors.New("accesslog: malformed record payload")

// appendPayload appends the encoding of r with ID id to dst.
func appendPayload(dst []byte, id uint64, r *Record) []byte {
	dst = append(dst, recVersion)
	dst = binary.LittleEndian.AppendUint64(dst, id)
	dst = appendStr(dst, r.TargetBucket)
	dst = appendStr(dst, r.TargetPrefix)
	dst = appendStr(dst, r.SourceBucket)
	dst = binary.AppendVarint(dst, r.Time.Unix())
	dst = binary.AppendUvarint(dst, uint64(r.Time.Nanosecond()))
	l := &r.Line
	dst = binary.AppendVarint(dst, int64(l.HTTPStatus))
	dst = binary.AppendVarint(dst, l.SentBytes)
	dst = binary.AppendVarint(dst, l.RequestTime)
	dst = binary.AppendVarint(dst, l.ObjectSize)
	dst = binary.AppendVarint(dst, l.ServerCostTime)
	dst = binary.AppendVarint(dst, l.RequestLength)
	dst = binary.AppendVarint(dst, l.DeltaDataSize)
	for _, s := range stringFields(l) {
		dst = appendStr(dst, *s)
	}
	dst = appendStr(dst, r.UserDefined)
	dst = binary.AppendUvarint(dst, uint64(len(l.Extra)))
	for _, e := range l.Extra {
		dst = appendStr(dst, e)
	}
	return dst
}

// cancelRef names the record a cancel frame withdraws.
type cancelRef struct {
	id   uint64
	key  string // its stream key (streamKey)
	sec  int64
	nsec int32
}

// appendCancel appends the payload of a cancel frame with ID id for c.
func appendCancel(dst []byte, id uint64, c *cancelRef) []byte {
	dst = append(dst, recCancel)
	dst = binary.LittleEndian.AppendUint64(dst, id)
	dst = append(dst, c.key...)
	dst = binary.AppendVarint(dst, c.sec)
	dst = binary.AppendUvarint(dst, uint64(c.nsec))
	return binary.LittleEndian.AppendUint64(dst, c.id)
}

// cancelled returns the ID a cancel frame withdraws.
func cancelled[T string | []byte](p T, h head[T]) (uint64, error) {
	if h.kind != recCancel || len(p)-h.rest != 8 {
		return 0, errBadPayload
	}
	return le64(p[h.rest:]), nil
}

// stringFields lists the string fields of l in the payload's order (the
// line's order), for the encoder and the decoder alike.
func stringFields(l *osslog.Line) [numStrings]*string {
	return [numStrings]*string{&l.RemoteIP, &l.Reserved1, &l.Reserved2, &l.RequestURI,
		&l.Referer, &l.UserAgent, &l.Host, &l.RequestID, &l.LoggingFlag, &l.RequesterID,
		&l.Operation, &l.Bucket, &l.Key, &l.ErrorCode, &l.UserID, &l.SyncRequest,
		&l.StorageClass, &l.TargetStorageClass, &l.AccessPoint, &l.AccessKeyID}
}

func appendStr(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// head is the part of a payload routing needs.
type head[T string | []byte] struct {
	kind byte // recVersion (a record) or recCancel
	id   uint64
	key  T // the stream key: three length-prefixed strings, raw
	sec  int64
	nsec int32
	rest int // offset of the integers
}

func decodeHead[T string | []byte](p T) (h head[T], err error) {
	if len(p) < minPayload || p[0] != recVersion && p[0] != recCancel {
		return h, errBadPayload
	}
	h.kind, h.id = p[0], le64(p[idOffset:])
	i := idOffset + 8
	for range 3 {
		n, w := uvarint(p, i)
		if w <= 0 || n > uint64(len(p)-i-w) {
			return h, errBadPayload
		}
		i += w + int(n)
	}
	h.key = p[idOffset+8 : i]
	sec, w := varint(p, i)
	if w <= 0 {
		return h, errBadPayload
	}
	i += w
	nsec, w := uvarint(p, i)
	if w <= 0 || nsec >= 1e9 {
		return h, errBadPayload
	}
	h.sec, h.nsec, h.rest = sec, int32(nsec), i+w
	return h, nil
}

// decodeRecord decodes payload p into r. r's strings are substrings of p.
// Time is set in loc.
func decodeRecord(p string, r *Record, loc *time.Location) (uint64, error) {
	h, err := decodeHead(p)
	if err != nil {
		return 0, err
	}
	if h.kind != recVersion {
		return 0, errBadPayload
	}
	d := strDecoder{s: p, i: idOffset + 8}
	r.TargetBucket, r.TargetPrefix, r.SourceBucket = d.str(), d.str(), d.str()
	r.Time = time.Unix(h.sec, int64(h.nsec)).In(loc)
	d.i = h.rest
	l := &r.Line
	status := d.int()
	if status < math.MinInt32 || status > math.MaxInt32 {
		return 0, errBadPayload
	}
	l.HTTPStatus = int(status)
	l.SentBytes, l.RequestTime, l.ObjectSize = d.int(), d.int(), d.int()
	l.ServerCostTime, l.RequestLength, l.DeltaDataSize = d.int(), d.int(), d.int()
	for _, s := range stringFields(l) {
		*s = d.str()
	}
	r.UserDefined = d.str()
	n := d.uint()
	l.Extra = l.Extra[:0]
	if n > uint64(len(p)) {
		return 0, errBadPayload
	}
	for range n {
		l.Extra = append(l.Extra, d.str())
	}
	if d.bad || d.i != len(p) {
		return 0, errBadPayload
	}
	if len(l.Extra) == 0 {
		l.Extra = nil
	}
	return h.id, nil
}

// splitKey splits a stream key into its three strings.
func splitKey(key string) (target, prefix, source string) {
	d := strDecoder{s: key}
	return d.str(), d.str(), d.str()
}

// strDecoder reads a payload; after the first error it returns zero values
// and sets bad.
type strDecoder struct {
	s   string
	i   int
	bad bool
}

func (d *strDecoder) uint() uint64 {
	v, w := uvarint(d.s, d.i)
	if w <= 0 {
		d.bad = true
		return 0
	}
	d.i += w
	return v
}

func (d *strDecoder) int() int64 {
	v, w := varint(d.s, d.i)
	if w <= 0 {
		d.bad = true
		return 0
	}
	d.i += w
	return v
}

func (d *strDecoder) str() string {
	n := d.uint()
	if d.bad || n > uint64(len(d.s)-d.i) {
		d.bad = true
		return ""
	}
	s := d.s[d.i : d.i+int(n)]
	d.i += int(n)
	return s
}

// uvarint is binary.Uvarint over a string or a byte slice, from offset i.
func uvarint[T string | []byte](p T, i int) (uint64, int) {
	var x uint64
	var s uint
	for j := 0; j < binary.MaxVarintLen64; j++ {
		if i+j >= len(p) {
			return 0, 0
		}
		b := p[i+j]
		if b < 0x80 {
			if j == binary.MaxVarintLen64-1 && b > 1 {
				return 0, -1
			}
			return x | uint64(b)<<s, j + 1
		}
		x |= uint64(b&0x7f) << s
		s += 7
	}
	return 0, -1
}

func varint[T string | []byte](p T, i int) (int64, int) {
	ux, n := uvarint(p, i)
	x := int64(ux >> 1)
	if ux&1 != 0 {
		x = ^x
	}
	return x, n
}

func le32[T string | []byte](p T) uint32 {
	_ = p[3]
	return uint32(p[0]) | uint32(p[1])<<8 | uint32(p[2])<<16 | uint32(p[3])<<24
}

func le64[T string | []byte](p T) uint64 {
	return uint64(le32(p)) | uint64(le32(p[4:]))<<32
}
