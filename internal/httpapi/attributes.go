package httpapi

import (
	"encoding/xml"
	"net/http"
	"strconv"
	"strings"

	"github.com/ossd/ossd/internal/oss"
	"github.com/ossd/ossd/internal/service"
)

// getObjectAttributes serves S3's GetObjectAttributes (GET ?attributes):
// the attributes named in x-amz-object-attributes (ETag, Checksum,
// ObjectParts, StorageClass, ObjectSize) of an object, without its bytes.
// ObjectParts lists a multipart object's parts (their sizes, from the
// completed object's extents), paged by x-amz-max-parts and
// x-amz-part-number-marker; other objects have none.
func (h *Handler) getObjectAttributes(rq *request) error {
	want := map[string]bool{}
	for _, a := range headerList(rq.r.Header.Values("x-amz-object-attributes")) {
		want[a] = true
	}
	if len(want) == 0 {
		return oss.ErrInvalidArgument.WithMessage("The x-amz-object-attributes header specifying the attributes to be retrieved is either missing or empty.").With("ArgumentName", "x-amz-object-attributes")
	}
	maxParts, marker := 1000, 0
	for name, dst := range map[string]*int{"x-amz-max-parts": &maxParts, "x-amz-part-number-marker": &marker} {
		if s := rq.r.Header.Get(name); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 0 {
				return oss.ErrInvalidArgument.WithMessage("Invalid %s: %s.", name, s).With("ArgumentName", name)
			}
			*dst = n
		}
	}
	v, err := h.readable(rq)
	if err != nil {
		return err
	}
	type part struct {
		PartNumber int   `xml:"PartNumber"`
		Size       int64 `xml:"Size"`
	}
	type parts struct {
		PartsCount           int    `xml:"PartsCount"`
		PartNumberMarker     int    `xml:"PartNumberMarker"`
		NextPartNumberMarker int    `xml:"NextPartNumberMarker,omitempty"`
		MaxParts             int    `xml:"MaxParts"`
		IsTruncated          bool   `xml:"IsTruncated"`
		Parts                []part `xml:"Part"`
	}
	type checksum struct {
		CRC32     string `xml:"ChecksumCRC32,omitempty"`
		CRC32C    string `xml:"ChecksumCRC32C,omitempty"`
		CRC64NVME string `xml:"ChecksumCRC64NVME,omitempty"`
		SHA1      string `xml:"ChecksumSHA1,omitempty"`
		SHA256    string `xml:"ChecksumSHA256,omitempty"`
	}
	type result struct {
		XMLName      xml.Name  `xml:"GetObjectAttributesResponse"`
		ETag         string    `xml:"ETag,omitempty"`
		Checksum     *checksum `xml:"Checksum"`
		ObjectParts  *parts    `xml:"ObjectParts"`
		StorageClass string    `xml:"StorageClass,omitempty"`
		ObjectSize   *int64    `xml:"ObjectSize"`
	}
	var out result
	if want["ETag"] {
		out.ETag = strings.Trim(rq.etag(v.ETag), `"`) // S3 sends it unquoted here
	}
	if want["StorageClass"] {
		out.StorageClass = rq.class(v.StorageClass)
	}
	if want["ObjectSize"] {
		size := v.Size
		out.ObjectSize = &size
	}
	if want["Checksum"] {
		c := checksum{CRC32: v.Headers["x-amz-checksum-crc32"], CRC32C: v.Headers["x-amz-checksum-crc32c"],
			CRC64NVME: v.Headers["x-amz-checksum-crc64nvme"], SHA1: v.Headers["x-amz-checksum-sha1"], SHA256: v.Headers["x-amz-checksum-sha256"]}
		if c != (checksum{}) {
			out.Checksum = &c
		}
	}
	if want["ObjectParts"] && v.Type == service.TypeMultipart && len(v.Extents) > 0 {
		p := parts{PartsCount: len(v.Extents), PartNumberMarker: marker, MaxParts: maxParts, Parts: []part{}}
		for i := marker; i < len(v.Extents); i++ {
			if len(p.Parts) == maxParts {
				p.IsTruncated = true
				break
			}
			p.Parts = append(p.Parts, part{PartNumber: i + 1, Size: v.Extents[i].Size})
			p.NextPartNumberMarker = i + 1
		}
		out.ObjectParts = &p
	}
	rq.w.Header().Set("Last-Modified", v.Modified.UTC().Format(http.TimeFormat))
	setVersionID(rq, v.VersionID)
	return h.writeXML(rq, http.StatusOK, out)
}
