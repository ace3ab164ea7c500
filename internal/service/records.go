package service

import "github.com/ossd/ossd/internal/meta"

// The records the service's operations take and return, named here so the
// HTTP layer speaks only to service: it never imports meta, so a second
// metadata engine (or a change to how records are stored) needs no change
// above this package. They are aliases, not copies: the values are meta's
// own, shared with the bucket cache, and callers must treat a record they
// were given as read-only unless they built it.
type (
	// Bucket is a bucket's record: its settings and configuration.
	Bucket = meta.Bucket
	// Version is one version of an object (or a delete marker).
	Version = meta.Version
	// Tag is one key/value tag of a bucket or an object.
	Tag = meta.Tag
	// Grant is one S3 ACL grant.
	Grant = meta.Grant
	// PublicAccessBlock is S3's four Block Public Access settings (OSS's
	// one switch is the four together).
	PublicAccessBlock = meta.PublicAccessBlock
	// CORSConfig is a bucket's CORS rules; CORSRule one of them.
	CORSConfig = meta.CORSConfig
	CORSRule   = meta.CORSRule
	// LoggingConfig is a bucket's access-log rule (PutBucketLogging).
	LoggingConfig = meta.LoggingConfig
	// LogFieldsConfig is a bucket's user-defined log fields.
	LogFieldsConfig = meta.LogFieldsConfig
	// LifecycleConfig is a bucket's lifecycle rules and what they are
	// made of.
	LifecycleConfig     = meta.LifecycleConfig
	LifecycleRule       = meta.LifecycleRule
	LifecycleWhen       = meta.LifecycleWhen
	LifecycleNot        = meta.LifecycleNot
	LifecycleExpiration = meta.LifecycleExpiration
	LifecycleTransition = meta.LifecycleTransition
	// LiveChannel is a LiveChannel's record; LiveSnapshot one of its
	// recorded snapshots.
	LiveChannel  = meta.LiveChannel
	LiveSnapshot = meta.LiveSnapshot
)
