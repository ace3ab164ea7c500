package httpapi

import (
	"encoding/xml"
	"net/http"
	"strings"

	"github.com/ossd/ossd/internal/oss"
	"github.com/ossd/ossd/internal/service"
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
	var cfg *service.LoggingConfig
	if le := st.LoggingEnabled; le != nil {
		if le.TargetBucket == nil {
			return oss.ErrTargetBucketMissing
		}
		cfg = &service.LoggingConfig{TargetBucket: strings.TrimSpace(*le.TargetBucket)}
		if le.TargetPrefix != nil {
			cfg.TargetPrefix = *le.TargetPrefix
		}
		if le.LoggingRole != nil {
			cfg.LoggingRole = *le.LoggingRole
		}
	}
	if err := h.svc.PutBucketLogging(rq.ctx, rq.bucket, cfg); err != nil {
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
	if err := h.svc.DeleteBucketLogging(rq.ctx, rq.bucket); err != nil {
		return err
	}
	return writeEmpty(rq, http.StatusNoContent)
}

type logFieldsXML struct {
	XMLName xml.Name `xml:"UserDefinedLogFieldsConfiguration"`
	Headers []string `xml:"HeaderSet>header,omitempty"`
	Params  []string `xml:"ParamSet>parameter,omitempty"`
}

func (h *Handler) putLogFieldsConfig(rq *request) error {
	var c logFieldsXML
	if err := h.decodeXML(rq, "UserDefinedLogFieldsConfiguration", &c, oss.ErrMalformedXML); err != nil {
		return err
	}
	if err := h.svc.PutUserDefinedLogFields(rq.ctx, rq.bucket, c.Headers, c.Params); err != nil {
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
	if err := h.svc.DeleteUserDefinedLogFields(rq.ctx, rq.bucket); err != nil {
		return err
	}
	return writeEmpty(rq, http.StatusNoContent)
}
