package httpapi

import (
	"encoding/xml"
	"net/http"
	"strings"

	"github.com/ossd/ossd/internal/meta"
	"github.com/ossd/ossd/internal/oss"
)

type loggingStatusXML struct {
	XMLName        xml.Name `xml:"BucketLoggingStatus"`
	LoggingEnabled *struct {
		TargetBucket *string `xml:"TargetBucket"`
		TargetPrefix *string `xml:"TargetPrefix"`
		LoggingRole  *string `xml:"LoggingRole"`
	} `xml:"LoggingEnabled"`
}

func (h *Handler) putBucketLogging(rq *request) error {
	var st loggingStatusXML
	if err := h.decodeXML(rq, "BucketLoggingStatus", &st, oss.ErrLoggingMalformedXML); err != nil {
		return err
	}
	var cfg *meta.LoggingConfig
	if le := st.LoggingEnabled; le != nil {
		if le.TargetBucket == nil {
			return oss.ErrTargetBucketMissing
		}
		cfg = &meta.LoggingConfig{TargetBucket: strings.TrimSpace(*le.TargetBucket)}
		if le.TargetPrefix != nil {
			cfg.TargetPrefix = *le.TargetPrefix
		}
		if le.LoggingRole != nil {
			cfg.LoggingRole = *le.LoggingRole
		}
		if err := h.svc.ValidateLogging(rq.ctx, rq.p, rq.b, cfg); err != nil {
			return err
		}
	}
	err := h.svc.UpdateBucket(rq.ctx, rq.bucket, func(_ meta.Tx, b *meta.Bucket) error { b.Logging = cfg; return nil })
	if err != nil {
		return err
	}
	return writeEmpty(rq, http.StatusOK)
}

func (h *Handler) getBucketLogging(rq *request) error {
	type enabled struct {
		TargetBucket string `xml:"TargetBucket"`
		TargetPrefix string `xml:"TargetPrefix"`
		LoggingRole  string `xml:"LoggingRole,omitempty"`
	}
	type result struct {
		XMLName        xml.Name `xml:"BucketLoggingStatus"`
		LoggingEnabled *enabled `xml:"LoggingEnabled,omitempty"`
	}
	var res result
	if l := rq.b.Logging; l != nil {
		res.LoggingEnabled = &enabled{l.TargetBucket, l.TargetPrefix, l.LoggingRole}
	}
	return h.writeXML(rq, http.StatusOK, res)
}

func (h *Handler) deleteBucketLogging(rq *request) error {
	err := h.svc.UpdateBucket(rq.ctx, rq.bucket, func(_ meta.Tx, b *meta.Bucket) error { b.Logging = nil; return nil })
	if err != nil {
		return err
	}
	return writeEmpty(rq, http.StatusNoContent)
}

type logFieldsXML struct {
	XMLName xml.Name `xml:"UserDefinedLogFieldsConfiguration"`
	Headers []string `xml:"HeaderSet>header,omitempty"`
	Params  []string `xml:"ParamSet>parameter,omitempty"`
}

// validLogHeader: printable ASCII 33–126 except '_' and ':', as OSS
// documents for user-defined log header keys.
func validLogHeader(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 33 || c > 126 || c == '_' || c == ':' {
			return false
		}
	}
	return true
}

func validLogParam(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 33 || c > 126 {
			return false
		}
	}
	return true
}

func (h *Handler) putLogFieldsConfig(rq *request) error {
	var c logFieldsXML
	if err := h.decodeXML(rq, "UserDefinedLogFieldsConfiguration", &c, oss.ErrMalformedXML); err != nil {
		return err
	}
	if len(c.Headers)+len(c.Params) > 6 {
		return oss.ErrInvalidArgument.WithMessage("The total number of headers and parameters must not exceed 6.")
	}
	if len(c.Headers)+len(c.Params) == 0 {
		return oss.ErrMalformedXML
	}
	for _, k := range c.Headers {
		if !validLogHeader(k) {
			return oss.ErrInvalidArgument.WithMessage("The header %q is not valid for user defined log fields.", k)
		}
	}
	for _, k := range c.Params {
		if !validLogParam(k) {
			return oss.ErrInvalidArgument.WithMessage("The parameter %q is not valid for user defined log fields.", k)
		}
	}
	err := h.svc.UpdateBucket(rq.ctx, rq.bucket, func(_ meta.Tx, b *meta.Bucket) error {
		b.LogFields = &meta.LogFieldsConfig{Headers: c.Headers, Params: c.Params}
		return nil
	})
	if err != nil {
		return err
	}
	return writeEmpty(rq, http.StatusOK)
}

func (h *Handler) getLogFieldsConfig(rq *request) error {
	lf := rq.b.LogFields
	if lf == nil {
		return oss.ErrLogFieldsConfigAbsent.With("BucketName", rq.bucket)
	}
	return h.writeXML(rq, http.StatusOK, logFieldsXML{Headers: lf.Headers, Params: lf.Params})
}

func (h *Handler) deleteLogFieldsConfig(rq *request) error {
	err := h.svc.UpdateBucket(rq.ctx, rq.bucket, func(_ meta.Tx, b *meta.Bucket) error { b.LogFields = nil; return nil })
	if err != nil {
		return err
	}
	return writeEmpty(rq, http.StatusNoContent)
}
