package service

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ossd/ossd/internal/meta"
	"github.com/ossd/ossd/internal/oss"
)

// Lifecycle limits, as OSS publishes them (S3 has the same rule limit).
const (
	MaxLifecycleRules       = 1000
	maxLifecycleIDLen       = 255
	maxLifecycleTransitions = 3
)

// lifecycleDate is the form of CreatedBeforeDate: ISO 8601, midnight UTC.
const lifecycleDate = "2006-01-02T15:04:05.000Z"

// lifecycleClasses are the storage classes a transition may name.
var lifecycleClasses = map[string]bool{"IA": true, "Archive": true, "ColdArchive": true, "DeepColdArchive": true}

// PutBucketLifecycle validates c and makes it the bucket's lifecycle
// configuration, replacing the old one whole, as OSS does. Rules without
// an ID get a generated one.
//
// Unless allowOverlap (OSS's x-oss-allow-same-action-overlap: true, and
// S3 requests, whose API has no such rule), two rules whose prefixes
// overlap may not take the same kind of action, as OSS refuses them.
func (s *Service) PutBucketLifecycle(ctx context.Context, bucket string, c *meta.LifecycleConfig, allowOverlap bool) error {
	if err := ValidateLifecycle(c); err != nil {
		return err
	}
	if !allowOverlap {
		if err := checkOverlap(c); err != nil {
			return err
		}
	}
	c = c.Clone()
	for i := range c.Rules {
		r := &c.Rules[i]
		if r.Expiration != nil {
			normalizeDates(&r.Expiration.LifecycleWhen)
		}
		if r.AbortUpload != nil {
			normalizeDates(r.AbortUpload)
		}
		for j := range r.Transitions {
			normalizeDates(&r.Transitions[j].LifecycleWhen)
		}
	}
	ids := map[string]bool{}
	for _, r := range c.Rules {
		ids[r.ID] = true
	}
	for i := range c.Rules {
		for n := 1; c.Rules[i].ID == ""; n++ {
			if id := "rule-" + strconv.Itoa(n); !ids[id] {
				c.Rules[i].ID, ids[id] = id, true
			}
		}
	}
	return s.updateBucket(ctx, bucket, func(_ meta.Tx, b *meta.Bucket) error { b.Lifecycle = c; return nil })
}

// GetBucketLifecycle returns the bucket's lifecycle configuration, or
// NoSuchLifecycle.
func (s *Service) GetBucketLifecycle(ctx context.Context, bucket string) (*meta.LifecycleConfig, error) {
	b, err := s.Bucket(ctx, bucket)
	if err != nil {
		return nil, err
	}
	if b.Lifecycle == nil {
		return nil, oss.ErrNoSuchLifecycle.With("BucketName", bucket)
	}
	return b.Lifecycle.Clone(), nil
}

// DeleteBucketLifecycle removes the bucket's lifecycle configuration; a
// bucket without one is not an error (OSS answers 204 either way).
func (s *Service) DeleteBucketLifecycle(ctx context.Context, bucket string) error {
	return s.updateBucket(ctx, bucket, func(_ meta.Tx, b *meta.Bucket) error { b.Lifecycle = nil; return nil })
}

// ValidateLifecycle checks a configuration as OSS does before storing it.
func ValidateLifecycle(c *meta.LifecycleConfig) error {
	switch {
	case c == nil || len(c.Rules) == 0:
		return oss.ErrLifecycleMalformedXML
	case len(c.Rules) > MaxLifecycleRules:
		return oss.ErrLifecycleTooManyRules
	}
	ids := map[string]bool{}
	for i := range c.Rules {
		r := &c.Rules[i]
		if utf8.RuneCountInString(r.ID) > maxLifecycleIDLen {
			return oss.ErrLifecycleIDTooLong
		}
		if r.ID != "" {
			if ids[r.ID] {
				return oss.ErrLifecycleDuplicateID.WithMessage("Rule ID %q is used by more than one rule.", r.ID)
			}
			ids[r.ID] = true
		}
		if err := validateRule(r); err != nil {
			return err
		}
	}
	return nil
}

func invalidRule(r *meta.LifecycleRule, format string, args ...any) error {
	return oss.ErrLifecycleInvalid.WithMessage("Rule %q: %s", r.ID, fmt.Sprintf(format, args...))
}

