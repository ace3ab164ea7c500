package httpapi

import (
	"encoding/xml"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/ossd/ossd/internal/oss"
	"github.com/ossd/ossd/internal/service"
)

// endpoint is the host clients use to reach this server (the request's
// Host without the bucket label), reported as Extranet/IntranetEndpoint so
// SDKs that follow those fields come back here.
func (h *Handler) endpoint(rq *request) string {
	host := rq.r.Host
	if b := h.hostBucket(host); b != "" {
		host = host[len(b)+1:]
	}
	return host
}

var taggingFilter = regexp.MustCompile(`^"([^"]*)"\s*:\s*"([^"]*)"$`)

func location(region string) string { return "oss-" + region }

type bucketXML struct {
	Name             string `xml:"Name"`
	Location         string `xml:"Location"`
	CreationDate     string `xml:"CreationDate"`
	StorageClass     string `xml:"StorageClass"`
	ExtranetEndpoint string `xml:"ExtranetEndpoint"`
	IntranetEndpoint string `xml:"IntranetEndpoint"`
	Region           string `xml:"Region"`
	ResourceGroupID  string `xml:"ResourceGroupId,omitempty"`
}

func (h *Handler) listBuckets(rq *request) error {
	if rq.p.Anonymous() {
		return oss.ErrAccessDenied.WithMessage("AccessDenied")
	}
	// S3 pages with max-buckets and an opaque continuation-token, OSS with
	// max-keys and marker; the token ossd hands out is the last name sent.
	maxName, markerName, max, limit := "max-keys", "marker", 100, 1000
	if rq.s3 {
		maxName, markerName, max, limit = "max-buckets", "continuation-token", 10000, 10000
	}
	if s := rq.q.get(maxName); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > limit {
			return oss.ErrInvalidArgument.WithMessage("Argument %s must be an integer between 1 and %d.", maxName, limit).With("ArgumentName", maxName).With("ArgumentValue", s)
		}
		max = n
	}
	in := service.ListBucketsInput{Owner: rq.p.ID, Prefix: rq.q.get("prefix"), Marker: rq.q.get(markerName), MaxKeys: max,
		TagKey: rq.q.get("tag-key"), TagValue: rq.q.get("tag-value")}
	if rg := rq.r.Header.Get("x-oss-resource-group-id"); rg != "" && !rq.s3 {
		// The buckets of one resource group, each naming it (oss2's
		// test_bucket_with_group_id).
		in.ResourceGroup = rg
	}
	if rq.q.has("regionList") {
		// The buckets of the endpoint's region only (oss2's
		// list_buckets(params={'regionList': ''})).
		in.Region = h.cfg.Region
	}
	if t := rq.q.get("tagging"); t != "" {
		// tagging="key":"value", the form the SDKs send.
		m := taggingFilter.FindStringSubmatch(t)
		if m == nil {
			return oss.ErrInvalidArgument.WithMessage("The tagging filter is invalid.").With("ArgumentName", "tagging").With("ArgumentValue", t)
		}
		in.TagKey, in.TagValue = m[1], m[2]
	}
	bs, truncated, err := h.svc.ListBuckets(rq.ctx, in)
	if err != nil {
		return err
	}
	type result struct {
		XMLName     xml.Name `xml:"ListAllMyBucketsResult"`
		Prefix      string   `xml:"Prefix,omitempty"`
		Marker      string   `xml:"Marker,omitempty"`
		MaxKeys     int      `xml:"MaxKeys,omitempty"`
		IsTruncated *bool    `xml:"IsTruncated,omitempty"`
		NextMarker  string   `xml:"NextMarker,omitempty"`
		// ContinuationToken is S3's: the token of the next page.
		ContinuationToken string      `xml:"ContinuationToken,omitempty"`
		Owner             ownerXML    `xml:"Owner"`
		Buckets           []bucketXML `xml:"Buckets>Bucket"`
	}
	res := result{Prefix: in.Prefix, Marker: in.Marker, Owner: ownerXML{rq.p.ID, rq.p.DisplayName}}
	switch {
	case rq.s3:
		// S3 names the next page's token ContinuationToken, present only
		// when more buckets follow.
		res.Marker = ""
		if truncated && len(bs) > 0 {
			res.ContinuationToken = bs[len(bs)-1].Name
		}
	case rq.q.has("max-keys") || rq.q.has("marker") || rq.q.has("prefix"):
		res.MaxKeys = max
		res.IsTruncated = &truncated
		if truncated && len(bs) > 0 {
			res.NextMarker = bs[len(bs)-1].Name
		}
	}
	ep := h.endpoint(rq)
	for _, b := range bs {
		rg := b.ResourceGroup
		if in.ResourceGroup != "" {
			rg = in.ResourceGroup
		}
		res.Buckets = append(res.Buckets, bucketXML{
			Name: b.Name, Location: location(b.Region), CreationDate: isoTime(b.Created), StorageClass: rq.class(b.StorageClass),
			ExtranetEndpoint: ep, IntranetEndpoint: ep, Region: b.Region, ResourceGroupID: rg,
		})
	}
	return h.writeXML(rq, http.StatusOK, res)
}

