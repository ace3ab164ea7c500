package httpapi

import (
	"encoding/xml"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/ossd/ossd/internal/auth"
	"github.com/ossd/ossd/internal/oss"
	"github.com/ossd/ossd/internal/service"
)

// Limits on the form fields before the file: S3 and OSS cap the form's
// fields at a few tens of KiB; these keep a hostile form from buffering
// more than that.
const (
	maxPostField  = 64 << 10
	maxPostFields = 256
)

// postFieldHeaders maps form fields (lower-case) to the request headers
// the object template is built from: the form stands in for the headers
// of a PutObject.
var postFieldHeaders = map[string]string{
	"content-type": "Content-Type", "cache-control": "Cache-Control", "content-disposition": "Content-Disposition",
	"content-encoding": "Content-Encoding", "content-language": "Content-Language", "expires": "Expires",
	"acl": "x-oss-object-acl", "x-oss-object-acl": "x-oss-object-acl",
	"x-amz-storage-class": "x-oss-storage-class", "x-oss-storage-class": "x-oss-storage-class",
	"x-oss-forbid-overwrite": "x-oss-forbid-overwrite", "x-oss-tagging": "x-oss-tagging",
	"x-amz-server-side-encryption": "x-oss-server-side-encryption", "x-oss-server-side-encryption": "x-oss-server-side-encryption",
}

// postObject serves PostObject, the browser form upload (POST /bucket with
// multipart/form-data), in OSS's form (OSSAccessKeyId, Signature or the
// x-oss-* V4 fields) and S3's (AWSAccessKeyId, signature or the x-amz-* V4
// fields). The fields before the file carry the key, the policy and its
// signature, and what PutObject takes as headers; the file's bytes are
// streamed into the object as they arrive; fields after it are ignored.
// A form signed with an AWS key is answered in S3's dialect.
func (h *Handler) postObject(rq *request) error {
	mt, params, err := mime.ParseMediaType(rq.r.Header.Get("Content-Type"))
	if err != nil || !strings.EqualFold(mt, "multipart/form-data") || params["boundary"] == "" {
		return oss.ErrInvalidArgument.WithMessage("POST requires a multipart/form-data body.").With("ArgumentName", "Content-Type")
	}
	mr := multipart.NewReader(rq.r.Body, params["boundary"])
	fields := map[string]string{}
	vars := map[string]string{} // "x:" fields, as named: callback variables
	var file *multipart.Part
	for file == nil {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return oss.ErrInvalidArgument.WithMessage("The multipart/form-data body is malformed.")
		}
		name := strings.ToLower(part.FormName())
		if name == "file" {
			file = part
			break
		}
		val, err := io.ReadAll(io.LimitReader(part, maxPostField+1))
		if err != nil {
			return oss.ErrInvalidArgument.WithMessage("The multipart/form-data body is malformed.")
		}
		if len(val) > maxPostField || len(fields) >= maxPostFields {
			return oss.ErrMaxMessageLengthExceeded.WithMessage("The form's fields are too large.")
		}
		if _, dup := fields[name]; !dup && name != "" {
			fields[name] = string(val)
			if strings.HasPrefix(name, "x:") {
				vars[part.FormName()] = string(val)
			}
		}
	}
	res, aerr := auth.VerifyPost(fields, h.cfg.Region, h.lookupSecret)
	if res.Version == auth.VersionAWS2 || res.Version == auth.VersionAWS4 || fields["awsaccesskeyid"] != "" || fields["x-amz-credential"] != "" {
		rq.s3 = true
	}
	if aerr != nil {
		return aerr
	}
	if file == nil {
		return oss.ErrInvalidArgument.WithMessage("POST requires exactly one file upload per request.").With("ArgumentName", "file")
	}
	key, ok := fields["key"]
	if !ok || key == "" {
		return oss.ErrInvalidArgument.WithMessage("Bucket POST must contain a field named 'key'.").With("ArgumentName", "key")
	}
	fields["key"] = strings.ReplaceAll(key, "${filename}", file.FileName())
	rq.key = fields["key"]
	rq.entry.Key = rq.key
	if err := oss.CheckKey(rq.key); err != nil {
		return err
	}
	minSize, maxSize := int64(0), int64(-1)
	if res.AccessKeyID != "" {
		_, acct, _ := h.cfg.Accounts.Lookup(res.AccessKeyID)
		rq.p = service.Principal{Account: acct, AccessKeyID: res.AccessKeyID}
		rq.entry.AccessKeyID, rq.entry.RequesterID = res.AccessKeyID, acct.ID
		policy, err := service.ParsePostPolicy(fields["policy"])
		if err != nil {
			return err
		}
		if err := policy.Check(h.cfg.Now(), rq.bucket, fields, rq.s3); err != nil {
			return err
		}
		minSize, maxSize = policy.MinSize, policy.MaxSize
	}
	// The key is known only now, from the form: a bucket policy sees it.
	rq.ctx = service.WithRequest(rq.ctx, policyRequest(rq))
	if err := h.svc.Authorize(rq.ctx, rq.p, service.AccessWrite, rq.b, ""); err != nil {
		return err
	}

	// The form stands in for PutObject's headers from here on.
	hdr := http.Header{}
	for name, v := range fields {
		switch {
		case strings.HasPrefix(name, "x-amz-meta-"):
			hdr.Set("x-oss-meta-"+name[len("x-amz-meta-"):], v)
		case strings.HasPrefix(name, "x-oss-meta-"), strings.HasPrefix(name, "x-amz-checksum-") && rq.s3:
			hdr.Set(name, v)
		case postFieldHeaders[name] != "":
			hdr.Set(postFieldHeaders[name], v)
		}
	}
	// OSS's upload callback: the callback field is PutObject's
	// x-oss-callback, and the "x:" fields are its custom variables
	// (callback-var's in a PutObject). S3's forms have none.
	callback := !rq.s3 && fields["callback"] != ""
	if callback {
		hdr.Set("x-oss-callback", fields["callback"])
		rq.callbackVars = vars
	}
	rq.r.Header = hdr
	if callback {
		// Refused before a byte is stored, as PutObject's.
		if err := h.checkCallbackURLs(rq); err != nil {
			return err
		}
	}
	tmpl, err := h.template(rq)
	if err != nil {
		return err
	}
	if t, ok := fields["tagging"]; ok {
		if tmpl.Tags, err = postTags(t, rq.s3); err != nil {
			return err
		}
	}
	rq.r.Body = io.NopCloser(&sizeRange{r: file, min: minSize, max: maxSize})
	if rq.s3 {
		// An x-amz-checksum-* field is checked as its header would be.
		if err := wrapChecksum(rq, nil); err != nil {
			return err
		}
	}
	w, err := h.svc.PutObject(rq.ctx, service.PutInput{
		Bucket: rq.bucket, Key: rq.key, Body: rq.r.Body, Size: -1,
		Template: tmpl, Cond: writeCondition(rq),
	})
	if err != nil {
		return err
	}
	v := w.Version
	rq.entry.ObjectSize = v.Size
	rq.entry.DeltaDataSize = logDelta(w.Delta)
	out := rq.w.Header()
	out.Set("ETag", rq.etag(v.ETag))
	setVersionID(rq, v.VersionID)
	if callback {
		// The callback server's answer is the reply (or 203
		// CallbackFailed, the object kept), whatever
		// success_action_status says: OSS answers so.
		return h.runCallback(rq, v)
	}
	return h.postAnswer(rq, fields, v)
}

