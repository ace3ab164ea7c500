package service

import (
	"unicode"
	"unicode/utf8"

	"github.com/ossd/ossd/internal/meta"
	"github.com/ossd/ossd/internal/oss"
)

// Object tag limits, the same in OSS and S3.
const (
	MaxObjectTagKey   = 128
	MaxObjectTagValue = 256
)

// CheckObjectTags applies the rules of object tags: a key of 1 to 128
// characters, a value of up to 256, and only the characters the API
// allows: letters and digits (of any script: oss2's own tests tag an
// object with "中文" on OSS), spaces and + - = . _ : / (OSS's documentation
// for EC 0010-00000212 and 0010-00000217; oss2's tests expect "%@abc"
// refused); S3 also allows @. A refusal is InvalidTag naming the tag, as S3
// names it.
func CheckObjectTags(tags []meta.Tag, s3 bool) error {
	for _, t := range tags {
		switch {
		case t.Key == "" || !tagText(t.Key, s3):
			return oss.ErrInvalidTagKey.With("TagKey", t.Key)
		case utf8.RuneCountInString(t.Key) > MaxObjectTagKey:
			return oss.ErrInvalidTagKey.WithEC("0010-00000209").With("TagKey", t.Key)
		case utf8.RuneCountInString(t.Value) > MaxObjectTagValue || !tagText(t.Value, s3):
			return oss.ErrInvalidTagValue.With("TagKey", t.Key).With("TagValue", t.Value)
		}
	}
	return nil
}

func tagText(s string, s3 bool) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
		case r == ' ' || r == '+' || r == '-' || r == '=' || r == '.' || r == '_' || r == ':' || r == '/':
		case s3 && r == '@':
		default:
			return false
		}
	}
	return true
}
