package osslog

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// docLine is the current-format example of the OSS logging documentation
// (spec §4.3).
const docLine = `192.168.0.1 - - [03/Jan/2021:14:59:49 +0800] "GET /example.jpg HTTP/1.0" 200 999131 127 "http://www.aliyun.com/product/oss" "curl/7.15.5" "examplebucket.oss-cn-hangzhou.aliyuncs.com" "5FF16B65F05BC932307A3C3C" "true" "16571836914537****" "GetObject" "examplebucket" "example.jpg" 999131 88 "-" 302 "16571836914537****" - "cdn" "standard" "-" "-" "LTAI4FrfJPUSoKm4JHb5****"`

// failedLine is the synthetic failed anonymous request of spec §4.3.
const failedLine = `203.0.113.7 - - [24/Nov/2026:10:15:02 +0800] "GET /missing.txt HTTP/1.1" 404 310 3 "-" "aliyun-sdk-go/v2.1.0" "examplebucket.oss-cn-hangzhou.aliyuncs.com" "674301A6B2C3D4E5F6A7B8C9" "true" "-" "GetObject" "examplebucket" "missing.txt" - 1 "NoSuchKey" 215 "1657136103983691" - "-" "-" "-" "-" "-"`

func TestParseDocExample(t *testing.T) {
	l, err := Parse(docLine)
	if err != nil {
		t.Fatal(err)
	}
	want := Line{
		RemoteIP:       "192.168.0.1",
		Time:           time.Date(2021, 1, 3, 14, 59, 49, 0, time.FixedZone("", 8*3600)),
		RequestURI:     "GET /example.jpg HTTP/1.0",
		HTTPStatus:     200,
		SentBytes:      999131,
		RequestTime:    127,
		Referer:        "http://www.aliyun.com/product/oss",
		UserAgent:      "curl/7.15.5",
		Host:           "examplebucket.oss-cn-hangzhou.aliyuncs.com",
		RequestID:      "5FF16B65F05BC932307A3C3C",
		LoggingFlag:    "true",
		RequesterID:    "16571836914537****",
		Operation:      "GetObject",
		Bucket:         "examplebucket",
		Key:            "example.jpg",
		ObjectSize:     999131,
		ServerCostTime: 88,
		RequestLength:  302,
		UserID:         "16571836914537****",
		DeltaDataSize:  AbsentDelta,
		SyncRequest:    "cdn",
		StorageClass:   "standard",
		AccessKeyID:    "LTAI4FrfJPUSoKm4JHb5****",
	}
	if d := diff(want, l); d != "" {
		t.Fatalf("parsed line differs: %s", d)
	}
	if got := string(l.Append(nil)); got != docLine {
		t.Fatalf("re-encoded line differs:\n got %s\nwant %s", got, docLine)
	}
	if _, off := l.Time.Zone(); off != 8*3600 {
		t.Fatalf("offset %d, want +0800", off)
	}
}

func TestParseFailedExample(t *testing.T) {
	l, err := Parse(failedLine + "\n")
	if err != nil {
		t.Fatal(err)
	}
	if l.HTTPStatus != 404 || l.ObjectSize != Absent || l.ErrorCode != "NoSuchKey" ||
		l.RequesterID != "" || l.AccessKeyID != "" || l.Key != "missing.txt" {
		t.Fatalf("unexpected fields: %+v", l)
	}
	if got := string(l.Append(nil)); got != failedLine {
		t.Fatalf("re-encoded line differs:\n got %s\nwant %s", got, failedLine)
	}
}

// base is a line whose fields tests override one at a time.
func base() Line {
	return Line{
		RemoteIP: "10.0.0.1", Time: time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC),
		RequestURI: "GET / HTTP/1.1", HTTPStatus: 200, SentBytes: 1, RequestTime: 2,
		ObjectSize: Absent, ServerCostTime: 3, RequestLength: 4, DeltaDataSize: AbsentDelta,
	}
}

