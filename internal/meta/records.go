package meta

import "time"

// Bucket is a bucket's record, with every per-bucket configuration.
type Bucket struct {
	Name    string    `json:"name"`
	Owner   string    `json:"owner"` // account id
	Created time.Time `json:"created"`
	Region  string    `json:"region"`
	ACL     string    `json:"acl"` // private, public-read, public-read-write
	// Grants, when set, are the bucket's S3 ACL as written (grants to
	// accounts and groups); ACL is then the nearest canned ACL, which is
	// what the OSS dialect shows.
	// Not omitempty: an empty list (every grant revoked, even the
	// owner's) is kept apart from none set (nil, stored as null).
	Grants        []Grant          `json:"grants"`
	StorageClass  string           `json:"storageClass"`
	Redundancy    string           `json:"redundancy"` // LRS, ZRS
	Versioning    string           `json:"versioning,omitempty"`
	Tags          []Tag            `json:"tags,omitempty"`
	Logging       *LoggingConfig   `json:"logging,omitempty"`
	LogFields     *LogFieldsConfig `json:"logFields,omitempty"`
	ResourceGroup string           `json:"resourceGroup,omitempty"`
	// BlockPublicAccess is OSS's one Block Public Access switch, as OSS's
	// PutBucketPublicAccessBlock (and CreateBucket) set it: on is S3's four
	// settings all on. PublicAccessBlock, when set, is S3's four settings
	// as S3's PutPublicAccessBlock wrote them and wins over the switch.
	// Both nil: the bucket has no configuration (DeleteBucketPublicAccessBlock),
	// nothing blocked by the bucket itself. See PublicAccessConfig.
	BlockPublicAccess *bool              `json:"bpa,omitempty"`
	PublicAccessBlock *PublicAccessBlock `json:"pab,omitempty"`
	CORS              *CORSConfig        `json:"cors,omitempty"`
	// Policy is the bucket policy document exactly as put (GetBucketPolicy
	// returns it byte for byte); "" when there is none.
	Policy    string            `json:"policy,omitempty"`
	Lifecycle *LifecycleConfig  `json:"lifecycle,omitempty"`
	Extra     map[string]string `json:"extra,omitempty"`
}

// CORSConfig is a bucket's cross-origin resource sharing rules, in the
// order given; the first rule that matches a request decides.
type CORSConfig struct {
	Rules []CORSRule `json:"rules"`
	// ResponseVary: answer with "Vary: Origin" whether or not a rule
	// matched, so that caches keep per-origin copies.
	ResponseVary bool `json:"vary,omitempty"`
}

// CORSRule is one rule. Origins may hold one '*' each; Headers may hold
// '*' patterns; Methods are upper-case. MaxAge < 0: not given.
type CORSRule struct {
	ID      string   `json:"id,omitempty"` // S3's optional rule id
	Origins []string `json:"origins"`
	Methods []string `json:"methods"`
	Headers []string `json:"headers,omitempty"`
	Expose  []string `json:"expose,omitempty"`
	MaxAge  int64    `json:"maxAge"`
}

// LifecycleConfig is a bucket's lifecycle rules (PutBucketLifecycle), in
// the order given. Both APIs' forms map onto it; what a rule cannot do in
// one dialect is simply absent there.
type LifecycleConfig struct {
	Rules []LifecycleRule `json:"rules"`
}

// LifecycleRule is one rule: which objects (Prefix, Tags, Not, size
// bounds) and what to do with them. Days are whole days counted from
// midnight UTC after the time they start from, as OSS counts them; Date is
// a CreatedBeforeDate (midnight UTC) kept as given, so that it is echoed
// byte for byte.
type LifecycleRule struct {
	ID     string `json:"id"`
	Prefix string `json:"prefix,omitempty"`
	Status string `json:"status"` // Enabled, Disabled
	// Tags: an object matches only if it carries every one of them.
	Tags []Tag `json:"tags,omitempty"`
	// Not: OSS's Filter/Not; an object under Not.Prefix (carrying Not.Tag,
	// when given) is left alone.
	Not []LifecycleNot `json:"not,omitempty"`
	// SizeGreater and SizeLess bound the object's size (exclusive).
	SizeGreater *int64 `json:"sizeGt,omitempty"`
	SizeLess    *int64 `json:"sizeLt,omitempty"`

	Expiration  *LifecycleExpiration `json:"exp,omitempty"`
	AbortUpload *LifecycleWhen       `json:"abort,omitempty"`
	// NoncurrentDays: delete a previous version this many days after it
	// stopped being the current one (nil: no such action).
	NoncurrentDays *int `json:"ncDays,omitempty"`
	// Transitions are stored and shown, never executed: ossd has one tier.
	Transitions           []LifecycleTransition `json:"tr,omitempty"`
	NoncurrentTransitions []LifecycleTransition `json:"nctr,omitempty"`
	// FilterForm: the rule came with a Filter element. S3 answers in the
	// form it was given: a rule-level Prefix stays one.
	FilterForm bool `json:"ff,omitempty"`
}

