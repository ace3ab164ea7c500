package osslog

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrSyntax is wrapped by every error Parse returns.
var ErrSyntax = errors.New("osslog: malformed line")

// SyntaxError describes why Parse rejected a line.
type SyntaxError struct {
	Field  int    // 1-based field number; NumFields+1 and up are trailing fields
	Offset int    // byte offset in the line where the problem was found
	Msg    string // what was wrong
}

func (e *SyntaxError) Error() string {
	name := FieldName(e.Field)
	if name == "" {
		name = "extra"
	}
	return "osslog: field " + strconv.Itoa(e.Field) + " (" + name + ") at byte " +
		strconv.Itoa(e.Offset) + ": " + e.Msg
}

// Unwrap makes errors.Is(err, ErrSyntax) true.
func (e *SyntaxError) Unwrap() error { return ErrSyntax }

// kind is how a field is written and read.
type kind uint8

const (
	kBare   kind = iota // bare string, \xHH escapes
	kQuoted             // quoted string, \xHH escapes
	kKey                // quoted, URL-encoded
	kTime               // [02/Jan/2006:15:04:05 -0700]
	kNum                // non-negative integer or "-"
	kDelta              // signed integer or "-"
)

var fieldKinds = [NumFields]kind{
	kBare, kBare, kBare, kTime, kQuoted, kNum, kNum, kNum, kQuoted, kQuoted,
	kQuoted, kQuoted, kQuoted, kQuoted, kQuoted, kQuoted, kKey, kNum, kNum,
	kQuoted, kNum, kQuoted, kDelta, kQuoted, kQuoted, kQuoted, kQuoted, kQuoted,
}

// Parse decodes one line written by OSS (or by Append). A trailing "\n" or
// "\r\n" is ignored. See the package doc for what it tolerates. On error it
// returns a *SyntaxError. The strings of the returned Line may share memory
// with line.
func Parse(line string) (Line, error) {
	line = strings.TrimSuffix(line, "\n")
	line = strings.TrimSuffix(line, "\r")
	var l Line
	p := parser{s: line}
	for i := 0; i < NumFields; i++ {
		p.field = i + 1
		if i > 0 && !p.space() {
			return Line{}, p.errorf("line ends early: %d fields, want at least %d", i, NumFields)
		}
		if err := p.parseField(&l, fieldKinds[i]); err != nil {
			return Line{}, err
		}
	}
	for p.pos < len(p.s) {
		p.field++
		if !p.space() {
			return Line{}, p.errorf("want a space between fields")
		}
		raw, _, err := p.token()
		if err != nil {
			return Line{}, err
		}
		l.Extra = append(l.Extra, unescape(raw))
	}
	return l, nil
}

type parser struct {
	s     string
	pos   int
	field int
}

func (p *parser) errorf(msg string, args ...any) error {
	if len(args) > 0 {
		msg = fmt.Sprintf(msg, args...)
	}
	return &SyntaxError{Field: p.field, Offset: p.pos, Msg: msg}
}

// space consumes the single space that separates two fields.
func (p *parser) space() bool {
	if p.pos < len(p.s) && p.s[p.pos] == ' ' {
		p.pos++
		return true
	}
	return false
}

// token reads a quoted or bare token and returns its raw contents (quotes
// removed, escapes not yet undone).
func (p *parser) token() (raw string, quoted bool, err error) {
	s, start := p.s, p.pos
	if start >= len(s) {
		return "", false, p.errorf("empty field")
	}
	if s[start] == '"' {
		// The closing quote is the first one followed by a space or the end:
		// Append never writes a quote inside a value, and a reader of
		// someone else's line does best to take other quotes literally.
		for i := start + 1; i < len(s); i++ {
			if s[i] == '"' && (i+1 == len(s) || s[i+1] == ' ') {
				p.pos = i + 1
				return s[start+1 : i], true, nil
			}
		}
		return "", false, p.errorf("unterminated quoted field")
	}
	end := strings.IndexByte(s[start:], ' ')
	if end < 0 {
		end = len(s) - start
	}
	if end == 0 {
		return "", false, p.errorf("empty field (two spaces in a row?)")
	}
	p.pos = start + end
	return s[start:p.pos], false, nil
}

func (p *parser) parseField(l *Line, k kind) error {
	if k == kTime && p.pos < len(p.s) && p.s[p.pos] == '[' {
		return p.parseTime(&l.Time)
	}
	start := p.pos
	raw, _, err := p.token()
	if err != nil {
		return err
	}
	switch k {
	case kTime:
		if raw != "-" {
			p.pos = start
			return p.errorf("want [dd/Mon/yyyy:HH:MM:SS +hhmm] or -")
		}
		l.Time = time.Time{}
	case kNum, kDelta:
		n, ok := parseInt(raw, k == kDelta)
		if !ok {
			p.pos = start
			return p.errorf("want a number or -, got %q", raw)
		}
		switch p.field {
		case 6:
			if int64(int(n)) != n {
				p.pos = start
				return p.errorf("status %q out of range", raw)
			}
			l.HTTPStatus = int(n)
		case 7:
			l.SentBytes = n
		case 8:
			l.RequestTime = n
		case 18:
			l.ObjectSize = n
		case 19:
			l.ServerCostTime = n
		case 21:
			l.RequestLength = n
		case 23:
			l.DeltaDataSize = n
		}
	case kKey:
		l.Key = unescapeKey(raw)
	default:
		*l.stringField(p.field) = unescape(raw)
	}
	return nil
}

