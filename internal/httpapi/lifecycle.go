package httpapi

import (
	"encoding/xml"
	"net/http"
	"strings"

	"github.com/ossd/ossd/internal/oss"
	"github.com/ossd/ossd/internal/service"
)

// lifecycleXML is PutBucketLifecycle's body and GetBucketLifecycle's
// answer in both dialects. Reading, one struct takes either form: OSS's
// (rule-level Prefix and Tag, Filter with Not and size bounds,
// AbortMultipartUpload) and S3's (Filter with Prefix, Tag or And,
// AbortIncompleteMultipartUpload). Writing, each dialect gets its own
// (lcRuleOut / lcRuleS3Out).
type lifecycleXML struct {
	XMLName xml.Name    `xml:"LifecycleConfiguration"`
	Rules   []lcRuleXML `xml:"Rule"`
	// Other catches children other than Rule, which OSS refuses.
	Other []struct{ XMLName xml.Name } `xml:",any"`
}

type lcRuleXML struct {
	ID          string         `xml:"ID"`
	Prefix      *string        `xml:"Prefix"`
	Status      string         `xml:"Status"`
	Filter      *lcFilterXML   `xml:"Filter"`
	Tags        []tagXML       `xml:"Tag"`
	Expiration  *lcExpXML      `xml:"Expiration"`
	Transitions []lcTransXML   `xml:"Transition"`
	Abort       *lcWhenXML     `xml:"AbortMultipartUpload"`
	AbortS3     *lcAbortS3XML  `xml:"AbortIncompleteMultipartUpload"`
	NCExp       *lcNCExpXML    `xml:"NoncurrentVersionExpiration"`
	NCTrans     []lcNCTransXML `xml:"NoncurrentVersionTransition"`
}

type lcFilterXML struct {
	Prefix *string    `xml:"Prefix,omitempty"`
	Tag    *tagXML    `xml:"Tag,omitempty"`
	And    *lcAndXML  `xml:"And,omitempty"`
	Not    []lcNotXML `xml:"Not,omitempty"`
	Gt     *int64     `xml:"ObjectSizeGreaterThan,omitempty"`
	Lt     *int64     `xml:"ObjectSizeLessThan,omitempty"`
}

type lcAndXML struct {
	Prefix *string  `xml:"Prefix,omitempty"`
	Tags   []tagXML `xml:"Tag,omitempty"`
	Gt     *int64   `xml:"ObjectSizeGreaterThan,omitempty"`
	Lt     *int64   `xml:"ObjectSizeLessThan,omitempty"`
}

type lcNotXML struct {
	Prefix string  `xml:"Prefix"`
	Tag    *tagXML `xml:"Tag,omitempty"`
}

type lcWhenXML struct {
	Days              *int   `xml:"Days,omitempty"`
	CreatedBeforeDate string `xml:"CreatedBeforeDate,omitempty"`
	Date              string `xml:"Date,omitempty"` // OSS's deprecated one
}

type lcExpXML struct {
	Days              *int   `xml:"Days,omitempty"`
	CreatedBeforeDate string `xml:"CreatedBeforeDate,omitempty"`
	Date              string `xml:"Date,omitempty"` // S3's; OSS's deprecated one
	EDM               string `xml:"ExpiredObjectDeleteMarker,omitempty"`
}

type lcTransXML struct {
	Days              *int   `xml:"Days,omitempty"`
	CreatedBeforeDate string `xml:"CreatedBeforeDate,omitempty"`
	Date              string `xml:"Date,omitempty"`
	StorageClass      string `xml:"StorageClass"`
	IsAccessTime      *bool  `xml:"IsAccessTime,omitempty"`
	ReturnToStd       *bool  `xml:"ReturnToStdWhenVisit,omitempty"`
	AllowSmallFile    *bool  `xml:"AllowSmallFile,omitempty"`
}

type lcAbortS3XML struct {
	Days *int `xml:"DaysAfterInitiation"`
}

type lcNCExpXML struct {
	NoncurrentDays *int `xml:"NoncurrentDays"`
}

type lcNCTransXML struct {
	NoncurrentDays *int   `xml:"NoncurrentDays"`
	StorageClass   string `xml:"StorageClass"`
	IsAccessTime   *bool  `xml:"IsAccessTime,omitempty"`
	ReturnToStd    *bool  `xml:"ReturnToStdWhenVisit,omitempty"`
	AllowSmallFile *bool  `xml:"AllowSmallFile,omitempty"`
}