// describeRegions answers DescribeRegions (GET /?regions[=oss-<region>])
// with the one region this server is: its OSS endpoints, as OSS names them.
func (h *Handler) describeRegions(rq *request) error {
	if rq.p.Anonymous() {
		return oss.ErrAccessDenied.WithMessage("AccessDenied")
	}
	region := location(h.cfg.Region)
	if want := rq.q.get("regions"); want != "" && want != region {
		return oss.ErrNoSuchRegion.With("Region", want)
	}
	type regionInfo struct {
		Region             string `xml:"Region"`
		InternetEndpoint   string `xml:"InternetEndpoint"`
		InternalEndpoint   string `xml:"InternalEndpoint"`
		AccelerateEndpoint string `xml:"AccelerateEndpoint"`
	}
	type result struct {
		XMLName xml.Name     `xml:"RegionInfoList"`
		Regions []regionInfo `xml:"RegionInfo"`
	}
	return h.writeXML(rq, http.StatusOK, result{Regions: []regionInfo{{
		Region: region, InternetEndpoint: region + ".aliyuncs.com", InternalEndpoint: region + "-internal.aliyuncs.com",
		AccelerateEndpoint: "oss-accelerate.aliyuncs.com",
	}}})
}

func (h *Handler) putBucket(rq *request) error {
	if rq.p.Anonymous() {
		return oss.ErrAccessDenied.WithMessage("You have no right to access this bucket.")
	}
	var cfg struct {
		StorageClass       string `xml:"StorageClass"`
		DataRedundancyType string `xml:"DataRedundancyType"`
	}
	acl, grants, err := h.requestGrants(rq, "x-oss-acl", rq.p.ID)
	if err != nil {
		return err
	}
	body, err := h.readBody(rq)
	if err != nil {
		return err
	}
	if len(strings.TrimSpace(string(body))) > 0 {
		if err := unmarshalRoot(body, "CreateBucketConfiguration", &cfg); err != nil {
			return oss.ErrMalformedXML
		}
	}
	err = h.svc.CreateBucket(rq.ctx, rq.p, service.CreateBucketInput{
		Name: rq.bucket, ACL: acl, Grants: grants, StorageClass: cfg.StorageClass,
		Redundancy: cfg.DataRedundancyType, ResourceGroup: rq.r.Header.Get("x-oss-resource-group-id"),
	})
	if err != nil {
		return err
	}
	rq.w.Header().Set("Location", "/"+rq.bucket)
	return writeEmpty(rq, http.StatusOK)
}

func (h *Handler) deleteBucket(rq *request) error {
	if err := h.svc.DeleteBucket(rq.ctx, rq.bucket, rq.s3); err != nil {
		return err
	}
	return writeEmpty(rq, http.StatusNoContent)
}