// postAnswer is the reply to a stored form upload: a redirect when the
// form names one (success_action_redirect, or S3's older "redirect"), an
// empty 200, a 201 with a PostResponse document, or by default an empty
// 204 (success_action_status other than 200 and 201 counts as 204).
func (h *Handler) postAnswer(rq *request, fields map[string]string, v *service.Version) error {
	target := fields["success_action_redirect"]
	if target == "" {
		target = fields["redirect"]
	}
	if u, err := url.Parse(target); target != "" && err == nil && (u.Scheme == "http" || u.Scheme == "https") {
		// bucket, key and etag are appended in that order, as S3 does.
		add := "bucket=" + url.QueryEscape(rq.bucket) + "&key=" + url.QueryEscape(rq.key) + "&etag=" + url.QueryEscape(rq.etag(v.ETag))
		if u.RawQuery != "" {
			add = "&" + add
		}
		u.RawQuery += add
		rq.w.Header().Set("Location", u.String())
		return writeEmpty(rq, http.StatusSeeOther)
	}
	switch fields["success_action_status"] {
	case "200":
		return writeEmpty(rq, http.StatusOK)
	case "201":
		type postResponse struct {
			XMLName  xml.Name `xml:"PostResponse"`
			Location string   `xml:"Location"`
			Bucket   string   `xml:"Bucket"`
			Key      string   `xml:"Key"`
			ETag     string   `xml:"ETag"`
		}
		loc := "http://" + rq.r.Host + "/" + rq.bucket + "/" + url.PathEscape(rq.key)
		return h.writeXML(rq, http.StatusCreated, postResponse{Location: loc, Bucket: rq.bucket, Key: rq.key, ETag: rq.etag(v.ETag)})
	}
	return writeEmpty(rq, http.StatusNoContent)
}

// postTags reads a form's tagging field: a Tagging document, as S3's
// form takes it.
func postTags(doc string, s3 bool) ([]service.Tag, error) {
	var t taggingXML
	if err := xml.Unmarshal([]byte(doc), &t); err != nil {
		return nil, oss.ErrMalformedXML
	}
	tags := make([]service.Tag, 0, len(t.Tags))
	for _, tg := range t.Tags {
		tags = append(tags, service.Tag{Key: tg.Key, Value: tg.Value})
	}
	if len(tags) > 10 {
		return nil, oss.ErrS3InvalidTag.WithMessage("The number of tags exceeds the limit of 10.")
	}
	return tags, service.CheckObjectTags(tags, s3)
}

// sizeRange enforces a policy's content-length-range on the file as it is
// read: past max the read fails with EntityTooLarge, and an end below min
// with EntityTooSmall, so nothing is stored either way.
type sizeRange struct {
	r        io.Reader
	n        int64
	min, max int64 // max < 0: no upper bound
}

func (s *sizeRange) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.n += int64(n)
	if s.max >= 0 && s.n > s.max {
		return n, oss.ErrEntityTooLarge.WithMessage("Your proposed upload exceeds the maximum allowed size (%s bytes).", strconv.FormatInt(s.max, 10))
	}
	if errors.Is(err, io.EOF) && s.n < s.min {
		return n, oss.ErrEntityTooSmall.WithMessage("Your proposed upload is smaller than the minimum allowed size (%s bytes).", strconv.FormatInt(s.min, 10))
	}
	return n, err
}