func (h *Handler) putBucketLifecycle(rq *request) error {
	var in lifecycleXML
	if err := h.decodeXML(rq, "LifecycleConfiguration", &in, oss.ErrLifecycleMalformedXML); err != nil {
		return err
	}
	if len(in.Other) > 0 {
		return oss.ErrLifecycleUnknownNode.WithMessage("LifecycleConfiguration may only contain Rule elements, not %s.", in.Other[0].XMLName.Local)
	}
	c := &service.LifecycleConfig{}
	for _, x := range in.Rules {
		r, err := lifecycleRuleIn(rq, x)
		if err != nil {
			return err
		}
		c.Rules = append(c.Rules, r)
	}
	// OSS refuses rules that overlap unless asked to allow them; S3 has
	// no such rule.
	allowOverlap := rq.s3 || strings.EqualFold(rq.r.Header.Get("x-oss-allow-same-action-overlap"), "true")
	if err := h.svc.PutBucketLifecycle(rq.ctx, rq.bucket, c, allowOverlap); err != nil {
		return err
	}
	return writeEmpty(rq, http.StatusOK)
}

// lifecycleRuleIn turns one rule of either dialect into the stored form;
// the service validates it.
func lifecycleRuleIn(rq *request, x lcRuleXML) (service.LifecycleRule, error) {
	r := service.LifecycleRule{ID: strings.TrimSpace(x.ID), Status: strings.TrimSpace(x.Status)}
	if x.Prefix != nil {
		r.Prefix = *x.Prefix
	}
	for _, t := range x.Tags {
		r.Tags = append(r.Tags, service.Tag{Key: t.Key, Value: t.Value})
	}
	if f := x.Filter; f != nil {
		r.FilterForm = true
		if f.Prefix != nil {
			r.Prefix = *f.Prefix
		}
		if f.Tag != nil {
			r.Tags = append(r.Tags, service.Tag{Key: f.Tag.Key, Value: f.Tag.Value})
		}
		r.SizeGreater, r.SizeLess = f.Gt, f.Lt
		if a := f.And; a != nil {
			if a.Prefix != nil {
				r.Prefix = *a.Prefix
			}
			for _, t := range a.Tags {
				r.Tags = append(r.Tags, service.Tag{Key: t.Key, Value: t.Value})
			}
			if a.Gt != nil {
				r.SizeGreater = a.Gt
			}
			if a.Lt != nil {
				r.SizeLess = a.Lt
			}
		}
		for _, n := range f.Not {
			not := service.LifecycleNot{Prefix: n.Prefix}
			if n.Tag != nil {
				not.Tag = &service.Tag{Key: n.Tag.Key, Value: n.Tag.Value}
			}
			r.Not = append(r.Not, not)
		}
	}
	if e := x.Expiration; e != nil {
		exp := &service.LifecycleExpiration{LifecycleWhen: service.LifecycleWhen{Days: e.Days, Date: strings.TrimSpace(e.CreatedBeforeDate), OnDate: strings.TrimSpace(e.Date)}}
		switch strings.ToLower(strings.TrimSpace(e.EDM)) {
		case "true":
			exp.ExpiredDeleteMarker = true
		case "", "false":
		default:
			return r, oss.ErrLifecycleMalformedXML.WithMessage("ExpiredObjectDeleteMarker must be true or false.")
		}
		r.Expiration = exp
	}
	for _, t := range x.Transitions {
		r.Transitions = append(r.Transitions, service.LifecycleTransition{
			LifecycleWhen: service.LifecycleWhen{Days: t.Days, Date: strings.TrimSpace(t.CreatedBeforeDate), OnDate: strings.TrimSpace(t.Date)},
			StorageClass:  storageClassIn(rq, t.StorageClass), IsAccessTime: t.IsAccessTime, ReturnToStd: t.ReturnToStd, AllowSmallFile: t.AllowSmallFile,
		})
	}
	if a := x.Abort; a != nil {
		r.AbortUpload = &service.LifecycleWhen{Days: a.Days, Date: strings.TrimSpace(a.CreatedBeforeDate), OnDate: strings.TrimSpace(a.Date)}
	}
	if a := x.AbortS3; a != nil {
		r.AbortUpload = &service.LifecycleWhen{Days: a.Days}
	}
	if n := x.NCExp; n != nil {
		r.NoncurrentDays = n.NoncurrentDays
		if n.NoncurrentDays == nil {
			zero := 0
			r.NoncurrentDays = &zero // refused: an empty NoncurrentVersionExpiration
		}
	}
	for _, t := range x.NCTrans {
		r.NoncurrentTransitions = append(r.NoncurrentTransitions, service.LifecycleTransition{
			LifecycleWhen: service.LifecycleWhen{Days: t.NoncurrentDays},
			StorageClass:  storageClassIn(rq, t.StorageClass), IsAccessTime: t.IsAccessTime, ReturnToStd: t.ReturnToStd, AllowSmallFile: t.AllowSmallFile,
		})
	}
	return r, nil
}