func TestAppendEscaping(t *testing.T) {
	tests := []struct {
		name string
		set  func(*Line)
		want string // the field as written, found by field number
		num  int
	}{
		{"quote in UA", func(l *Line) { l.UserAgent = `say "hi"` }, `"say \x22hi\x22"`, 10},
		{"backslash", func(l *Line) { l.UserAgent = `a\b` }, `"a\x5Cb"`, 10},
		{"escape-looking text", func(l *Line) { l.UserAgent = `\x41` }, `"\x5Cx41"`, 10},
		{"newline and tab", func(l *Line) { l.Referer = "a\nb\tc\r" }, `"a\x0Ab\x09c\x0D"`, 9},
		{"NUL and DEL", func(l *Line) { l.Referer = "\x00\x7f" }, `"\x00\x7F"`, 9},
		{"invalid UTF-8", func(l *Line) { l.Referer = "a\xffb\xc3" }, `"a\xFFb\xC3"`, 9},
		{"valid UTF-8 kept", func(l *Line) { l.Referer = "日志存储 é" }, `"日志存储 é"`, 9},
		{"space in quoted kept", func(l *Line) { l.RequestURI = "PUT /a b HTTP/1.1" }, `"PUT /a b HTTP/1.1"`, 5},
		{"space in bare field", func(l *Line) { l.RemoteIP = "1.2.3.4 x" }, `1.2.3.4\x20x`, 1},
		{"quote in bare field", func(l *Line) { l.RemoteIP = `"x` }, `\x22x`, 1},
		{"empty is dash", func(l *Line) { l.Referer = "" }, `"-"`, 9},
		{"dash is dash", func(l *Line) { l.Referer = "-" }, `"-"`, 9},
		{"empty bare", func(l *Line) { l.RemoteIP = "" }, `-`, 1},
		{"key plain", func(l *Line) { l.Key = "a-b_c.d~e09" }, `"a-b_c.d~e09"`, 17},
		{"key slash space plus", func(l *Line) { l.Key = "dir/a b+c" }, `"dir%2Fa%20b%2Bc"`, 17},
		{"key quote backslash percent", func(l *Line) { l.Key = `"\%` }, `"%22%5C%25"`, 17},
		{"key UTF-8", func(l *Line) { l.Key = "日" }, `"%E6%97%A5"`, 17},
		{"key empty", func(l *Line) { l.Key = "" }, `"-"`, 17},
		{"negative size", func(l *Line) { l.SentBytes = -5 }, `-`, 7},
		{"zero size", func(l *Line) { l.ObjectSize = 0 }, `0`, 18},
		{"negative delta", func(l *Line) { l.DeltaDataSize = -280 }, `-280`, 23},
		{"zero delta", func(l *Line) { l.DeltaDataSize = 0 }, `0`, 23},
		{"zero time", func(l *Line) { l.Time = time.Time{} }, `-`, 4},
		{"negative offset", func(l *Line) { l.Time = time.Date(2020, 2, 29, 23, 5, 6, 999, time.FixedZone("", -(5*3600+30*60))) }, `[29/Feb/2020:23:05:06 -0530]`, 4},
		{"odd offset to UTC", func(l *Line) { l.Time = time.Date(2020, 1, 1, 0, 0, 0, 0, time.FixedZone("", 30)) }, `[31/Dec/2019:23:59:30 +0000]`, 4},
		{"year out of range", func(l *Line) { l.Time = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }, `-`, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := base()
			tt.set(&l)
			enc := string(l.Append(nil))
			if strings.ContainsAny(enc, "\n\r") {
				t.Fatalf("line contains a line break: %q", enc)
			}
			got, err := fieldText(enc, tt.num)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("field %d written %s, want %s\nline: %s", tt.num, got, tt.want, enc)
			}
			back, err := Parse(enc)
			if err != nil {
				t.Fatalf("Parse(%q): %v", enc, err)
			}
			if d := diff(normalize(l), back); d != "" {
				t.Fatalf("round trip differs: %s", d)
			}
		})
	}
}

// fieldText returns the raw text of field num (1-based) of an encoded line,
// using Parse's own tokenizer positions.
func fieldText(line string, num int) (string, error) {
	p := parser{s: line}
	for i := 1; i <= num; i++ {
		p.field = i
		if i > 1 && !p.space() {
			return "", errors.New("short line")
		}
		start := p.pos
		if i == 4 && strings.HasPrefix(line[p.pos:], "[") {
			var tm time.Time
			if err := p.parseTime(&tm); err != nil {
				return "", err
			}
		} else if _, _, err := p.token(); err != nil {
			return "", err
		}
		if i == num {
			return line[start:p.pos], nil
		}
	}
	return "", nil
}

