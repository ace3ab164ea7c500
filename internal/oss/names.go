package oss

import (
	"strings"
	"unicode/utf8"
)

// ValidBucketName reports whether name follows OSS's bucket rules: 3–63
// characters of a-z, 0-9 and '-', not starting or ending with '-'.
func ValidBucketName(name string) bool {
	if len(name) < 3 || len(name) > 63 {
		return false
	}
	if name[0] == '-' || name[len(name)-1] == '-' {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// MaxKeyLen is OSS's limit on an object key, in bytes.
const MaxKeyLen = 1023

// CheckKey returns nil when key is a valid object name and otherwise the
// InvalidObjectName error with OSS's message for the cause. Keys are
// stored as literal strings and never become file paths, so "../" is a
// valid key; NUL is refused because it is the separator of the metadata
// key layout and no OSS client can send it in a path anyway.
func CheckKey(key string) *Error {
	switch {
	case key == "":
		return ErrInvalidObjectName.WithMessage("The Object name can not be empty")
	case len(key) > MaxKeyLen:
		return ErrInvalidObjectName.WithMessage("The Length of Object name must be less than 1024")
	case key[0] == '/' || key[0] == '\\':
		return ErrInvalidObjectName.WithMessage("The specified object is not valid: it must not start with '/' or '\\'")
	case !utf8.ValidString(key), strings.IndexByte(key, 0) >= 0:
		return ErrInvalidObjectName
	}
	return nil
}
