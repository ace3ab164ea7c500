package httpapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ossd/ossd/internal/oss"
	"github.com/ossd/ossd/internal/service"
)

// runCallback performs an upload callback after the object is stored. As
// in OSS, a failed callback leaves the object in place and answers 203
// CallbackFailed; a successful one relays the callback server's body.
func (h *Handler) runCallback(rq *request, v *service.Version) error {
	cb, err := parseCallback(rq)
	if err != nil {
		return callbackFailed(rq, "The callback configuration is not valid json.")
	}
	vars := rq.callbackVars
	if vars == nil {
		vars = map[string]string{}
		if s := rq.r.Header.Get("x-oss-callback-var"); s != "" {
			if raw, err := base64.StdEncoding.DecodeString(s); err == nil {
				json.Unmarshal(raw, &vars)
			}
		}
	}
	body := cb.Body
	repl := map[string]string{
		"bucket": rq.bucket, "object": rq.key, "etag": v.ETag, "size": strconv.FormatInt(v.Size, 10),
		"mimeType": v.Headers["Content-Type"], "crc64": strconv.FormatUint(v.CRC64, 10),
	}
	for k, val := range vars {
		repl[k] = val
	}
	for k, val := range repl {
		if cb.BodyType == "application/json" {
			b, _ := json.Marshal(val)
			val = strings.Trim(string(b), `"`)
		} else {
			val = url.QueryEscape(val)
		}
		body = strings.ReplaceAll(body, "${"+k+"}", val)
	}
	if cb.BodyType == "" {
		cb.BodyType = "application/x-www-form-urlencoded"
	}
	ctx, cancel := context.WithTimeout(rq.ctx, 5*time.Second)
	defer cancel()
	var lastErr string
	for _, u := range strings.Split(cb.URL, ";") {
		pu, err := parseCallbackURL(strings.TrimSpace(u))
		if err != nil {
			lastErr = "The callback url is not valid."
			continue
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, pu.String(), bytes.NewReader([]byte(body)))
		if err != nil {
			lastErr = "The callback url is not valid."
			continue
		}
		req.Header.Set("Content-Type", cb.BodyType)
		if cb.Host != "" {
			req.Host = cb.Host
		}
		resp, err := h.cbClient.Do(req)
		if err != nil {
			lastErr = "Error status : -1."
			if errors.Is(err, ErrCallbackForbidden) {
				// The name resolved to a forbidden address when dialed
				// (after the check before the upload passed).
				lastErr = "Private address is forbidden to callback."
			}
			continue
		}
		rb, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			lastErr = "Error status : " + strconv.Itoa(resp.StatusCode) + "."
			continue
		}
		rq.w.Header().Set("Content-Type", "application/json")
		rq.w.Header().Set("Content-Length", strconv.Itoa(len(rb)))
		rq.w.WriteHeader(http.StatusOK)
		rq.w.Write(rb)
		return nil
	}
	return callbackFailed(rq, lastErr)
}

// callbackSpec is the decoded x-oss-callback header.
type callbackSpec struct {
	URL      string `json:"callbackUrl"`
	Host     string `json:"callbackHost"`
	Body     string `json:"callbackBody"`
	BodyType string `json:"callbackBodyType"`
}

func parseCallback(rq *request) (*callbackSpec, error) {
	raw, err := base64.StdEncoding.DecodeString(rq.r.Header.Get("x-oss-callback"))
	if err != nil {
		return nil, err
	}
	var cb callbackSpec
	if err := json.Unmarshal(raw, &cb); err != nil {
		return nil, err
	}
	if cb.URL == "" {
		return nil, errors.New("no callbackUrl")
	}
	return &cb, nil
}

// parseCallbackURL parses one URL of callbackUrl; OSS takes one without a
// scheme ("127.0.0.1:8088/cb.php") as http.
func parseCallbackURL(raw string) (*url.URL, error) {
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return nil, errors.New("not an http(s) URL")
	}
	return u, nil
}

func callbackFailed(rq *request, msg string) error {
	return oss.ErrCallbackFailed.WithMessage("%s", msg)
}