func validateRule(r *meta.LifecycleRule) error {
	if r.Status != "Enabled" && r.Status != "Disabled" {
		return oss.ErrLifecycleMalformedXML.WithMessage("Rule %q: Status must be Enabled or Disabled.", r.ID)
	}
	if r.Expiration == nil && r.AbortUpload == nil && r.NoncurrentDays == nil && len(r.Transitions) == 0 && len(r.NoncurrentTransitions) == 0 {
		return oss.ErrLifecycleNoAction
	}
	if len(r.Transitions) > maxLifecycleTransitions {
		return oss.ErrLifecycleTooManyTrans
	}
	if len(r.NoncurrentTransitions) > maxLifecycleTransitions {
		return oss.ErrLifecycleTooManyNCTrans
	}
	for _, n := range r.Not {
		if !strings.HasPrefix(n.Prefix, r.Prefix) || (n.Prefix == r.Prefix && n.Tag == nil) {
			return invalidRule(r, "a Not prefix must extend the rule's prefix %q.", r.Prefix)
		}
	}
	for _, t := range r.Tags {
		if t.Key == "" || !tagText(t.Key, true) || !tagText(t.Value, true) {
			return invalidRule(r, "tag %q=%q: keys and values may hold letters, digits, spaces and + - = . _ : / @ only.", t.Key, t.Value)
		}
	}
	if err := checkColder(r, r.Transitions); err != nil {
		return err
	}
	if err := checkColder(r, r.NoncurrentTransitions); err != nil {
		return err
	}
	if (r.SizeGreater != nil && *r.SizeGreater < 0) || (r.SizeLess != nil && *r.SizeLess <= 0) {
		return invalidRule(r, "object size bounds must be positive.")
	}
	if r.SizeGreater != nil && r.SizeLess != nil && *r.SizeGreater >= *r.SizeLess {
		return invalidRule(r, "ObjectSizeGreaterThan must be less than ObjectSizeLessThan.")
	}
	var days, dates bool // OSS refuses a rule that mixes the two
	note := func(w meta.LifecycleWhen) {
		days = days || w.Days != nil
		dates = dates || w.Date != "" || w.OnDate != ""
	}
	if e := r.Expiration; e != nil {
		switch {
		case e.ExpiredDeleteMarker && given(e.LifecycleWhen) > 0:
			return invalidRule(r, "ExpiredObjectDeleteMarker cannot be combined with Days or CreatedBeforeDate.")
		case e.ExpiredDeleteMarker && len(r.Tags) > 0:
			return invalidRule(r, "ExpiredObjectDeleteMarker cannot be used with tags.")
		case !e.ExpiredDeleteMarker && given(e.LifecycleWhen) == 0:
			return oss.ErrLifecycleEmptyExpiration
		}
		if !e.ExpiredDeleteMarker {
			if err := validateWhen(r, "Expiration", e.LifecycleWhen); err != nil {
				return err
			}
			note(e.LifecycleWhen)
		}
	}
	if a := r.AbortUpload; a != nil {
		if len(r.Tags) > 0 {
			return invalidRule(r, "AbortMultipartUpload cannot be used with tags.")
		}
		if given(*a) == 0 {
			return invalidRule(r, "AbortMultipartUpload must contain Days or CreatedBeforeDate.")
		}
		if err := validateWhen(r, "AbortMultipartUpload", *a); err != nil {
			return err
		}
	}
	if d := r.NoncurrentDays; d != nil && *d <= 0 {
		return invalidRule(r, "NoncurrentDays must be a positive integer.")
	}
	for _, t := range r.Transitions {
		if !lifecycleClasses[t.StorageClass] {
			return invalidRule(r, "Transition StorageClass %q is not IA, Archive, ColdArchive or DeepColdArchive.", t.StorageClass)
		}
		if given(t.LifecycleWhen) == 0 {
			return invalidRule(r, "Transition must contain Days or CreatedBeforeDate.")
		}
		if err := validateWhen(r, "Transition", t.LifecycleWhen); err != nil {
			return err
		}
		note(t.LifecycleWhen)
		if e := r.Expiration; e != nil && e.Days != nil && t.Days != nil && *e.Days <= *t.Days {
			return invalidRule(r, "Expiration Days must be greater than every Transition's Days.")
		}
	}
	for _, t := range r.NoncurrentTransitions {
		if !lifecycleClasses[t.StorageClass] {
			return invalidRule(r, "NoncurrentVersionTransition StorageClass %q is not IA, Archive, ColdArchive or DeepColdArchive.", t.StorageClass)
		}
		if t.Days == nil || *t.Days <= 0 || t.Date != "" || t.OnDate != "" {
			return invalidRule(r, "NoncurrentVersionTransition must contain a positive NoncurrentDays.")
		}
	}
	if days && dates {
		return oss.ErrLifecycleMixedDates
	}
	return nil
}