func (h *Handler) getBucketInfo(rq *request) error {
	b := rq.b
	versioning := b.Versioning
	type info struct {
		Name                   string   `xml:"Name"`
		AccessMonitor          string   `xml:"AccessMonitor"`
		Location               string   `xml:"Location"`
		CreationDate           string   `xml:"CreationDate"`
		ExtranetEndpoint       string   `xml:"ExtranetEndpoint"`
		IntranetEndpoint       string   `xml:"IntranetEndpoint"`
		ACL                    string   `xml:"AccessControlList>Grant"`
		DataRedundancyType     string   `xml:"DataRedundancyType"`
		Owner                  ownerXML `xml:"Owner"`
		StorageClass           string   `xml:"StorageClass"`
		ResourceGroupID        string   `xml:"ResourceGroupId"`
		SSEAlgorithm           string   `xml:"ServerSideEncryptionRule>SSEAlgorithm"`
		Versioning             string   `xml:"Versioning,omitempty"`
		TransferAcceleration   string   `xml:"TransferAcceleration"`
		CrossRegionReplication string   `xml:"CrossRegionReplication"`
		LogBucket              string   `xml:"BucketPolicy>LogBucket"`
		LogPrefix              string   `xml:"BucketPolicy>LogPrefix"`
		Comment                string   `xml:"Comment"`
		BlockPublicAccess      bool     `xml:"BlockPublicAccess"`
		Region                 string   `xml:"Region"`
	}
	type result struct {
		XMLName xml.Name `xml:"BucketInfo"`
		Bucket  info     `xml:"Bucket"`
	}
	in := info{
		Name: b.Name, AccessMonitor: "Disabled", Location: location(b.Region), CreationDate: isoTime(b.Created),
		// OSS's public endpoints, as OSS reports them; they reach this
		// server through the default virtual-host domains.
		ExtranetEndpoint: "oss-" + b.Region + ".aliyuncs.com", IntranetEndpoint: "oss-" + b.Region + "-internal.aliyuncs.com",
		ACL: b.ACL, DataRedundancyType: b.Redundancy, BlockPublicAccess: publicAccessAll(b),
		Owner: h.owner(b.Owner), StorageClass: b.StorageClass, ResourceGroupID: service.ResourceGroupOf(b),
		// No default encryption is configurable here; OSS writes "None" for that.
		SSEAlgorithm: "None",
		Versioning:   versioning, TransferAcceleration: "Disabled", CrossRegionReplication: "Disabled", Region: b.Region,
	}
	if b.Logging != nil {
		in.LogBucket, in.LogPrefix = b.Logging.TargetBucket, b.Logging.TargetPrefix
	}
	return h.writeXML(rq, http.StatusOK, result{Bucket: in})
}

// publicAccessAll is b's own Block Public Access as OSS's one switch.
func publicAccessAll(b *service.Bucket) bool {
	c, _ := b.PublicAccessConfig()
	return c.All()
}

// owner renders an account id with its display name.
func (h *Handler) owner(id string) ownerXML {
	return ownerXML{ID: id, DisplayName: id}
}

func (h *Handler) getBucketLocation(rq *request) error {
	type result struct {
		XMLName  xml.Name `xml:"LocationConstraint"`
		Location string   `xml:",chardata"`
	}
	if rq.s3 {
		// S3 answers the bare region.
		return h.writeXML(rq, http.StatusOK, result{Location: rq.b.Region})
	}
	return h.writeXML(rq, http.StatusOK, result{Location: location(rq.b.Region)})
}

