package osslog

import (
	"testing"
	"time"
)

// FuzzRoundTrip builds a Line from fuzzed values, encodes it, and checks
// that the encoding is one line and that Parse gives the same fields back
// (up to the documented normalisation: "-" is empty, negative numbers are
// Absent, times are written to the second).
func FuzzRoundTrip(f *testing.F) {
	f.Add("192.168.0.1", "curl/7.15.5", "example.jpg", "extra", int64(999131), int64(1609657189), 480)
	f.Add("", "-", "-", "", int64(-1), int64(0), 0)
	f.Add("a b", "say \"hi\"\\\x00\n\xff", "dir/a b+c%", "\x7f", int64(-280), int64(-62135596800), -330)
	f.Fuzz(func(t *testing.T, a, b, key, extra string, n, sec int64, offMin int) {
		zone := time.FixedZone("", (offMin%(48*60))*60)
		l := Line{
			RemoteIP:           a,
			Reserved1:          b,
			Reserved2:          extra,
			Time:               time.Unix(sec, n%1e9).In(zone),
			RequestURI:         a + " " + b,
			HTTPStatus:         int(n % 1000),
			SentBytes:          n,
			RequestTime:        -n,
			Referer:            b,
			UserAgent:          a + b,
			Host:               key,
			RequestID:          extra,
			LoggingFlag:        "true",
			RequesterID:        a,
			Operation:          b,
			Bucket:             extra,
			Key:                key,
			ObjectSize:         n / 2,
			ServerCostTime:     n / 3,
			ErrorCode:          b,
			RequestLength:      n,
			UserID:             key,
			DeltaDataSize:      n,
			SyncRequest:        extra,
			StorageClass:       a,
			TargetStorageClass: b,
			AccessPoint:        key,
			AccessKeyID:        extra,
		}
		if extra != "" {
			l.Extra = []string{extra, a}
		}
		enc := l.Append(nil)
		for _, c := range enc {
			if c == '\n' || c == '\r' {
				t.Fatalf("line break in encoding %q", enc)
			}
		}
		back, err := Parse(string(enc))
		if err != nil {
			t.Fatalf("Parse(Append(l)): %v\nline: %q", err, enc)
		}
		if d := diff(normalize(l), back); d != "" {
			t.Fatalf("round trip differs: %s\nline: %q", d, enc)
		}
	})
}

// FuzzParse feeds arbitrary text to Parse: it must not panic, and whatever
// it accepts must re-encode to a line that parses to the same fields and
// encodes to the same bytes again.
func FuzzParse(f *testing.F) {
	f.Add(docLine)
	f.Add(failedLine)
	f.Add(docLine + ` "x" 1 -` + "\r\n")
	f.Add("")
	f.Fuzz(func(t *testing.T, line string) {
		l, err := Parse(line)
		if err != nil {
			return
		}
		checkFixedPoint(t, l)
	})
}
