package service

import (
	"context"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/ossd/ossd/internal/meta"
	"github.com/ossd/ossd/internal/oss"
)

// The bucket-configuration operations: one method per Put/Delete of a
// bucket setting. Each takes the parsed request (httpapi only turns XML,
// JSON and headers into these inputs) and checks every rule that depends
// on stored state inside the transaction that writes, against the record
// read there, so a concurrent change cannot slip between the check and the
// write (a Block Public Access switched on while a public ACL is put, a
// logging target deleted while it is named).

// publicAccessIn is PublicAccess as the writing transaction tx reads it:
// b's own settings (b is the record read in tx), all on while its owner
// account blocks public access — that switch read in tx rather than
// through AccountBlocked's cache, so that one another request or node has
// just turned on is seen, and one turned on concurrently conflicts with
// this write on a store whose transactions are serializable.
func publicAccessIn(tx meta.Tx, b *meta.Bucket) (PublicAccessBlock, error) {
	blocked, err := accountBlockedIn(tx, b.Owner)
	if err != nil {
		return PublicAccessBlock{}, err
	}
	if blocked {
		return AllPublicAccessBlocked(true), nil
	}
	c, _ := b.PublicAccessConfig()
	return c, nil
}

// refuseIfBlocked answers refusal when what is being put is public and the
// setting of b's Block Public Access that governs it (blocks) is on, as tx
// reads it (publicAccessIn): OSS refuses rather than store a public ACL or
// policy it would ignore, so a user learns at once why it has no effect.
func refuseIfBlocked(tx meta.Tx, b *meta.Bucket, public bool, blocks func(PublicAccessBlock) bool, refusal error) error {
	if !public {
		return nil
	}
	c, err := publicAccessIn(tx, b)
	if err != nil {
		return err
	}
	if blocks(c) {
		return refusal
	}
	return nil
}

// blocksACLs and blocksPolicy pick the setting refuseIfBlocked consults.
func blocksACLs(c PublicAccessBlock) bool   { return c.BlockPublicAcls }
func blocksPolicy(c PublicAccessBlock) bool { return c.BlockPublicPolicy }

// BucketACLInput is PutBucketAcl's request.
type BucketACLInput struct {
	// ACL is the canned ACL to store (with Grants, their nearest one).
	ACL string
	// Grants are S3 grants, already checked against the accounts by
	// CheckGrants; nil for a canned ACL only.
	Grants []meta.Grant
	// Header names the ACL header in the request's dialect (x-oss-acl or
	// x-amz-acl), which an invalid ACL's error names.
	Header string
}

// PutBucketACL sets bucket's ACL: a canned bucket ACL, and refused
// (PublicBucketACLBlocked) when it or its grants are public while the
// bucket blocks public ACLs (BlockPublicAcls, see publicAccessIn).
func (s *Service) PutBucketACL(ctx context.Context, bucket string, in BucketACLInput) error {
	if !ValidBucketACL(in.ACL) {
		return oss.ErrInvalidArgument.WithMessage("no such bucket access control exists").With("ArgumentName", in.Header).With("ArgumentValue", in.ACL)
	}
	return s.updateBucket(ctx, bucket, func(tx meta.Tx, b *meta.Bucket) error {
		public := PublicACL(in.ACL) || PublicGrants(in.Grants)
		if err := refuseIfBlocked(tx, b, public, blocksACLs, oss.ErrPublicBucketACLBlocked); err != nil {
			return err
		}
		b.ACL, b.Grants = in.ACL, in.Grants
		return nil
	})
}

// PutBucketPolicy stores raw as bucket's policy after checking it: its
// size (MaxPolicySize, MaxS3PolicySize), its grammar (ParsePolicy), and —
// against the record being written — that it is not public while the
// bucket blocks public policies (BlockPublicPolicy; OSS refuses rather
// than store a policy it would ignore). s3 picks the dialect of the errors.
func (s *Service) PutBucketPolicy(ctx context.Context, bucket string, raw []byte, s3 bool) error {
	limit := MaxPolicySize
	if s3 {
		limit = MaxS3PolicySize
	}
	switch {
	case len(raw) > limit && s3:
		return oss.ErrMalformedPolicy.WithMessage("Policy exceeds the maximum allowed document size.")
	case len(raw) > limit:
		return oss.ErrPolicyTooLarge
	}
	p, err := ParsePolicy(raw, bucket, s3)
	if err != nil {
		return err
	}
	refusal := error(oss.ErrPublicPolicyBlocked)
	if s3 {
		refusal = oss.ErrAccessDenied.WithMessage("Access Denied")
	}
	return s.updateBucket(ctx, bucket, func(tx meta.Tx, b *meta.Bucket) error {
		if err := refuseIfBlocked(tx, b, p.Public(), blocksPolicy, refusal); err != nil {
			return err
		}
		b.Policy = string(raw)
		return nil
	})
}