func (h *Handler) getBucketStat(rq *request) error {
	st, err := h.svc.Stat(rq.ctx, rq.bucket)
	if err != nil {
		return err
	}
	c := func(class string) [2]int64 { return st.ByClass[class] }
	type result struct {
		XMLName                     xml.Name `xml:"BucketStat"`
		Storage                     int64    `xml:"Storage"`
		ObjectCount                 int64    `xml:"ObjectCount"`
		MultipartUploadCount        int64    `xml:"MultipartUploadCount"`
		LiveChannelCount            int64    `xml:"LiveChannelCount"`
		LastModifiedTime            int64    `xml:"LastModifiedTime"`
		StandardStorage             int64    `xml:"StandardStorage"`
		StandardObjectCount         int64    `xml:"StandardObjectCount"`
		InfrequentAccessStorage     int64    `xml:"InfrequentAccessStorage"`
		InfrequentAccessRealStorage int64    `xml:"InfrequentAccessRealStorage"`
		InfrequentAccessObjectCount int64    `xml:"InfrequentAccessObjectCount"`
		ArchiveStorage              int64    `xml:"ArchiveStorage"`
		ArchiveRealStorage          int64    `xml:"ArchiveRealStorage"`
		ArchiveObjectCount          int64    `xml:"ArchiveObjectCount"`
		ColdArchiveStorage          int64    `xml:"ColdArchiveStorage"`
		ColdArchiveRealStorage      int64    `xml:"ColdArchiveRealStorage"`
		ColdArchiveObjectCount      int64    `xml:"ColdArchiveObjectCount"`
		DeepColdArchiveStorage      int64    `xml:"DeepColdArchiveStorage"`
		DeepColdArchiveRealStorage  int64    `xml:"DeepColdArchiveRealStorage"`
		DeepColdArchiveObjectCount  int64    `xml:"DeepColdArchiveObjectCount"`
		MultipartPartCount          int64    `xml:"MultipartPartCount"`
		DeleteMarkerCount           int64    `xml:"DeleteMarkerCount"`
	}
	res := result{
		Storage: st.Storage, ObjectCount: st.Objects, MultipartUploadCount: st.MultipartUploads, LiveChannelCount: st.LiveChannels, LastModifiedTime: st.LastModified,
		StandardStorage: c("Standard")[0], StandardObjectCount: c("Standard")[1],
		InfrequentAccessStorage: c("IA")[0], InfrequentAccessRealStorage: c("IA")[0], InfrequentAccessObjectCount: c("IA")[1],
		ArchiveStorage: c("Archive")[0], ArchiveRealStorage: c("Archive")[0], ArchiveObjectCount: c("Archive")[1],
		ColdArchiveStorage: c("ColdArchive")[0], ColdArchiveRealStorage: c("ColdArchive")[0], ColdArchiveObjectCount: c("ColdArchive")[1],
		DeepColdArchiveStorage: c("DeepColdArchive")[0], DeepColdArchiveRealStorage: c("DeepColdArchive")[0], DeepColdArchiveObjectCount: c("DeepColdArchive")[1],
		MultipartPartCount: st.MultipartParts, DeleteMarkerCount: st.DeleteMarkers,
	}
	if res.LastModifiedTime == 0 {
		res.LastModifiedTime = rq.b.Created.Unix() // an empty bucket was last changed when created
	}
	return h.writeXML(rq, http.StatusOK, res)
}

type aclXML struct {
	XMLName xml.Name `xml:"AccessControlPolicy"`
	Owner   ownerXML `xml:"Owner"`
	Grant   string   `xml:"AccessControlList>Grant"`
}

func (h *Handler) getBucketACL(rq *request) error {
	return h.writeACL(rq, rq.b.ACL, rq.b.Grants)
}

func (h *Handler) putBucketACL(rq *request) error {
	acl, grants, err := h.putACL(rq, "x-oss-acl", rq.b.Owner)
	if err != nil {
		return err
	}
	in := service.BucketACLInput{ACL: acl, Grants: grants, Header: rq.aclHeader("x-oss-acl")}
	if err := h.svc.PutBucketACL(rq.ctx, rq.bucket, in); err != nil {
		return err
	}
	return writeEmpty(rq, http.StatusOK)
}

type taggingXML struct {
	XMLName xml.Name `xml:"Tagging"`
	Tags    []tagXML `xml:"TagSet>Tag"`
}

type tagXML struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

func toTagXML(tags []service.Tag) taggingXML {
	out := taggingXML{Tags: []tagXML{}}
	for _, t := range tags {
		out.Tags = append(out.Tags, tagXML{t.Key, t.Value})
	}
	return out
}

