package httpapi

import (
	"encoding/base64"
	"encoding/xml"
	"net/http"
	"strconv"
	"strings"

	"github.com/ossd/ossd/internal/oss"
	"github.com/ossd/ossd/internal/service"
)

func (h *Handler) initiateMultipartUpload(rq *request) error {
	tmpl, err := h.template(rq)
	if err != nil {
		return err
	}
	// OSS's "sequential" asks for the whole object's MD5 at completion.
	u, err := h.svc.Initiate(rq.ctx, rq.bucket, rq.key, tmpl, !rq.s3 && rq.q.has("sequential"))
	if err != nil {
		return err
	}
	et, enc, err := encodingType(rq)
	if err != nil {
		return err
	}
	type result struct {
		XMLName      xml.Name `xml:"InitiateMultipartUploadResult"`
		Bucket       string   `xml:"Bucket"`
		Key          string   `xml:"Key"`
		UploadID     string   `xml:"UploadId"`
		EncodingType string   `xml:"EncodingType,omitempty"`
	}
	return h.writeXML(rq, http.StatusOK, result{Bucket: rq.bucket, Key: enc(rq.key), UploadID: u.UploadID, EncodingType: et})
}

func (h *Handler) partArgs(rq *request) (int, error) {
	s := rq.q.get("partNumber")
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > service.MaxPartNum {
		return 0, oss.ErrInvalidArgument.WithMessage("Part number must be an integer between 1 and 10000, inclusive.").With("ArgumentName", "partNumber").With("ArgumentValue", s)
	}
	return n, nil
}

func (h *Handler) uploadPart(rq *request) error {
	n, err := h.partArgs(rq)
	if err != nil {
		return err
	}
	if rq.r.ContentLength > service.MaxPutSize {
		return oss.ErrEntityTooLarge
	}
	md5sum, crc, err := digests(rq.r)
	if err != nil {
		return err
	}
	p, err := h.svc.UploadPart(rq.ctx, service.PartInput{Bucket: rq.bucket, Key: rq.key, UploadID: rq.q.get("uploadId"), Number: n,
		Body: rq.r.Body, Size: bodySize(rq.r), ContentMD5: md5sum, CRC64: crc})
	if err != nil {
		return err
	}
	rq.entry.ObjectSize = p.Size
	rq.entry.DeltaDataSize = logDelta(p.Size)
	rq.w.Header().Set("ETag", rq.etag(p.ETag))
	rq.w.Header().Set("x-oss-hash-crc64ecma", strconv.FormatUint(p.CRC64, 10))
	if raw, err := hexDecode(p.ETag); err == nil {
		rq.w.Header().Set("Content-MD5", base64.StdEncoding.EncodeToString(raw))
	}
	if cb, ok := rq.r.Body.(*checksumBody); ok {
		rq.w.Header().Set(cb.header, cb.value()) // S3 echoes a part's checksum
	}
	return writeEmpty(rq, http.StatusOK)
}

func (h *Handler) uploadPartCopy(rq *request) error { return h.retryVanished(rq, h.uploadPartCopyOnce) }

func (h *Handler) uploadPartCopyOnce(rq *request) error {
	n, err := h.partArgs(rq)
	if err != nil {
		return err
	}
	srcBucket, src, err := h.copySource(rq)
	if err != nil {
		return err
	}
	off, size := int64(0), src.Size
	if s := rq.r.Header.Get("x-oss-copy-source-range"); s != "" && rq.s3 {
		if off, size, err = parseS3CopyRange(s, src.Size); err != nil {
			return err
		}
	} else if s != "" {
		o, l, ok, rerr := parseRange(s, src.Size, true)
		if rerr != nil {
			return rerr
		}
		if ok {
			off, size = o, l
		}
	}
	p, err := h.svc.CopyPart(rq.ctx, service.CopyInput{Source: src, SrcBucket: srcBucket, Off: off, N: size},
		service.PartInput{Bucket: rq.bucket, Key: rq.key, UploadID: rq.q.get("uploadId"), Number: n})
	if err != nil {
		return err
	}
	rq.entry.ObjectSize = p.Size
	if src.VersionID != "null" || rq.srcVersioned {
		rq.w.Header().Set("x-oss-copy-source-version-id", src.VersionID)
	}
	setResultETag(rq, p.ETag)
	type result struct {
		XMLName      xml.Name `xml:"CopyPartResult"`
		LastModified string   `xml:"LastModified"`
		ETag         string   `xml:"ETag"`
	}
	return h.writeXML(rq, http.StatusOK, result{LastModified: isoTime(p.Modified), ETag: rq.etag(p.ETag)})
}