// classRank orders the transition classes from warm to cold.
var classRank = map[string]int{"IA": 1, "Archive": 2, "ColdArchive": 3, "DeepColdArchive": 4}

// checkColder refuses transitions whose colder class comes no later than
// a warmer one: more days (or an earlier CreatedBeforeDate) for colder
// classes, as OSS requires.
func checkColder(r *meta.LifecycleRule, ts []meta.LifecycleTransition) error {
	for _, a := range ts {
		for _, b := range ts {
			if classRank[a.StorageClass] >= classRank[b.StorageClass] {
				continue // a is the colder (or the same) one
			}
			// b is colder than a: it must come later.
			ad, aok := parseLifecycleDate(a.Date)
			bd, bok := parseLifecycleDate(b.Date)
			switch {
			case a.Days != nil && b.Days != nil && *b.Days <= *a.Days,
				aok && bok && !bd.Before(ad):
				return invalidRule(r, "the transition to %s must come after the one to %s.", b.StorageClass, a.StorageClass)
			}
		}
	}
	return nil
}

// lifecycleActions names the kinds of action, for the overlap check.
func lifecycleActions(r *meta.LifecycleRule) []string {
	var out []string
	if r.Expiration != nil {
		out = append(out, "Expiration")
	}
	if len(r.Transitions) > 0 {
		out = append(out, "Transition")
	}
	if r.AbortUpload != nil {
		out = append(out, "AbortMultipartUpload")
	}
	if r.NoncurrentDays != nil {
		out = append(out, "NoncurrentVersionExpiration")
	}
	if len(r.NoncurrentTransitions) > 0 {
		out = append(out, "NoncurrentVersionTransition")
	}
	return out
}

// checkOverlap refuses two rules whose prefixes overlap (one is a prefix
// of the other) and that take the same kind of action, with OSS's message.
func checkOverlap(c *meta.LifecycleConfig) error {
	for i := range c.Rules {
		for j := i + 1; j < len(c.Rules); j++ {
			a, b := &c.Rules[i], &c.Rules[j]
			if !strings.HasPrefix(a.Prefix, b.Prefix) && !strings.HasPrefix(b.Prefix, a.Prefix) {
				continue
			}
			for _, x := range lifecycleActions(a) {
				if slices.Contains(lifecycleActions(b), x) {
					return oss.ErrLifecycleOverlap.WithMessage("Overlap for same action type %s", x)
				}
			}
		}
	}
	return nil
}

func validateWhen(r *meta.LifecycleRule, what string, w meta.LifecycleWhen) error {
	if given(w) > 1 {
		return invalidRule(r, "%s may contain only one of Days, CreatedBeforeDate and Date.", what)
	}
	if w.Days != nil && *w.Days <= 0 {
		return invalidRule(r, "%s Days must be a positive integer.", what)
	}
	for _, d := range []string{w.Date, w.OnDate} {
		if _, ok := parseLifecycleDate(d); d != "" && !ok {
			return invalidRule(r, "%s date %q must be a date at midnight UTC, as 2026-01-02T00:00:00.000Z.", what, d)
		}
	}
	return nil
}

// normalizeDates writes w's dates as OSS writes them back
// (2026-01-02T00:00:00.000Z), whichever ISO 8601 form they came in.
func normalizeDates(w *meta.LifecycleWhen) {
	for _, d := range []*string{&w.Date, &w.OnDate} {
		if t, ok := parseLifecycleDate(*d); ok {
			*d = t.Format(lifecycleDate)
		}
	}
}

// given counts the ways w says when (one is expected).
func given(w meta.LifecycleWhen) int {
	n := 0
	for _, ok := range []bool{w.Days != nil, w.Date != "", w.OnDate != ""} {
		if ok {
			n++
		}
	}
	return n
}

// parseLifecycleDate parses a CreatedBeforeDate: midnight UTC, with or
// without milliseconds.
func parseLifecycleDate(s string) (time.Time, bool) {
	t, err := time.Parse(lifecycleDate, s)
	if err != nil {
		if t, err = time.Parse(time.RFC3339, s); err != nil {
			return time.Time{}, false
		}
	}
	t = t.UTC()
	return t, t.Equal(t.Truncate(24 * time.Hour))
}