// readTags parses a Tagging body with OSS's limits on count and duplicate
// keys; service judges each tag when it stores them (bucket and object
// tags differ).
func (h *Handler) readTags(rq *request, max int) ([]service.Tag, error) {
	var t taggingXML
	if err := h.decodeXML(rq, "Tagging", &t, oss.ErrMalformedXML); err != nil {
		return nil, err
	}
	if len(t.Tags) > max {
		// S3 answers too many tags with InvalidTag, as it does a bad tag.
		invalid := oss.ErrInvalidArgument
		if rq.s3 {
			invalid = oss.ErrS3InvalidTag
		}
		return nil, invalid.WithMessage("The number of tags exceeds the limit of %d.", max)
	}
	seen := map[string]bool{}
	var out []service.Tag
	for _, tg := range t.Tags {
		if seen[tg.Key] {
			return nil, oss.ErrInvalidArgument.WithMessage("Duplicate tag keys are not allowed.")
		}
		seen[tg.Key] = true
		out = append(out, service.Tag{Key: tg.Key, Value: tg.Value})
	}
	return out, nil
}

func (h *Handler) getBucketTags(rq *request) error {
	if rq.s3 && len(rq.b.Tags) == 0 {
		// S3 reports a bucket without tags as an error; OSS answers an
		// empty TagSet.
		return oss.ErrNoSuchTagSet
	}
	return h.writeXML(rq, http.StatusOK, toTagXML(rq.b.Tags))
}

func (h *Handler) putBucketTags(rq *request) error {
	tags, err := h.readTags(rq, 20)
	if err != nil {
		return err
	}
	if err := h.svc.PutBucketTags(rq.ctx, rq.bucket, tags); err != nil {
		return err
	}
	return writeEmpty(rq, http.StatusOK)
}

func (h *Handler) deleteBucketTags(rq *request) error {
	var keys []string // nil: every tag
	if s := rq.q.get("tagging"); s != "" {
		keys = strings.Split(s, ",")
	}
	if err := h.svc.DeleteBucketTags(rq.ctx, rq.bucket, keys); err != nil {
		return err
	}
	return writeEmpty(rq, http.StatusNoContent)
}

type versioningXML struct {
	XMLName xml.Name `xml:"VersioningConfiguration"`
	Status  string   `xml:"Status,omitempty"`
}

func (h *Handler) getBucketVersioning(rq *request) error {
	return h.writeXML(rq, http.StatusOK, versioningXML{Status: rq.b.Versioning})
}

func (h *Handler) putBucketVersioning(rq *request) error {
	var v versioningXML
	if err := h.decodeXML(rq, "VersioningConfiguration", &v, oss.ErrMalformedXML); err != nil {
		return err
	}
	if err := h.svc.PutBucketVersioning(rq.ctx, rq.bucket, v.Status); err != nil {
		return err
	}
	return writeEmpty(rq, http.StatusOK)
}

// hostOnly strips a port.
func hostOnly(h string) string {
	if x, _, err := net.SplitHostPort(h); err == nil {
		return x
	}
	return h
}

// aclHeader names the ACL header in the request's dialect.
func (rq *request) aclHeader(oss string) string {
	if rq.s3 {
		return "x-amz-acl"
	}
	return oss
}

// resourceGroup is the bucket's resource group, or the account's default
// group id that OSS reports when none was chosen.
type publicAccessBlockXML struct {
	XMLName           xml.Name `xml:"PublicAccessBlockConfiguration"`
	BlockPublicAccess bool     `xml:"BlockPublicAccess"`
}

// s3PublicAccessBlockXML is S3's form of the configuration: its four
// settings, kept apart (service.PublicAccessBlock says what each does); OSS's
// one switch is the four together.
type s3PublicAccessBlockXML struct {
	XMLName               xml.Name `xml:"PublicAccessBlockConfiguration"`
	BlockPublicAcls       bool     `xml:"BlockPublicAcls"`
	IgnorePublicAcls      bool     `xml:"IgnorePublicAcls"`
	BlockPublicPolicy     bool     `xml:"BlockPublicPolicy"`
	RestrictPublicBuckets bool     `xml:"RestrictPublicBuckets"`
}