// DeleteBucketPolicy removes bucket's policy (none is no error).
func (s *Service) DeleteBucketPolicy(ctx context.Context, bucket string) error {
	return s.updateBucket(ctx, bucket, func(_ meta.Tx, b *meta.Bucket) error {
		b.Policy = ""
		return nil
	})
}

// PutBucketLogging sets bucket's logging rule, or with cfg nil turns
// logging off (an empty BucketLoggingStatus). The rule is checked as OSS
// checks it (validateLogging), the target bucket read in the transaction
// that writes.
func (s *Service) PutBucketLogging(ctx context.Context, bucket string, cfg *meta.LoggingConfig) error {
	if cfg != nil {
		if err := checkLoggingText(cfg); err != nil {
			return err
		}
	}
	return s.updateBucket(ctx, bucket, func(tx meta.Tx, b *meta.Bucket) error {
		if cfg != nil {
			if err := validateLoggingTarget(tx, b, cfg); err != nil {
				return err
			}
		}
		b.Logging = cfg
		return nil
	})
}

// DeleteBucketLogging turns bucket's logging off.
func (s *Service) DeleteBucketLogging(ctx context.Context, bucket string) error {
	return s.PutBucketLogging(ctx, bucket, nil)
}

// checkLoggingText checks what a logging rule says by itself: a valid
// target bucket name, a prefix of valid UTF-8 that does not start with a
// slash and has at most 256 characters, no RAM role of OSS's own.
func checkLoggingText(cfg *meta.LoggingConfig) error {
	switch {
	case cfg.TargetBucket == "":
		return oss.ErrTargetBucketEmpty
	case !oss.ValidBucketName(cfg.TargetBucket):
		return oss.ErrTargetBucketInvalid.With("TargetBucket", cfg.TargetBucket)
	case !utf8.ValidString(cfg.TargetPrefix):
		return oss.ErrTargetPrefixNotUTF8
	case strings.HasPrefix(cfg.TargetPrefix, "/") || strings.HasPrefix(cfg.TargetPrefix, `\`):
		return oss.ErrTargetPrefixSlash
	case utf8.RuneCountInString(cfg.TargetPrefix) > 256:
		return oss.ErrTargetPrefixTooLong
	case strings.HasPrefix(cfg.LoggingRole, "acs:"):
		return oss.ErrLoggingRoleInvalid
	}
	return nil
}

// validateLoggingTarget checks the rule against stored state, in tx: the
// target bucket exists, has src's owner and is in src's region.
func validateLoggingTarget(tx meta.Tx, src *meta.Bucket, cfg *meta.LoggingConfig) error {
	t := src
	if cfg.TargetBucket != src.Name {
		var err error
		if t, err = meta.GetBucket(tx, cfg.TargetBucket); err != nil {
			return err
		}
	}
	switch {
	case t == nil:
		return oss.ErrTargetBucketNotExist.With("TargetBucket", cfg.TargetBucket)
	case t.Owner != src.Owner:
		return oss.ErrTargetBucketNotOwned.With("TargetBucket", cfg.TargetBucket)
	case t.Region != src.Region:
		return oss.ErrTargetBucketRegion.With("TargetBucket", cfg.TargetBucket)
	}
	return nil
}

// MaxLogFields is how many headers and parameters together a bucket's
// user-defined log fields may name.
const MaxLogFields = 6

// PutUserDefinedLogFields sets the request headers and query parameters
// bucket's access-log lines carry (PutUserDefinedLogFieldsConfig): 1 to
// MaxLogFields names in all, each valid (validLogHeader, validLogParam).
func (s *Service) PutUserDefinedLogFields(ctx context.Context, bucket string, headers, params []string) error {
	switch n := len(headers) + len(params); {
	case n > MaxLogFields:
		return oss.ErrInvalidArgument.WithMessage("The total number of headers and parameters must not exceed %d.", MaxLogFields)
	case n == 0:
		return oss.ErrMalformedXML
	}
	for _, k := range headers {
		if !validLogHeader(k) {
			return oss.ErrInvalidArgument.WithMessage("The header %q is not valid for user defined log fields.", k)
		}
	}
	for _, k := range params {
		if !validLogParam(k) {
			return oss.ErrInvalidArgument.WithMessage("The parameter %q is not valid for user defined log fields.", k)
		}
	}
	return s.updateBucket(ctx, bucket, func(_ meta.Tx, b *meta.Bucket) error {
		b.LogFields = &meta.LogFieldsConfig{Headers: headers, Params: params}
		return nil
	})
}

// DeleteUserDefinedLogFields removes bucket's user-defined log fields.
func (s *Service) DeleteUserDefinedLogFields(ctx context.Context, bucket string) error {
	return s.updateBucket(ctx, bucket, func(_ meta.Tx, b *meta.Bucket) error {
		b.LogFields = nil
		return nil
	})
}

// validLogHeader: printable ASCII 33–126 except '_' and ':', as OSS
// documents for user-defined log header keys.
func validLogHeader(s string) bool {
	return validLogParam(s) && !strings.ContainsAny(s, "_:")
}

// validLogParam: 1 to 64 printable ASCII characters (33–126).
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

// PutBucketCORS replaces bucket's CORS configuration with c (a new
// configuration replaces the whole old one, as on OSS), checked by
// ValidateCORS with the dialect's rule limit (s3: MaxS3CORSRules).
func (s *Service) PutBucketCORS(ctx context.Context, bucket string, c *meta.CORSConfig, s3 bool) error {
	limit := MaxCORSRules
	if s3 {
		limit = MaxS3CORSRules
	}
	if err := ValidateCORS(c, limit); err != nil {
		return err
	}
	return s.updateBucket(ctx, bucket, func(_ meta.Tx, b *meta.Bucket) error {
		b.CORS = c
		return nil
	})
}

// DeleteBucketCORS removes bucket's CORS configuration.
func (s *Service) DeleteBucketCORS(ctx context.Context, bucket string) error {
	return s.updateBucket(ctx, bucket, func(_ meta.Tx, b *meta.Bucket) error {
		b.CORS = nil
		return nil
	})
}

// Bucket tag limits (bytes).
const (
	MaxBucketTagKey   = 128
	MaxBucketTagValue = 256
)

// checkBucketTags keeps bucket tags within MaxBucketTagKey and
// MaxBucketTagValue bytes, each key non-empty.
func checkBucketTags(tags []meta.Tag) error {
	for _, tg := range tags {
		if tg.Key == "" || len(tg.Key) > MaxBucketTagKey || len(tg.Value) > MaxBucketTagValue {
			return oss.ErrInvalidArgument.WithMessage("The tag key or value is invalid.")
		}
	}
	return nil
}

// PutBucketTags replaces bucket's tags (count and duplicate keys are the
// parser's to refuse, as they are for object tags).
func (s *Service) PutBucketTags(ctx context.Context, bucket string, tags []meta.Tag) error {
	if err := checkBucketTags(tags); err != nil {
		return err
	}
	return s.updateBucket(ctx, bucket, func(_ meta.Tx, b *meta.Bucket) error {
		b.Tags = tags
		return nil
	})
}

// DeleteBucketTags removes the tags of bucket whose keys are in keys, or
// all of them when keys is nil (DeleteBucketTagging without ?tagging=k1,k2).
func (s *Service) DeleteBucketTags(ctx context.Context, bucket string, keys []string) error {
	return s.updateBucket(ctx, bucket, func(_ meta.Tx, b *meta.Bucket) error {
		if keys == nil {
			b.Tags = nil
			return nil
		}
		var kept []meta.Tag
		for _, t := range b.Tags {
			if !slices.Contains(keys, t.Key) {
				kept = append(kept, t)
			}
		}
		b.Tags = kept
		return nil
	})
}

// Versioning states a bucket may be put in.
const (
	VersioningEnabled   = "Enabled"
	VersioningSuspended = "Suspended"
)

// PutBucketVersioning sets bucket's versioning state: Enabled or
// Suspended (anything else is MalformedXML, as OSS answers; a bucket
// never returns to unversioned).
func (s *Service) PutBucketVersioning(ctx context.Context, bucket, status string) error {
	if status != VersioningEnabled && status != VersioningSuspended {
		return oss.ErrMalformedXML
	}
	return s.updateBucket(ctx, bucket, func(_ meta.Tx, b *meta.Bucket) error {
		b.Versioning = status
		return nil
	})
}
