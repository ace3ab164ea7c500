package accesslog

import (
	"bytes"
	"reflect"
	"testing"
	"time"

	"github.com/ossd/ossd/osslog"
)

// FuzzRecordPayload checks the journal's record encoding, which every
// logged request passes through before it becomes a log line: a record
// built from fuzzed values decodes back field for field (time as the same
// instant, in the delivery location), its head gives the same id, time and
// stream key; and arbitrary bytes never panic the decoder, and whatever
// it accepts re-encodes to a payload that decodes to the same record and
// is stable from then on.
func FuzzRecordPayload(f *testing.F) {
	f.Add(uint64(1), "logs", "log/", "src", "k\x00ey", "\xff", int64(1700000000), uint32(123), int64(200), int64(-1), int32(206), []byte(nil))
	f.Add(uint64(0), "", "", "", "", "", int64(-62135596800), uint32(999999999), int64(0), int64(1<<62), int32(-1), []byte{recVersion})
	f.Add(uint64(1<<63), "a", "b", "c", "d", "e", int64(1), uint32(0), int64(-5), int64(5), int32(1<<30),
		appendPayload(nil, 7, &Record{SourceBucket: "s", Line: osslog.Line{Time: time.Unix(1, 2), Extra: []string{"x"}}}))
	loc := time.FixedZone("UTC+8", 8*3600)
	f.Fuzz(func(t *testing.T, id uint64, target, prefix, source, s1, s2 string, sec int64, nsec uint32, n1, n2 int64, status int32, raw []byte) {
		r := Record{SourceBucket: source, TargetBucket: target, TargetPrefix: prefix, UserDefined: s2}
		l := &r.Line
		l.Time = time.Unix(sec%(1<<40), int64(nsec%1e9)).In(loc)
		l.HTTPStatus = int(status) // an HTTP status: the decoder refuses what int32 cannot hold
		l.SentBytes, l.RequestTime, l.ObjectSize, l.ServerCostTime = n1, n2, -n1, n1^n2
		l.RequestLength, l.DeltaDataSize = n2/3, n1-n2
		for i, p := range []*string{&l.RemoteIP, &l.Reserved1, &l.Reserved2, &l.RequestURI, &l.Referer, &l.UserAgent,
			&l.Host, &l.RequestID, &l.LoggingFlag, &l.RequesterID, &l.Operation, &l.Bucket, &l.Key, &l.ErrorCode,
			&l.UserID, &l.SyncRequest, &l.StorageClass, &l.TargetStorageClass, &l.AccessPoint, &l.AccessKeyID} {
			*p = []string{s1, s2, target + s1, ""}[i%4]
		}
		if s1 != "" {
			l.Extra = []string{s1, "", s2}
		}
		p := appendPayload(nil, id, &r)
		var back Record
		gotID, err := decodeRecord(string(p), &back, loc)
		if err != nil || gotID != id {
			t.Fatalf("decode(encode(r)) = id %d, %v; want id %d", gotID, err, id)
		}
		if !back.Time.Equal(r.Time) || back.Time.Location() != loc {
			t.Fatalf("time %v, want %v", back.Time, r.Time)
		}
		back.Time = r.Time
		if !reflect.DeepEqual(back, r) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", back, r)
		}
		h, err := decodeHead(p)
		tb, pf, src := splitKey(string(h.key))
		if err != nil || h.id != id || h.sec != r.Time.Unix() || int(h.nsec) != r.Time.Nanosecond() || tb != target || pf != prefix || src != source {
			t.Fatalf("head %+v (%q %q %q), %v", h, tb, pf, src, err)
		}

		// Arbitrary bytes.
		var junk Record
		anyID, err := decodeRecord(string(raw), &junk, loc)
		if _, herr := decodeHead(raw); herr != nil && err == nil {
			t.Fatalf("record decodes but its head does not: %v", herr)
		}
		if err != nil {
			return
		}
		p1 := appendPayload(nil, anyID, &junk)
		var again Record
		id2, err := decodeRecord(string(p1), &again, loc)
		if err != nil || id2 != anyID || !again.Time.Equal(junk.Time) {
			t.Fatalf("re-encoded payload: id %d, %v", id2, err)
		}
		again.Time = junk.Time
		if !reflect.DeepEqual(again, junk) {
			t.Fatalf("re-encoded record differs:\n got %+v\nwant %+v", again, junk)
		}
		if p2 := appendPayload(nil, id2, &again); !bytes.Equal(p1, p2) {
			t.Fatalf("encoding not stable: %x then %x", p1, p2)
		}
	})
}