func (h *Handler) putPublicAccessBlock(rq *request) error {
	var c service.PublicAccessBlock
	if rq.s3 {
		var x s3PublicAccessBlockXML
		if err := h.decodeXML(rq, "PublicAccessBlockConfiguration", &x, oss.ErrMalformedXML); err != nil {
			return err
		}
		c = service.PublicAccessBlock{BlockPublicAcls: x.BlockPublicAcls, IgnorePublicAcls: x.IgnorePublicAcls,
			BlockPublicPolicy: x.BlockPublicPolicy, RestrictPublicBuckets: x.RestrictPublicBuckets}
	} else {
		var x publicAccessBlockXML
		if err := h.decodeXML(rq, "PublicAccessBlockConfiguration", &x, oss.ErrMalformedXML); err != nil {
			return err
		}
		c = service.AllPublicAccessBlocked(x.BlockPublicAccess)
	}
	if err := h.svc.PutBucketPublicAccessBlock(rq.ctx, rq.bucket, c); err != nil {
		return err
	}
	return writeEmpty(rq, http.StatusOK)
}

// getPublicAccessBlock shows the bucket's own settings (not the account's):
// S3's four as set, or NoSuchPublicAccessBlockConfiguration when there are
// none; in OSS's dialect the switch, on only when all four are (OSS's
// switch on promises all four).
func (h *Handler) getPublicAccessBlock(rq *request) error {
	c, ok := rq.b.PublicAccessConfig()
	if rq.s3 {
		if !ok {
			return oss.ErrNoSuchPublicAccessBlock.With("BucketName", rq.bucket)
		}
		return h.writeXML(rq, http.StatusOK, s3PublicAccessBlockXML{BlockPublicAcls: c.BlockPublicAcls, IgnorePublicAcls: c.IgnorePublicAcls,
			BlockPublicPolicy: c.BlockPublicPolicy, RestrictPublicBuckets: c.RestrictPublicBuckets})
	}
	return h.writeXML(rq, http.StatusOK, publicAccessBlockXML{BlockPublicAccess: c.All()})
}

func (h *Handler) deletePublicAccessBlock(rq *request) error {
	if err := h.svc.DeleteBucketPublicAccessBlock(rq.ctx, rq.bucket); err != nil {
		return err
	}
	return writeEmpty(rq, http.StatusNoContent)
}

// accountPublicAccessBlock serves the account-level Block Public Access
// operations (OSS's Put/Get/DeletePublicAccessBlock on the service): the
// caller's own account's switch, which when on makes public ACLs grant
// nothing, and refuses new ones, in every bucket the account owns.
func (h *Handler) accountPublicAccessBlock(rq *request) error {
	if rq.p.Anonymous() {
		return oss.ErrAccessDenied.WithMessage("AccessDenied")
	}
	switch rq.op {
	case oss.OpPutAccountPublicAccessBlock:
		var c publicAccessBlockXML
		if err := h.decodeXML(rq, "PublicAccessBlockConfiguration", &c, oss.ErrMalformedXML); err != nil {
			return err
		}
		if err := h.svc.SetAccountBlock(rq.ctx, rq.p.ID, c.BlockPublicAccess); err != nil {
			return err
		}
		return writeEmpty(rq, http.StatusOK)
	case oss.OpDelAccountPublicAccessBlock:
		if err := h.svc.SetAccountBlock(rq.ctx, rq.p.ID, false); err != nil {
			return err
		}
		return writeEmpty(rq, http.StatusNoContent)
	}
	return h.writeXML(rq, http.StatusOK, publicAccessBlockXML{BlockPublicAccess: h.svc.AccountBlocked(rq.ctx, rq.p.ID)})
}

// headBucket answers HEAD /bucket (S3's HeadBucket): 200 when the bucket
// exists and the caller may list it.
func (h *Handler) headBucket(rq *request) error {
	rq.w.Header().Set("x-amz-bucket-region", rq.b.Region)
	return writeEmpty(rq, http.StatusOK)
}