func TestParseTolerance(t *testing.T) {
	tests := []struct {
		name  string
		line  string
		check func(*testing.T, Line)
	}{
		{"extra trailing fields", docLine + ` "arn:acs:oss:cn-hangzhou:1:examplebucket" 17 -`, func(t *testing.T, l Line) {
			want := []string{"arn:acs:oss:cn-hangzhou:1:examplebucket", "17", ""}
			if !reflect.DeepEqual(l.Extra, want) {
				t.Fatalf("Extra = %q, want %q", l.Extra, want)
			}
		}},
		{"CRLF", docLine + "\r\n", func(t *testing.T, l Line) {
			if l.AccessKeyID != "LTAI4FrfJPUSoKm4JHb5****" {
				t.Fatalf("AccessKeyID = %q", l.AccessKeyID)
			}
		}},
		{"bare string, quoted number", strings.Replace(strings.Replace(docLine, `"curl/7.15.5"`, `curl/7.15.5`, 1), ` 302 `, ` "302" `, 1), func(t *testing.T, l Line) {
			if l.UserAgent != "curl/7.15.5" || l.RequestLength != 302 {
				t.Fatalf("UserAgent %q RequestLength %d", l.UserAgent, l.RequestLength)
			}
		}},
		{"literal quote and backslash", strings.Replace(docLine, `"curl/7.15.5"`, `"a "b"c \q \x4"`, 1), func(t *testing.T, l Line) {
			if l.UserAgent != `a "b"c \q \x4` {
				t.Fatalf("UserAgent %q", l.UserAgent)
			}
		}},
		{"lower-case hex escape", strings.Replace(docLine, `"curl/7.15.5"`, `"\x7e\x2d"`, 1), func(t *testing.T, l Line) {
			if l.UserAgent != "~-" {
				t.Fatalf("UserAgent %q", l.UserAgent)
			}
		}},
		{"key percent forms", strings.Replace(docLine, `"example.jpg"`, `"a%2fb%zz%"`, 1), func(t *testing.T, l Line) {
			if l.Key != "a/b%zz%" {
				t.Fatalf("Key %q", l.Key)
			}
		}},
		{"escaped dash is absent", strings.Replace(docLine, `"curl/7.15.5"`, `"\x2D"`, 1), func(t *testing.T, l Line) {
			if l.UserAgent != "" {
				t.Fatalf("UserAgent %q", l.UserAgent)
			}
		}},
		{"negative zone", strings.Replace(docLine, `+0800`, `-0330`, 1), func(t *testing.T, l Line) {
			if _, off := l.Time.Zone(); off != -(3*3600 + 30*60) {
				t.Fatalf("offset %d", off)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := Parse(tt.line)
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, l)
			checkFixedPoint(t, l)
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name  string
		line  string
		field int
	}{
		{"empty", "", 1},
		{"short", "192.168.0.1 - -", 4},
		{"27 fields", strings.TrimSuffix(docLine, ` "LTAI4FrfJPUSoKm4JHb5****"`), 28},
		{"double space", strings.Replace(docLine, `- - [`, `-  - [`, 1), 3},
		{"trailing space", docLine + " ", 29},
		{"bad status", strings.Replace(docLine, ` 200 `, ` 2x0 `, 1), 6},
		{"negative size", strings.Replace(docLine, ` 302 `, ` -302 `, 1), 21},
		{"plus sign", strings.Replace(docLine, ` 302 `, ` +302 `, 1), 21},
		{"overflow", strings.Replace(docLine, ` 302 `, ` 9223372036854775808 `, 1), 21},
		{"delta overflow", strings.Replace(docLine, `"16571836914537****" - "cdn"`, `"16571836914537****" -9223372036854775809 "cdn"`, 1), 23},
		{"bad month", strings.Replace(docLine, `Jan`, `Jam`, 1), 4},
		{"31 Feb", strings.Replace(docLine, `03/Jan`, `31/Feb`, 1), 4},
		{"hour 24", strings.Replace(docLine, `:14:59:49`, `:24:59:49`, 1), 4},
		{"no bracket", strings.Replace(docLine, `+0800]`, `+0800`, 1), 4},
		{"unterminated quote", strings.Replace(docLine, `"-" "-" "LTAI4FrfJPUSoKm4JHb5****"`, `"-" "-" "LTAI`, 1), 28},
		// A quote not followed by a space is literal, so the field runs on
		// and the misalignment shows where a number is due.
		{"text after quote", strings.Replace(docLine, `"true" `, `"true"x `, 1), 21},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.line)
			var se *SyntaxError
			if !errors.As(err, &se) || !errors.Is(err, ErrSyntax) {
				t.Fatalf("Parse error = %v, want a *SyntaxError", err)
			}
			if se.Field != tt.field {
				t.Fatalf("error at field %d, want %d: %v", se.Field, tt.field, err)
			}
		})
	}
}