func (h *Handler) completeMultipartUpload(rq *request) error {
	all := strings.EqualFold(rq.r.Header.Get("x-oss-complete-all"), "yes")
	body, err := h.readBody(rq)
	if err != nil {
		return err
	}
	var list []service.CompletePart
	if all {
		if len(strings.TrimSpace(string(body))) > 0 {
			return oss.ErrInvalidArgument.WithMessage("Should not speficy both complete all header and http body.").WithEC("0042-00000216")
		}
	} else {
		var req struct {
			Parts []struct {
				PartNumber int    `xml:"PartNumber"`
				ETag       string `xml:"ETag"`
			} `xml:"Part"`
		}
		if err := unmarshalRoot(body, "CompleteMultipartUpload", &req); err != nil {
			return oss.ErrMalformedXML
		}
		for _, p := range req.Parts {
			list = append(list, service.CompletePart{Number: p.PartNumber, ETag: p.ETag})
		}
		if len(list) == 0 && rq.s3 {
			// S3 wants at least one part; OSS completes an empty object.
			return oss.ErrMalformedXML
		}
	}
	acl := rq.r.Header.Get("x-oss-object-acl")
	if acl != "" && !service.ValidObjectACL(acl) {
		return oss.ErrInvalidArgument.WithMessage("no such object access control exists").With("ArgumentName", "x-oss-object-acl").With("ArgumentValue", acl)
	}
	if err := h.svc.AllowObjectACL(rq.ctx, rq.b, acl); err != nil {
		return err
	}
	if rq.r.Header.Get("x-oss-callback") != "" {
		if err := h.checkCallbackURLs(rq); err != nil {
			return err
		}
	}
	w, err := h.svc.Complete(rq.ctx, rq.bucket, rq.key, rq.q.get("uploadId"), list, all, writeCondition(rq), acl)
	if err != nil {
		return err
	}
	v := w.Version
	rq.entry.ObjectSize = v.Size
	hdr := rq.w.Header()
	hdr.Set("x-oss-hash-crc64ecma", strconv.FormatUint(v.CRC64, 10))
	setVersionID(rq, v.VersionID)
	setResultETag(rq, v.ETag)
	if rq.r.Header.Get("x-oss-callback") != "" {
		return h.runCallback(rq, v)
	}
	et, enc, err := encodingType(rq)
	if err != nil {
		return err
	}
	type result struct {
		XMLName      xml.Name `xml:"CompleteMultipartUploadResult"`
		EncodingType string   `xml:"EncodingType,omitempty"`
		Location     string   `xml:"Location"`
		Bucket       string   `xml:"Bucket"`
		Key          string   `xml:"Key"`
		ETag         string   `xml:"ETag"`
	}
	loc := "http://" + h.endpoint(rq) + "/" + rq.bucket + "/" + rq.key
	return h.writeXML(rq, http.StatusOK, result{EncodingType: et, Location: loc, Bucket: rq.bucket, Key: enc(rq.key), ETag: rq.etag(v.ETag)})
}

func (h *Handler) abortMultipartUpload(rq *request) error {
	if err := h.svc.Abort(rq.ctx, rq.bucket, rq.key, rq.q.get("uploadId")); err != nil {
		return err
	}
	return writeEmpty(rq, http.StatusNoContent)
}

func (h *Handler) listParts(rq *request) error {
	marker, err := h.intArg(rq, "part-number-marker", 0, 0, service.MaxPartNum)
	if err != nil {
		return err
	}
	max, err := h.intArg(rq, "max-parts", 1000, 1, 1000)
	if err != nil {
		return err
	}
	et, enc, err := encodingType(rq)
	if err != nil {
		return err
	}
	u, parts, truncated, err := h.svc.ListParts(rq.ctx, rq.bucket, rq.key, rq.q.get("uploadId"), marker, max)
	if err != nil {
		return err
	}
	type part struct {
		PartNumber   int    `xml:"PartNumber"`
		LastModified string `xml:"LastModified"`
		ETag         string `xml:"ETag"`
		Size         int64  `xml:"Size"`
		CRC64        string `xml:"HashCrc64ecma"`
	}
	type result struct {
		XMLName              xml.Name `xml:"ListPartsResult"`
		Bucket               string   `xml:"Bucket"`
		Key                  string   `xml:"Key"`
		UploadID             string   `xml:"UploadId"`
		StorageClass         string   `xml:"StorageClass"`
		PartNumberMarker     int      `xml:"PartNumberMarker"`
		NextPartNumberMarker int      `xml:"NextPartNumberMarker"`
		MaxParts             int      `xml:"MaxParts"`
		IsTruncated          bool     `xml:"IsTruncated"`
		EncodingType         string   `xml:"EncodingType,omitempty"`
		Parts                []part   `xml:"Part"`
	}
	out := result{Bucket: rq.bucket, Key: enc(rq.key), UploadID: u.UploadID, StorageClass: rq.class(u.Template.StorageClass),
		PartNumberMarker: marker, MaxParts: max, IsTruncated: truncated, EncodingType: et}
	for _, p := range parts {
		out.Parts = append(out.Parts, part{p.Number, isoTime(p.Modified), rq.etag(p.ETag), p.Size, strconv.FormatUint(p.CRC64, 10)})
		out.NextPartNumberMarker = p.Number
	}
	return h.writeXML(rq, http.StatusOK, out)
}

// parseS3CopyRange reads x-amz-copy-source-range as S3 does: exactly
// bytes=first-last, both within the source. Unlike OSS's own header (a
// malformed range copies the whole source), S3 refuses anything else.
func parseS3CopyRange(s string, size int64) (off, n int64, err error) {
	a, b, found := strings.Cut(strings.TrimPrefix(s, "bytes="), "-")
	first, firstOK := parseDigits(a)
	last, lastOK := parseDigits(b)
	if !strings.HasPrefix(s, "bytes=") || !found || !firstOK || !lastOK || last < first {
		return 0, 0, oss.ErrInvalidArgument.WithMessage("The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy").
			With("ArgumentName", "x-amz-copy-source-range").With("ArgumentValue", s)
	}
	if last >= size {
		return 0, 0, oss.ErrInvalidArgument.WithMessage("Range specified is not valid for source object of size: %d", size)
	}
	return first, last - first + 1, nil
}
