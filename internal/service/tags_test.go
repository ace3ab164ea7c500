package service

import (
	"errors"
	"strings"
	"testing"

	"github.com/ossd/ossd/internal/meta"
	"github.com/ossd/ossd/internal/oss"
)

func TestCheckObjectTags(t *testing.T) {
	for _, tc := range []struct {
		name       string
		key, value string
		s3         bool
		want       *oss.Error // nil: accepted
		ec         string
	}{
		{"longest key and value", strings.Repeat("a", 128), strings.Repeat("b", 256), false, nil, ""},
		{"every allowed symbol", "+-=._:/ ", "+-=._:/ ", false, nil, ""},
		{"empty value", "k", "", false, nil, ""},
		{"key too long", strings.Repeat("a", 129), "v", false, oss.ErrInvalidTagKey, "0010-00000209"},
		{"empty key", "", "v", false, oss.ErrInvalidTagKey, "0010-00000212"},
		{"percent and at in key", "%@abc", "v", false, oss.ErrInvalidTagKey, "0010-00000212"},
		{"value too long", "k", strings.Repeat("a", 257), false, oss.ErrInvalidTagValue, "0010-00000217"},
		{"percent in value", "k", "%abc", false, oss.ErrInvalidTagValue, "0010-00000217"},
		{"control character", "k\x0c", "v", false, oss.ErrInvalidTagKey, "0010-00000212"},
		{"not UTF-8", "k", "\xff", false, oss.ErrInvalidTagValue, "0010-00000217"},
		{"at in S3", "a@b", "v", true, nil, ""},
		{"letters of any script in S3", "標籤", "値", true, nil, ""},
		{"symbol outside the alphabet", "k", "a€", false, oss.ErrInvalidTagValue, "0010-00000217"},
		{"letters of any script in OSS", "標籤", "中文", false, nil, ""},
		{"at in OSS", "a@b", "v", false, oss.ErrInvalidTagKey, "0010-00000212"},
		{"percent in S3", "k", "%", true, oss.ErrInvalidTagValue, "0010-00000217"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckObjectTags([]meta.Tag{{Key: "ok", Value: "ok"}, {Key: tc.key, Value: tc.value}}, tc.s3)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var oe *oss.Error
			if !errors.Is(err, tc.want) || !errors.As(err, &oe) || oe.Code != "InvalidTag" || oe.EC != tc.ec {
				t.Fatalf("got %v, want %s EC %s", err, tc.want.Code, tc.ec)
			}
		})
	}
}
