package httpapi

import (
	"encoding/base64"
	"encoding/xml"
	"net/http"
	"strconv"

	"github.com/ossd/ossd/internal/oss"
	"github.com/ossd/ossd/internal/service"
)

func (h *Handler) intArg(rq *request, name string, def, lo, hi int) (int, error) {
	s := rq.q.get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo {
		return 0, oss.ErrInvalidArgument.WithMessage("Argument %s must be an integer between %d and %d.", name, lo, hi).With("ArgumentName", name).With("ArgumentValue", s)
	}
	return min(n, hi), nil
}

// encodingType validates encoding-type and returns the key encoder.
func encodingType(rq *request) (string, func(string) string, error) {
	switch et := rq.q.get("encoding-type"); et {
	case "":
		return "", func(s string) string { return s }, nil
	case "url":
		return et, urlEncode, nil
	default:
		return "", nil, oss.ErrInvalidArgument.WithMessage("The Encoding-Type must be url").With("ArgumentName", "encoding-type").With("ArgumentValue", et)
	}
}

type objectXML struct {
	Key          string    `xml:"Key"`
	LastModified string    `xml:"LastModified"`
	ETag         string    `xml:"ETag"`
	Type         string    `xml:"Type"`
	Size         int64     `xml:"Size"`
	StorageClass string    `xml:"StorageClass"`
	Owner        *ownerXML `xml:"Owner,omitempty"`
}

type prefixXML struct {
	Prefix string `xml:"Prefix"`
}

func (h *Handler) objectEntry(rq *request, v *service.Version, enc func(string) string, owner bool) objectXML {
	o := objectXML{Key: enc(v.Key), LastModified: isoTime(v.Modified), ETag: rq.etag(v.ETag), Type: v.Type, Size: v.Size, StorageClass: rq.class(v.StorageClass)}
	if owner {
		ow := h.owner(v.Owner)
		o.Owner = &ow
	}
	return o
}

// optional is an element OSS always writes and S3 omits when empty
// (Delimiter in listings: S3 clients read its presence as "a delimiter was
// given").
func (rq *request) optional(s string) *string {
	if rq.s3 && s == "" {
		return nil
	}
	return &s
}

func prefixes(ps []string, enc func(string) string) []prefixXML {
	out := make([]prefixXML, 0, len(ps))
	for _, p := range ps {
		out = append(out, prefixXML{enc(p)})
	}
	return out
}

func (h *Handler) listObjects(rq *request) error {
	et, enc, max, err := h.listArgs(rq)
	if err != nil {
		return err
	}
	in := service.ListInput{Bucket: rq.bucket, Prefix: rq.q.get("prefix"), Delimiter: rq.q.get("delimiter"), After: rq.q.get("marker"), MaxKeys: max}
	res, err := h.svc.ListObjects(rq.ctx, in)
	if err != nil {
		return err
	}
	type result struct {
		XMLName        xml.Name    `xml:"ListBucketResult"`
		Name           string      `xml:"Name"`
		Prefix         string      `xml:"Prefix"`
		Marker         string      `xml:"Marker"`
		MaxKeys        int         `xml:"MaxKeys"`
		Delimiter      *string     `xml:"Delimiter"`
		EncodingType   string      `xml:"EncodingType,omitempty"`
		IsTruncated    bool        `xml:"IsTruncated"`
		NextMarker     string      `xml:"NextMarker,omitempty"`
		Contents       []objectXML `xml:"Contents"`
		CommonPrefixes []prefixXML `xml:"CommonPrefixes"`
	}
	out := result{Name: rq.bucket, Prefix: enc(in.Prefix), Marker: enc(in.After), MaxKeys: max, Delimiter: rq.optional(enc(in.Delimiter)),
		EncodingType: et, IsTruncated: res.Truncated, NextMarker: enc(res.NextAfter), CommonPrefixes: prefixes(res.CommonPrefixes, enc)}
	for _, v := range res.Objects {
		out.Contents = append(out.Contents, h.objectEntry(rq, v, enc, true))
	}
	return h.writeXML(rq, http.StatusOK, out)
}