func TestAppendAllocs(t *testing.T) {
	l, err := Parse(docLine)
	if err != nil {
		t.Fatal(err)
	}
	l.UserAgent = "escapes \"here\" \xff"
	buf := make([]byte, 0, 1024)
	if n := testing.AllocsPerRun(100, func() { buf = l.Append(buf[:0]) }); n != 0 {
		t.Fatalf("Append allocates %v times per line", n)
	}
}

func BenchmarkAppend(b *testing.B) {
	l, err := Parse(docLine)
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	b.SetBytes(int64(len(docLine)))
	for b.Loop() {
		buf = l.Append(buf[:0])
	}
}

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(docLine)))
	for b.Loop() {
		if _, err := Parse(docLine); err != nil {
			b.Fatal(err)
		}
	}
}

// normalize maps a Line to what Parse returns for its encoding: "-" strings
// become "", negative numbers Absent, times are cut to the second (and to
// "-" or UTC where Append does so), Extra nil when empty.
func normalize(l Line) Line {
	str := func(s *string) {
		if *s == "-" {
			*s = ""
		}
	}
	for _, s := range l.strings() {
		str(s)
	}
	num := func(n *int64) {
		if *n < 0 {
			*n = Absent
		}
	}
	num(&l.SentBytes)
	num(&l.RequestTime)
	num(&l.ObjectSize)
	num(&l.ServerCostTime)
	num(&l.RequestLength)
	if l.HTTPStatus < 0 {
		l.HTTPStatus = Absent
	}
	t := l.Time.Truncate(time.Second)
	if _, off := t.Zone(); off%60 != 0 || off <= -86400 || off >= 86400 {
		t = t.UTC()
	}
	if y := t.Year(); y < 0 || y > 9999 || t.IsZero() {
		t = time.Time{}
	}
	l.Time = t
	if len(l.Extra) == 0 {
		l.Extra = nil
	} else {
		l.Extra = append([]string(nil), l.Extra...)
		for i := range l.Extra {
			str(&l.Extra[i])
		}
	}
	return l
}

func (l *Line) strings() []*string {
	return []*string{&l.RemoteIP, &l.Reserved1, &l.Reserved2, &l.RequestURI, &l.Referer,
		&l.UserAgent, &l.Host, &l.RequestID, &l.LoggingFlag, &l.RequesterID, &l.Operation,
		&l.Bucket, &l.Key, &l.ErrorCode, &l.UserID, &l.SyncRequest, &l.StorageClass,
		&l.TargetStorageClass, &l.AccessPoint, &l.AccessKeyID}
}

// diff reports the first difference between two lines, comparing times as
// instants plus zone offsets; "" when equal.
func diff(want, got Line) string {
	if !want.Time.Equal(got.Time) {
		return "Time: got " + got.Time.String() + ", want " + want.Time.String()
	}
	_, wo := want.Time.Zone()
	_, go_ := got.Time.Zone()
	if wo != go_ {
		return "Time zone offsets differ: " + got.Time.String() + " vs " + want.Time.String()
	}
	want.Time, got.Time = time.Time{}, time.Time{}
	if !reflect.DeepEqual(want, got) {
		return fmt.Sprintf("\n got %#v\nwant %#v", got, want)
	}
	return ""
}

// checkFixedPoint asserts that encoding l and parsing it back gives l, and
// that encoding that again gives the same bytes.
func checkFixedPoint(t *testing.T, l Line) {
	t.Helper()
	enc := l.Append(nil)
	back, err := Parse(string(enc))
	if err != nil {
		t.Fatalf("Parse(Append(l)) failed: %v\nline: %q", err, enc)
	}
	if d := diff(l, back); d != "" {
		t.Fatalf("parse→append→parse is not a fixed point: %s\nline: %q", d, enc)
	}
	if enc2 := back.Append(nil); string(enc2) != string(enc) {
		t.Fatalf("second encoding differs:\n%q\n%q", enc, enc2)
	}
}