func firstOf(a, b string) string {
	if a != "" {
		return strings.TrimSpace(a)
	}
	return strings.TrimSpace(b)
}

// storageClassIn reads a transition's class: S3's names in S3's dialect.
func storageClassIn(rq *request, c string) string {
	c = strings.TrimSpace(c)
	if rq.s3 {
		if o, ok := s3ClassIn[c]; ok {
			return o
		}
	}
	return c
}

// The answer's forms. Element order is what OSS and S3 write.
type lifecycleOut struct {
	XMLName xml.Name `xml:"LifecycleConfiguration"`
	Rules   []any    `xml:"Rule"`
}

type lcRuleOut struct {
	ID          string         `xml:"ID"`
	Prefix      string         `xml:"Prefix"`
	Status      string         `xml:"Status"`
	Expiration  *lcExpXML      `xml:"Expiration,omitempty"`
	Transitions []lcTransXML   `xml:"Transition,omitempty"`
	Abort       *lcWhenXML     `xml:"AbortMultipartUpload,omitempty"`
	Tags        []tagXML       `xml:"Tag,omitempty"`
	NCExp       *lcNCExpXML    `xml:"NoncurrentVersionExpiration,omitempty"`
	NCTrans     []lcNCTransXML `xml:"NoncurrentVersionTransition,omitempty"`
	Filter      *lcFilterXML   `xml:"Filter,omitempty"`
}

type lcRuleS3Out struct {
	ID          string         `xml:"ID"`
	Prefix      *string        `xml:"Prefix,omitempty"`
	Filter      *lcFilterXML   `xml:"Filter,omitempty"`
	Status      string         `xml:"Status"`
	Expiration  *lcExpXML      `xml:"Expiration,omitempty"`
	Transitions []lcTransXML   `xml:"Transition,omitempty"`
	NCTrans     []lcNCTransXML `xml:"NoncurrentVersionTransition,omitempty"`
	NCExp       *lcNCExpXML    `xml:"NoncurrentVersionExpiration,omitempty"`
	AbortS3     *lcAbortS3XML  `xml:"AbortIncompleteMultipartUpload,omitempty"`
}

func (h *Handler) getBucketLifecycle(rq *request) error {
	c, err := h.svc.GetBucketLifecycle(rq.ctx, rq.bucket)
	if err != nil {
		if rq.s3 && oss.ErrNoSuchLifecycle.Is(err) {
			return oss.ErrNoSuchLifecycleConfiguration.With("BucketName", rq.bucket)
		}
		return err
	}
	out := lifecycleOut{}
	for _, r := range c.Rules {
		if rq.s3 {
			out.Rules = append(out.Rules, lifecycleRuleS3Out(rq, r))
		} else {
			out.Rules = append(out.Rules, lifecycleRuleOut(r))
		}
	}
	return h.writeXML(rq, http.StatusOK, out)
}

func tagsOut(tags []service.Tag) []tagXML {
	var out []tagXML
	for _, t := range tags {
		out = append(out, tagXML{t.Key, t.Value})
	}
	return out
}

func expOut(e *service.LifecycleExpiration, s3 bool) *lcExpXML {
	if e == nil {
		return nil
	}
	x := &lcExpXML{Days: e.Days, Date: e.OnDate}
	if s3 {
		x.Date = firstOf(e.OnDate, e.Date) // S3 has no CreatedBeforeDate
	} else {
		x.CreatedBeforeDate = e.Date
	}
	if e.ExpiredDeleteMarker {
		x.EDM = "true"
	}
	return x
}