// dueAt reports whether something that started at from is due at now
// under w: Days count from the midnight UTC after from (OSS rounds the
// last-modified time up to the next 00:00 UTC, then adds the days);
// CreatedBeforeDate takes what started before that instant; from an
// OnDate on, everything is due.
func dueAt(w meta.LifecycleWhen, from, now time.Time) bool {
	if w.Days != nil {
		start := from.UTC().Truncate(24 * time.Hour)
		if !start.Equal(from.UTC()) {
			start = start.Add(24 * time.Hour)
		}
		return !now.Before(start.Add(time.Duration(*w.Days) * 24 * time.Hour))
	}
	if w.Date != "" {
		d, ok := parseLifecycleDate(w.Date)
		return ok && from.Before(d)
	}
	if w.OnDate != "" {
		d, ok := parseLifecycleDate(w.OnDate)
		return ok && !now.Before(d)
	}
	return false
}

// ruleMatches reports whether rule r selects an object named key with
// tags and size.
func ruleMatches(r *meta.LifecycleRule, key string, tags []meta.Tag, size int64) bool {
	if r.Status != "Enabled" || !strings.HasPrefix(key, r.Prefix) {
		return false
	}
	for _, t := range r.Tags {
		if !hasTag(tags, t.Key, t.Value) {
			return false
		}
	}
	for _, n := range r.Not {
		if strings.HasPrefix(key, n.Prefix) && (n.Tag == nil || hasTag(tags, n.Tag.Key, n.Tag.Value)) {
			return false
		}
	}
	if r.SizeGreater != nil && size <= *r.SizeGreater {
		return false
	}
	if r.SizeLess != nil && size >= *r.SizeLess {
		return false
	}
	return true
}

// keyAction is one lifecycle action on a version of a key.
type keyAction struct {
	versionID string // "" for the current version (a DeleteObject without versionId)
	rule      string
	size      int64
	class     string
}

// planKey returns what the rules in c do now to a key whose versions are
// vers (newest first): expire the current version, delete noncurrent
// versions, remove a lone expired delete marker. It is a pure function of
// its arguments, so the run can evaluate it once to find candidates and
// again inside the transaction that deletes them.
func planKey(c *meta.LifecycleConfig, vers []*meta.Version, now time.Time) []keyAction {
	if c == nil || len(vers) == 0 {
		return nil
	}
	var out []keyAction
	for i := 1; i < len(vers); i++ {
		v, since := vers[i], vers[i-1].Modified // noncurrent since its successor was written
		for j := range c.Rules {
			r := &c.Rules[j]
			if r.NoncurrentDays == nil || !ruleMatches(r, v.Key, v.Tags, v.Size) {
				continue
			}
			if dueAt(meta.LifecycleWhen{Days: r.NoncurrentDays}, since, now) {
				out = append(out, keyAction{versionID: v.VersionID, rule: r.ID, size: v.Size, class: v.StorageClass})
				break
			}
		}
	}
	// The current version's action comes last: expiring it in a
	// suspended bucket puts a new "null" delete marker in place of the
	// old "null" version, which a noncurrent action above may name.
	cur := vers[0]
	for i := range c.Rules {
		r := &c.Rules[i]
		e := r.Expiration
		if e == nil || !ruleMatches(r, cur.Key, cur.Tags, cur.Size) {
			continue
		}
		if !cur.DeleteMarker && !e.ExpiredDeleteMarker && dueAt(e.LifecycleWhen, cur.Modified, now) {
			return append(out, keyAction{rule: r.ID, size: cur.Size, class: cur.StorageClass})
		}
		if cur.DeleteMarker && e.ExpiredDeleteMarker && len(vers) == 1 {
			return append(out, keyAction{versionID: cur.VersionID, rule: r.ID})
		}
	}
	return out
}

// uploadRule returns the ID of the rule that aborts upload u now, or "".
func uploadRule(c *meta.LifecycleConfig, u *meta.Upload, now time.Time) (string, bool) {
	if c == nil {
		return "", false
	}
	for i := range c.Rules {
		r := &c.Rules[i]
		if r.AbortUpload == nil || r.Status != "Enabled" || !strings.HasPrefix(u.Key, r.Prefix) {
			continue
		}
		excluded := false
		for _, n := range r.Not {
			excluded = excluded || (n.Tag == nil && strings.HasPrefix(u.Key, n.Prefix))
		}
		if !excluded && dueAt(*r.AbortUpload, u.Initiated, now) {
			return r.ID, true
		}
	}
	return "", false
}