func (l *Line) stringField(i int) *string {
	switch i {
	case 1:
		return &l.RemoteIP
	case 2:
		return &l.Reserved1
	case 3:
		return &l.Reserved2
	case 5:
		return &l.RequestURI
	case 9:
		return &l.Referer
	case 10:
		return &l.UserAgent
	case 11:
		return &l.Host
	case 12:
		return &l.RequestID
	case 13:
		return &l.LoggingFlag
	case 14:
		return &l.RequesterID
	case 15:
		return &l.Operation
	case 16:
		return &l.Bucket
	case 20:
		return &l.ErrorCode
	case 22:
		return &l.UserID
	case 24:
		return &l.SyncRequest
	case 25:
		return &l.StorageClass
	case 26:
		return &l.TargetStorageClass
	case 27:
		return &l.AccessPoint
	case 28:
		return &l.AccessKeyID
	}
	panic("osslog: not a string field")
}

// parseInt reads "-" (the field's absent value) or decimal digits, with a
// leading minus when signed. No plus sign, no spaces, no overflow.
func parseInt(s string, signed bool) (int64, bool) {
	if s == "-" {
		if signed {
			return AbsentDelta, true
		}
		return Absent, true
	}
	neg := false
	if signed && len(s) > 1 && s[0] == '-' {
		neg, s = true, s[1:]
	}
	if s == "" || len(s) > 19 {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	// 19 digits fit in a uint64; check the int64 range.
	if neg {
		if n > 1<<63 {
			return 0, false
		}
		return -int64(n), true
	}
	if n > 1<<63-1 {
		return 0, false
	}
	return int64(n), true
}

// unescape undoes \xHH escapes and maps "-" to "". Without escapes it
// returns a substring of raw.
func unescape(raw string) string {
	if raw == "-" {
		return ""
	}
	i := strings.IndexByte(raw, '\\')
	if i < 0 {
		return raw
	}
	b := make([]byte, 0, len(raw))
	b = append(b, raw[:i]...)
	for ; i < len(raw); i++ {
		c := raw[i]
		if c == '\\' && i+3 < len(raw) && raw[i+1] == 'x' {
			if h, ok := unhex2(raw[i+2], raw[i+3]); ok {
				b = append(b, h)
				i += 3
				continue
			}
		}
		b = append(b, c)
	}
	if len(b) == 1 && b[0] == '-' {
		return ""
	}
	return string(b)
}

// unescapeKey undoes %XX and maps "-" to "".
func unescapeKey(raw string) string {
	if raw == "-" {
		return ""
	}
	i := strings.IndexByte(raw, '%')
	if i < 0 {
		return raw
	}
	b := make([]byte, 0, len(raw))
	b = append(b, raw[:i]...)
	for ; i < len(raw); i++ {
		c := raw[i]
		if c == '%' && i+2 < len(raw) {
			if h, ok := unhex2(raw[i+1], raw[i+2]); ok {
				b = append(b, h)
				i += 2
				continue
			}
		}
		b = append(b, c)
	}
	if len(b) == 1 && b[0] == '-' {
		return ""
	}
	return string(b)
}

func unhex2(a, b byte) (byte, bool) {
	x, ok1 := unhex(a)
	y, ok2 := unhex(b)
	return x<<4 | y, ok1 && ok2
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// utcPlus8 is shared by every parsed +0800 time, the offset of almost all
// OSS logs, so that Parse need not allocate a zone per line.
var utcPlus8 = time.FixedZone("", 8*3600)

// parseTime reads [02/Jan/2006:15:04:05 -0700] at p.pos.
func (p *parser) parseTime(t *time.Time) error {
	const n = len("[02/Jan/2006:15:04:05 -0700]")
	s := p.s[p.pos:]
	if len(s) < n || s[n-1] != ']' || (len(s) > n && s[n] != ' ') {
		return p.errorf("want [dd/Mon/yyyy:HH:MM:SS +hhmm]")
	}
	s = s[:n]
	bad := func() error { return p.errorf("bad time %q", s) }
	if s[3] != '/' || s[7] != '/' || s[12] != ':' || s[15] != ':' || s[18] != ':' || s[21] != ' ' {
		return bad()
	}
	day, ok1 := digits(s[1:3])
	year, ok2 := digits(s[8:12])
	hour, ok3 := digits(s[13:15])
	min, ok4 := digits(s[16:18])
	sec, ok5 := digits(s[19:21])
	oh, ok6 := digits(s[23:25])
	om, ok7 := digits(s[25:27])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7) || (s[22] != '+' && s[22] != '-') {
		return bad()
	}
	month := 0
	for i, m := range monthNames {
		if s[4:7] == m {
			month = i + 1
		}
	}
	if month == 0 || hour > 23 || min > 59 || sec > 59 || oh > 23 || om > 59 || day < 1 {
		return bad()
	}
	off := oh*3600 + om*60
	if s[22] == '-' {
		off = -off
	}
	var loc *time.Location
	switch off {
	case 0:
		loc = time.UTC
	case 8 * 3600:
		loc = utcPlus8
	default:
		loc = time.FixedZone("", off)
	}
	v := time.Date(year, time.Month(month), day, hour, min, sec, 0, loc)
	if v.Day() != day { // 31/Feb and the like
		return bad()
	}
	if v.IsZero() { // the zero instant is how Line says "-"
		return p.errorf("time %q is the zero time", s)
	}
	*t = v
	p.pos += n
	return nil
}

func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}