func transOut(rq *request, ts []service.LifecycleTransition) []lcTransXML {
	var out []lcTransXML
	for _, t := range ts {
		x := lcTransXML{Days: t.Days, StorageClass: t.StorageClass}
		if rq != nil && rq.s3 {
			x.Date, x.StorageClass = firstOf(t.OnDate, t.Date), rq.class(t.StorageClass)
		} else {
			x.Date = t.OnDate
			x.CreatedBeforeDate, x.IsAccessTime, x.ReturnToStd, x.AllowSmallFile = t.Date, t.IsAccessTime, t.ReturnToStd, t.AllowSmallFile
		}
		out = append(out, x)
	}
	return out
}

func ncTransOut(rq *request, ts []service.LifecycleTransition) []lcNCTransXML {
	var out []lcNCTransXML
	for _, t := range ts {
		x := lcNCTransXML{NoncurrentDays: t.Days, StorageClass: t.StorageClass}
		if rq != nil && rq.s3 {
			x.StorageClass = rq.class(t.StorageClass)
		} else {
			x.IsAccessTime, x.ReturnToStd, x.AllowSmallFile = t.IsAccessTime, t.ReturnToStd, t.AllowSmallFile
		}
		out = append(out, x)
	}
	return out
}

func lifecycleRuleOut(r service.LifecycleRule) lcRuleOut {
	x := lcRuleOut{ID: r.ID, Prefix: r.Prefix, Status: r.Status, Expiration: expOut(r.Expiration, false),
		Transitions: transOut(nil, r.Transitions), Tags: tagsOut(r.Tags), NCTrans: ncTransOut(nil, r.NoncurrentTransitions)}
	if a := r.AbortUpload; a != nil {
		x.Abort = &lcWhenXML{Days: a.Days, CreatedBeforeDate: a.Date, Date: a.OnDate}
	}
	if r.NoncurrentDays != nil {
		x.NCExp = &lcNCExpXML{NoncurrentDays: r.NoncurrentDays}
	}
	if len(r.Not) > 0 || r.SizeGreater != nil || r.SizeLess != nil {
		f := &lcFilterXML{Gt: r.SizeGreater, Lt: r.SizeLess}
		for _, n := range r.Not {
			nx := lcNotXML{Prefix: n.Prefix}
			if n.Tag != nil {
				nx.Tag = &tagXML{n.Tag.Key, n.Tag.Value}
			}
			f.Not = append(f.Not, nx)
		}
		x.Filter = f
	}
	return x
}

func lifecycleRuleS3Out(rq *request, r service.LifecycleRule) lcRuleS3Out {
	x := lcRuleS3Out{ID: r.ID, Status: r.Status, Expiration: expOut(r.Expiration, true),
		Transitions: transOut(rq, r.Transitions), NCTrans: ncTransOut(rq, r.NoncurrentTransitions)}
	prefix := r.Prefix
	if !r.FilterForm && len(r.Tags) == 0 && r.SizeGreater == nil && r.SizeLess == nil {
		x.Prefix = &prefix // given as S3's rule-level Prefix (or through OSS's API)
	} else {
		x.Filter = &lcFilterXML{}
	}
	switch {
	case x.Filter == nil:
	case len(r.Tags)+boolInt(r.Prefix != "")+boolInt(r.SizeGreater != nil)+boolInt(r.SizeLess != nil) > 1:
		x.Filter.And = &lcAndXML{Tags: tagsOut(r.Tags), Gt: r.SizeGreater, Lt: r.SizeLess}
		if r.Prefix != "" {
			x.Filter.And.Prefix = &prefix
		}
	case len(r.Tags) == 1:
		x.Filter.Tag = &tagXML{r.Tags[0].Key, r.Tags[0].Value}
	case r.SizeGreater != nil || r.SizeLess != nil:
		x.Filter.Gt, x.Filter.Lt = r.SizeGreater, r.SizeLess
	default:
		x.Filter.Prefix = &prefix
	}
	if a := r.AbortUpload; a != nil && a.Days != nil {
		x.AbortS3 = &lcAbortS3XML{Days: a.Days}
	}
	if r.NoncurrentDays != nil {
		x.NCExp = &lcNCExpXML{NoncurrentDays: r.NoncurrentDays}
	}
	return x
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (h *Handler) deleteBucketLifecycle(rq *request) error {
	if err := h.svc.DeleteBucketLifecycle(rq.ctx, rq.bucket); err != nil {
		return err
	}
	return writeEmpty(rq, http.StatusNoContent)
}