func (h *Handler) listObjectsV2(rq *request) error {
	et, enc, max, err := h.listArgs(rq)
	if err != nil {
		return err
	}
	in := service.ListInput{Bucket: rq.bucket, Prefix: rq.q.get("prefix"), Delimiter: rq.q.get("delimiter"), After: rq.q.get("start-after"), MaxKeys: max}
	token := rq.q.get("continuation-token")
	if token != "" {
		raw, err := base64.StdEncoding.DecodeString(token)
		if err != nil {
			return oss.ErrInvalidArgument.WithMessage("The continuation token provided is incorrect.").With("ArgumentName", "continuation-token").With("ArgumentValue", token)
		}
		if string(raw) > in.After {
			in.After = string(raw)
		}
	}
	res, err := h.svc.ListObjects(rq.ctx, in)
	if err != nil {
		return err
	}
	type result struct {
		XMLName               xml.Name    `xml:"ListBucketResult"`
		Name                  string      `xml:"Name"`
		Prefix                string      `xml:"Prefix"`
		StartAfter            string      `xml:"StartAfter,omitempty"`
		ContinuationToken     *string     `xml:"ContinuationToken"`
		MaxKeys               int         `xml:"MaxKeys"`
		Delimiter             *string     `xml:"Delimiter"`
		EncodingType          string      `xml:"EncodingType,omitempty"`
		IsTruncated           bool        `xml:"IsTruncated"`
		NextContinuationToken string      `xml:"NextContinuationToken,omitempty"`
		KeyCount              int         `xml:"KeyCount"`
		Contents              []objectXML `xml:"Contents"`
		CommonPrefixes        []prefixXML `xml:"CommonPrefixes"`
	}
	out := result{Name: rq.bucket, Prefix: enc(in.Prefix), StartAfter: enc(rq.q.get("start-after")), MaxKeys: max,
		Delimiter: rq.optional(enc(in.Delimiter)), EncodingType: et, IsTruncated: res.Truncated, CommonPrefixes: prefixes(res.CommonPrefixes, enc),
		KeyCount: len(res.Objects) + len(res.CommonPrefixes)}
	if rq.q.has("continuation-token") {
		// Echoed when given, even empty (S3 does; boto3's paginators and
		// s3-tests read it back).
		out.ContinuationToken = &token
	}
	if res.Truncated {
		out.NextContinuationToken = base64.StdEncoding.EncodeToString([]byte(res.NextAfter))
	}
	fetchOwner := rq.q.get("fetch-owner") == "true"
	for _, v := range res.Objects {
		out.Contents = append(out.Contents, h.objectEntry(rq, v, enc, fetchOwner))
	}
	return h.writeXML(rq, http.StatusOK, out)
}

func (h *Handler) listObjectVersions(rq *request) error {
	et, enc, max, err := h.listArgs(rq)
	if err != nil {
		return err
	}
	in := service.ListInput{Bucket: rq.bucket, Prefix: rq.q.get("prefix"), Delimiter: rq.q.get("delimiter"),
		After: rq.q.get("key-marker"), AfterVersion: rq.q.get("version-id-marker"), MaxKeys: max}
	res, err := h.svc.ListVersions(rq.ctx, in)
	if err != nil {
		return err
	}
	type version struct {
		XMLName      xml.Name
		Key          string   `xml:"Key"`
		VersionID    string   `xml:"VersionId"`
		IsLatest     bool     `xml:"IsLatest"`
		LastModified string   `xml:"LastModified"`
		ETag         string   `xml:"ETag,omitempty"`
		Type         string   `xml:"Type,omitempty"`
		Size         *int64   `xml:"Size,omitempty"`
		StorageClass string   `xml:"StorageClass,omitempty"`
		Owner        ownerXML `xml:"Owner"`
	}
	type result struct {
		XMLName             xml.Name    `xml:"ListVersionsResult"`
		Name                string      `xml:"Name"`
		Prefix              string      `xml:"Prefix"`
		KeyMarker           string      `xml:"KeyMarker"`
		VersionIDMarker     string      `xml:"VersionIdMarker"`
		MaxKeys             int         `xml:"MaxKeys"`
		Delimiter           *string     `xml:"Delimiter"`
		EncodingType        string      `xml:"EncodingType,omitempty"`
		IsTruncated         bool        `xml:"IsTruncated"`
		NextKeyMarker       string      `xml:"NextKeyMarker,omitempty"`
		NextVersionIDMarker string      `xml:"NextVersionIdMarker,omitempty"`
		Entries             []version   `xml:",any"`
		CommonPrefixes      []prefixXML `xml:"CommonPrefixes"`
	}
	out := result{Name: rq.bucket, Prefix: enc(in.Prefix), KeyMarker: enc(in.After), VersionIDMarker: in.AfterVersion, MaxKeys: max,
		Delimiter: rq.optional(enc(in.Delimiter)), EncodingType: et, IsTruncated: res.Truncated, CommonPrefixes: prefixes(res.CommonPrefixes, enc)}
	if res.Truncated {
		out.NextKeyMarker, out.NextVersionIDMarker = enc(res.NextAfter), res.NextAfterVersion
	}
	prev := ""
	for i, v := range res.Objects {
		latest := v.Key != prev
		if i == 0 && in.After == v.Key {
			latest = false
		}
		prev = v.Key
		e := version{Key: enc(v.Key), VersionID: v.VersionID, IsLatest: latest, LastModified: isoTime(v.Modified), Owner: h.owner(v.Owner)}
		if v.DeleteMarker {
			e.XMLName.Local = "DeleteMarker"
		} else {
			e.XMLName.Local = "Version"
			size := v.Size
			e.ETag, e.Type, e.Size, e.StorageClass = rq.etag(v.ETag), v.Type, &size, rq.class(v.StorageClass)
		}
		out.Entries = append(out.Entries, e)
	}
	return h.writeXML(rq, http.StatusOK, out)
}