// LifecycleNot is one exclusion of a rule's Filter.
type LifecycleNot struct {
	Prefix string `json:"prefix"`
	Tag    *Tag   `json:"tag,omitempty"`
}

// LifecycleWhen is when an action is due, one of: Days after the start
// time; for what started before Date (OSS's CreatedBeforeDate); or for
// everything from OnDate on (S3's Date, and OSS's deprecated Date).
type LifecycleWhen struct {
	Days   *int   `json:"days,omitempty"`
	Date   string `json:"date,omitempty"`
	OnDate string `json:"on,omitempty"`
}

// LifecycleExpiration is a rule's Expiration: the current version expires
// by Days or Date; ExpiredDeleteMarker removes a delete marker that has no
// older versions left behind it.
type LifecycleExpiration struct {
	LifecycleWhen
	ExpiredDeleteMarker bool `json:"edm,omitempty"`
}

// LifecycleTransition is a storage-class change (stored, not executed).
type LifecycleTransition struct {
	LifecycleWhen
	StorageClass string `json:"sc"`
	// IsAccessTime, ReturnToStd and AllowSmallFile are OSS's access-time
	// options, echoed as given.
	IsAccessTime   *bool `json:"atime,omitempty"`
	ReturnToStd    *bool `json:"rts,omitempty"`
	AllowSmallFile *bool `json:"small,omitempty"`
}

// LiveChannel is one RTMP ingest channel of a bucket (OSS's LiveChannel).
// ossd stores and serves its configuration; it does not ingest streams.
type LiveChannel struct {
	Name         string        `json:"name"`
	Description  string        `json:"desc,omitempty"`
	Status       string        `json:"status"` // enabled, disabled
	Type         string        `json:"type"`   // HLS
	FragDuration int           `json:"fragDuration"`
	FragCount    int           `json:"fragCount"`
	PlaylistName string        `json:"playlist"`
	Snapshot     *LiveSnapshot `json:"snapshot,omitempty"`
	Modified     time.Time     `json:"mod"`
}

// LiveSnapshot is a LiveChannel's high-frequency snapshot configuration,
// kept and echoed as given.
type LiveSnapshot struct {
	RoleName    string `json:"role"`
	DestBucket  string `json:"dest"`
	NotifyTopic string `json:"topic"`
	Interval    int    `json:"interval"`
}

// PublicAccessBlock is S3's Block Public Access, four settings that act
// apart (AWS's definitions; "public" is defined by service.PublicACL,
// PublicGrants and Policy.Public):
//   - BlockPublicAcls: setting a public ACL or grant on the bucket or its
//     objects is refused.
//   - IgnorePublicAcls: public ACLs and grants already set grant nothing.
//   - BlockPublicPolicy: putting a public bucket policy is refused.
//   - RestrictPublicBuckets: while the bucket's policy is public, the
//     policy grants nothing to anyone outside the owner's account.
//
// OSS's one switch is the four together.
type PublicAccessBlock struct {
	BlockPublicAcls       bool `json:"acls,omitempty"`
	IgnorePublicAcls      bool `json:"ignoreAcls,omitempty"`
	BlockPublicPolicy     bool `json:"policy,omitempty"`
	RestrictPublicBuckets bool `json:"restrict,omitempty"`
}

// AllPublicAccessBlocked is the four settings all set to on.
func AllPublicAccessBlocked(on bool) PublicAccessBlock {
	return PublicAccessBlock{BlockPublicAcls: on, IgnorePublicAcls: on, BlockPublicPolicy: on, RestrictPublicBuckets: on}
}

// All reports whether every setting is on: what OSS's one switch shows.
func (c PublicAccessBlock) All() bool {
	return c.BlockPublicAcls && c.IgnorePublicAcls && c.BlockPublicPolicy && c.RestrictPublicBuckets
}

