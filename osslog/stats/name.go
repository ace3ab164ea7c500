package stats

import (
	"strings"
	"time"
)

// ObjectName is what the name of a delivered log object says:
// <TargetPrefix><SourceBucket>YYYY-mm-DD-HH-MM-SS-<UniqueString>, where the
// time is the start of the hour its lines arrived in, in the delivering
// server's log time zone (ossd --log-timezone; +0800 on OSS's China regions).
type ObjectName struct {
	Source string
	Hour   time.Time
	Unique string
}

const nameTimeLayout = "2006-01-02-15-04-05"

// ParseObjectName splits name (prefix included) in loc; ok is false when
// name does not have the shape of a log object under prefix.
func ParseObjectName(prefix, name string, loc *time.Location) (n ObjectName, ok bool) {
	rest, found := strings.CutPrefix(name, prefix)
	if !found {
		return n, false
	}
	dash := strings.LastIndexByte(rest, '-')
	if dash < len(nameTimeLayout) || dash == len(rest)-1 {
		return n, false
	}
	ts := rest[dash-len(nameTimeLayout) : dash]
	t, err := time.ParseInLocation(nameTimeLayout, ts, loc)
	if err != nil {
		return n, false
	}
	source := rest[:dash-len(nameTimeLayout)]
	if source == "" {
		return n, false
	}
	return ObjectName{Source: source, Hour: t, Unique: rest[dash+1:]}, true
}

// MayOverlap reports whether the object's lines may fall in [from, to)
// (zero bounds are open). Its lines arrived in [Hour, Hour+1h); slack widens
// that span on both sides, for a reader unsure of the server's time zone
// or clock.
func (n ObjectName) MayOverlap(from, to time.Time, slack time.Duration) bool {
	start, end := n.Hour.Add(-slack), n.Hour.Add(time.Hour+slack)
	if !from.IsZero() && !end.After(from) {
		return false
	}
	if !to.IsZero() && !start.Before(to) {
		return false
	}
	return true
}
