package httpapi

import (
	"encoding/xml"
	"net/http"
	"strconv"
	"strings"

	"github.com/ossd/ossd/internal/oss"
	"github.com/ossd/ossd/internal/service"
)

// corsXML is PutBucketCors' body and GetBucketCors' answer; S3's form adds
// a rule ID and has no ResponseVary.
type corsXML struct {
	XMLName      xml.Name      `xml:"CORSConfiguration"`
	Rules        []corsRuleXML `xml:"CORSRule"`
	ResponseVary *bool         `xml:"ResponseVary,omitempty"`
}

type corsRuleXML struct {
	ID            string   `xml:"ID,omitempty"`
	AllowedOrigin []string `xml:"AllowedOrigin"`
	AllowedMethod []string `xml:"AllowedMethod"`
	AllowedHeader []string `xml:"AllowedHeader,omitempty"`
	ExposeHeader  []string `xml:"ExposeHeader,omitempty"`
	MaxAgeSeconds *int64   `xml:"MaxAgeSeconds,omitempty"`
}

func (h *Handler) putBucketCors(rq *request) error {
	var in corsXML
	if err := h.decodeXML(rq, "CORSConfiguration", &in, oss.ErrMalformedXML); err != nil {
		return err
	}
	c := &service.CORSConfig{ResponseVary: in.ResponseVary != nil && *in.ResponseVary && !rq.s3}
	for _, r := range in.Rules {
		maxAge := int64(-1)
		if r.MaxAgeSeconds != nil {
			maxAge = *r.MaxAgeSeconds
			if maxAge < 0 {
				// Named as OSS names it: oss2's test_invalid_argument reads
				// ArgumentName and ArgumentValue.
				return oss.ErrCORSInvalidRule.WithMessage("CORS MaxAgeSeconds must not be negative.").
					With("ArgumentName", "MaxAgeSeconds").With("ArgumentValue", strconv.FormatInt(maxAge, 10))
			}
		}
		c.Rules = append(c.Rules, service.CORSRule{ID: r.ID, Origins: trimAll(r.AllowedOrigin), Methods: trimAll(r.AllowedMethod),
			Headers: trimAll(r.AllowedHeader), Expose: trimAll(r.ExposeHeader), MaxAge: maxAge})
	}
	if err := h.svc.PutBucketCORS(rq.ctx, rq.bucket, c, rq.s3); err != nil {
		return err
	}
	return writeEmpty(rq, http.StatusOK)
}

func (h *Handler) getBucketCors(rq *request) error {
	c := rq.b.CORS
	if c == nil {
		if rq.s3 {
			return oss.ErrNoSuchCORSConfiguration.WithMessage("The CORS configuration does not exist")
		}
		return oss.ErrNoSuchCORSConfiguration
	}
	out := corsXML{}
	if !rq.s3 {
		out.ResponseVary = &c.ResponseVary
	}
	for _, r := range c.Rules {
		x := corsRuleXML{ID: r.ID, AllowedOrigin: r.Origins, AllowedMethod: r.Methods, AllowedHeader: r.Headers, ExposeHeader: r.Expose}
		if r.MaxAge >= 0 {
			x.MaxAgeSeconds = &r.MaxAge
		}
		out.Rules = append(out.Rules, x)
	}
	return h.writeXML(rq, http.StatusOK, out)
}

func (h *Handler) deleteBucketCors(rq *request) error {
	if err := h.svc.DeleteBucketCORS(rq.ctx, rq.bucket); err != nil {
		return err
	}
	return writeEmpty(rq, http.StatusNoContent)
}

// optionObject answers a CORS preflight from the bucket's rules. Anyone
// may ask (browsers send no credentials); the rules alone decide.
func (h *Handler) optionObject(rq *request) error {
	hdr := rq.r.Header
	origin, method := hdr.Get("Origin"), hdr.Get("Access-Control-Request-Method")
	switch {
	case origin == "":
		return oss.ErrCORSNeedOrigin
	case method == "":
		return oss.ErrCORSNeedMethod
	}
	var asked []string
	for _, f := range strings.Split(hdr.Get("Access-Control-Request-Headers"), ",") {
		if f = strings.TrimSpace(f); f != "" {
			asked = append(asked, f)
		}
	}
	r := service.MatchCORS(rq.b.CORS, origin, method, asked)
	if r == nil {
		switch {
		case rq.s3 && rq.b.CORS == nil:
			return oss.ErrCORSForbidden.WithMessage("CORSResponse: CORS is not enabled for this bucket.")
		case rq.s3:
			return oss.ErrCORSForbidden.WithMessage("CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.")
		}
		return oss.ErrCORSForbidden
	}
	out := rq.w.Header()
	out.Set("Access-Control-Allow-Origin", allowOrigin(r, origin))
	out.Set("Access-Control-Allow-Methods", method)
	if len(asked) > 0 {
		out.Set("Access-Control-Allow-Headers", strings.Join(asked, ", "))
	}
	setExposeAndAge(out, r)
	return writeEmpty(rq, http.StatusOK)
}

// corsHeaders adds what the bucket's CORS rules say to the response of a
// request other than a preflight: Vary when the configuration asks for it,
// and, for a cross-origin request a rule allows, the Access-Control-*
// headers a browser needs to hand the response (and its exposed headers,
// e.g. ETag for multipart uploads) to the page. They are set before the
// operation runs, so that error responses carry them too.
func corsHeaders(rq *request) {
	c := rq.b.CORS
	if c == nil {
		return
	}
	out := rq.w.Header()
	if c.ResponseVary {
		out.Add("Vary", "Origin")
	}
	origin := rq.r.Header.Get("Origin")
	if origin == "" || rq.op == oss.OpOptionObject {
		return
	}
	r := service.MatchCORS(c, origin, rq.r.Method, nil)
	if r == nil {
		return
	}
	out.Set("Access-Control-Allow-Origin", allowOrigin(r, origin))
	out.Set("Access-Control-Allow-Methods", strings.Join(r.Methods, ", "))
	setExposeAndAge(out, r)
}

// allowOrigin is "*" when the rule allows every origin, else the origin
// itself (the rule matched it).
func allowOrigin(r *service.CORSRule, origin string) string {
	for _, o := range r.Origins {
		if o != "*" && service.OriginMatches(o, origin) {
			return origin
		}
	}
	return "*"
}

func setExposeAndAge(out http.Header, r *service.CORSRule) {
	if len(r.Expose) > 0 {
		out.Set("Access-Control-Expose-Headers", strings.Join(r.Expose, ", "))
	}
	if r.MaxAge >= 0 {
		out.Set("Access-Control-Max-Age", strconv.FormatInt(r.MaxAge, 10))
	}
}

func trimAll(list []string) []string {
	out := make([]string, 0, len(list))
	for _, s := range list {
		out = append(out, strings.TrimSpace(s))
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