// Or is each setting on in c or d (a bucket's settings under its account's).
func (c PublicAccessBlock) Or(d PublicAccessBlock) PublicAccessBlock {
	return PublicAccessBlock{
		BlockPublicAcls:       c.BlockPublicAcls || d.BlockPublicAcls,
		IgnorePublicAcls:      c.IgnorePublicAcls || d.IgnorePublicAcls,
		BlockPublicPolicy:     c.BlockPublicPolicy || d.BlockPublicPolicy,
		RestrictPublicBuckets: c.RestrictPublicBuckets || d.RestrictPublicBuckets,
	}
}

// PublicAccessConfig returns the bucket's own Block Public Access settings
// and whether it has a configuration at all (false after
// DeleteBucketPublicAccessBlock: every setting off).
func (b *Bucket) PublicAccessConfig() (PublicAccessBlock, bool) {
	switch {
	case b.PublicAccessBlock != nil:
		return *b.PublicAccessBlock, true
	case b.BlockPublicAccess != nil:
		return AllPublicAccessBlocked(*b.BlockPublicAccess), true
	}
	return PublicAccessBlock{}, false
}

// Tag is one key/value tag; order is the order the client gave.
type Tag struct {
	Key   string `json:"k"`
	Value string `json:"v"`
}

// LoggingConfig is a bucket's access-logging rule.
type LoggingConfig struct {
	TargetBucket string `json:"targetBucket"`
	TargetPrefix string `json:"targetPrefix"`
	LoggingRole  string `json:"loggingRole,omitempty"`
}

// LogFieldsConfig is the user-defined log fields configuration.
type LogFieldsConfig struct {
	Headers []string `json:"headers,omitempty"`
	Params  []string `json:"params,omitempty"`
}

// Extent is one run of object bytes stored in a blob file.
type Extent struct {
	Blob string `json:"b"`
	Size int64  `json:"n"`
}

// Version is one version of an object, or a delete marker.
type Version struct {
	Key          string            `json:"key"`
	VersionID    string            `json:"vid"` // "null" when unversioned
	Seq          uint64            `json:"seq"` // order of writes; higher is newer
	DeleteMarker bool              `json:"dm,omitempty"`
	Size         int64             `json:"size"`
	ETag         string            `json:"etag"` // without quotes
	CRC64        uint64            `json:"crc"`
	Modified     time.Time         `json:"mod"`
	Type         string            `json:"type"` // Normal, Appendable, Multipart, Symlink
	StorageClass string            `json:"sc"`
	ACL          string            `json:"acl"`    // default, private, public-read, public-read-write
	Grants       []Grant           `json:"grants"` // S3 ACL as written (nil: none; see Bucket.Grants); ACL is then the nearest canned one
	Owner        string            `json:"owner"`
	Headers      map[string]string `json:"hdr,omitempty"`  // Content-Type, Cache-Control, …
	UserMeta     map[string]string `json:"meta,omitempty"` // x-oss-meta-* (lower-case names)
	Tags         []Tag             `json:"tags,omitempty"`
	Symlink      string            `json:"sym,omitempty"` // target key
	Inline       []byte            `json:"-"`             // small objects' bytes (stored raw after the JSON; see encodeVersion)
	Extents      []Extent          `json:"ext,omitempty"` // larger objects' bytes, in order
}

// Blobs returns the blob ids the version references.
func (v *Version) Blobs() []string {
	ids := make([]string, 0, len(v.Extents))
	for _, e := range v.Extents {
		ids = append(ids, e.Blob)
	}
	return ids
}

// Upload is an in-progress multipart upload.
type Upload struct {
	Bucket    string            `json:"bucket"`
	Key       string            `json:"key"`
	UploadID  string            `json:"id"`
	Initiated time.Time         `json:"init"`
	Template  Version           `json:"tmpl"` // headers, meta, ACL, class for the result
	Extra     map[string]string `json:"extra,omitempty"`
	// Sequential: initiated with OSS's "sequential" parameter, so the
	// completed object carries the MD5 of its whole content.
	Sequential bool `json:"sequential,omitempty"`
}

// Part is one uploaded part.
type Part struct {
	Number   int       `json:"n"`
	ETag     string    `json:"etag"`
	Size     int64     `json:"size"`
	CRC64    uint64    `json:"crc"`
	Modified time.Time `json:"mod"`
	Blob     string    `json:"blob"`
}

// Grant is one S3 ACL grant: a permission (READ, WRITE, READ_ACP,
// WRITE_ACP, FULL_CONTROL) to an account (Type CanonicalUser, ID its
// account id) or a group (Type Group, URI AllUsers or AuthenticatedUsers).
type Grant struct {
	Type       string `json:"type"`
	ID         string `json:"id,omitempty"`
	URI        string `json:"uri,omitempty"`
	Permission string `json:"perm"`
}