func (h *Handler) listMultipartUploads(rq *request) error {
	et, enc, err := encodingType(rq)
	if err != nil {
		return err
	}
	max, err := h.intArg(rq, "max-uploads", 1000, 1, 1000)
	if err != nil {
		return err
	}
	in := service.UploadsInput{Bucket: rq.bucket, Prefix: rq.q.get("prefix"), Delimiter: rq.q.get("delimiter"),
		KeyMarker: rq.q.get("key-marker"), UploadIDMarker: rq.q.get("upload-id-marker"), MaxUploads: max}
	res, err := h.svc.ListUploads(rq.ctx, in)
	if err != nil {
		return err
	}
	type upload struct {
		Key      string `xml:"Key"`
		UploadID string `xml:"UploadId"`
		// S3 names who started the upload and who will own the object;
		// OSS's listing has neither.
		Initiator    *ownerXML `xml:"Initiator"`
		Owner        *ownerXML `xml:"Owner"`
		StorageClass string    `xml:"StorageClass,omitempty"`
		Initiated    string    `xml:"Initiated"`
	}
	type result struct {
		XMLName            xml.Name    `xml:"ListMultipartUploadsResult"`
		Bucket             string      `xml:"Bucket"`
		KeyMarker          string      `xml:"KeyMarker"`
		UploadIDMarker     string      `xml:"UploadIdMarker"`
		NextKeyMarker      string      `xml:"NextKeyMarker"`
		NextUploadIDMarker string      `xml:"NextUploadIdMarker"`
		Delimiter          *string     `xml:"Delimiter"`
		Prefix             string      `xml:"Prefix"`
		EncodingType       string      `xml:"EncodingType,omitempty"`
		MaxUploads         int         `xml:"MaxUploads"`
		IsTruncated        bool        `xml:"IsTruncated"`
		Uploads            []upload    `xml:"Upload"`
		CommonPrefixes     []prefixXML `xml:"CommonPrefixes"`
	}
	out := result{Bucket: rq.bucket, KeyMarker: enc(in.KeyMarker), UploadIDMarker: in.UploadIDMarker, Delimiter: rq.optional(enc(in.Delimiter)),
		Prefix: enc(in.Prefix), EncodingType: et, MaxUploads: max, IsTruncated: res.Truncated, CommonPrefixes: prefixes(res.CommonPrefixes, enc)}
	if res.Truncated {
		out.NextKeyMarker, out.NextUploadIDMarker = enc(res.NextKeyMarker), res.NextUploadIDMarker
	}
	for _, u := range res.Uploads {
		e := upload{Key: enc(u.Key), UploadID: u.UploadID, Initiated: isoTime(u.Initiated)}
		if rq.s3 {
			o := h.owner(u.Template.Owner)
			e.Initiator, e.Owner, e.StorageClass = &o, &o, rq.class(u.Template.StorageClass)
		}
		out.Uploads = append(out.Uploads, e)
	}
	return h.writeXML(rq, http.StatusOK, out)
}

// listArgs reads encoding-type and max-keys, shared by the object listings.
func (h *Handler) listArgs(rq *request) (string, func(string) string, int, error) {
	et, enc, err := encodingType(rq)
	if err != nil {
		return "", nil, 0, err
	}
	if !rq.s3 {
		// OSS bounds the listing arguments at 1024 bytes (a key is at most
		// 1023): oss2's test_list_object_versions_wrong expects longer ones
		// refused.
		for _, name := range []string{"prefix", "delimiter", "marker", "key-marker", "version-id-marker", "start-after"} {
			if v := rq.q.get(name); len(v) > maxListArg {
				return "", nil, 0, oss.ErrInvalidArgument.WithMessage("Argument %s is longer than %d bytes.", name, maxListArg).With("ArgumentName", name)
			}
		}
		// S3 caps max-keys at 1000; OSS refuses more (the same test).
		if n, err := strconv.Atoi(rq.q.get("max-keys")); err == nil && n > 1000 {
			return "", nil, 0, oss.ErrInvalidArgument.WithMessage("Argument max-keys must be an integer between 0 and 1000.").With("ArgumentName", "max-keys").With("ArgumentValue", rq.q.get("max-keys"))
		}
	}
	max, err := h.intArg(rq, "max-keys", rq.defaultMaxKeys(), 0, 1000)
	return et, enc, max, err
}

// maxListArg is the longest prefix, delimiter or marker OSS accepts.
const maxListArg = 1024

// defaultMaxKeys: OSS lists 100 keys a page unless asked, S3 1000.
func (rq *request) defaultMaxKeys() int {
	if rq.s3 {
		return 1000
	}
	return 100
}
