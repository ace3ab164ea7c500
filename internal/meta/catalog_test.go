package meta

import (
	"bytes"
	"testing"
)

func TestVersionEncoding(t *testing.T) {
	for _, data := range [][]byte{nil, {}, []byte("plain"), {0, 0, 1, 0}, bytes.Repeat([]byte{0xff, 0}, 3000)} {
		v := &Version{Key: "k\x01", VersionID: "null", Size: int64(len(data)), Inline: data, UserMeta: map[string]string{"x-oss-meta-a": "\x00b"}}
		raw, err := encodeVersion(v)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeVersion(raw, true)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Inline, data) || (data == nil) != (got.Inline == nil) || got.Key != v.Key || got.UserMeta["x-oss-meta-a"] != "\x00b" {
			t.Fatalf("round trip of %d bytes: got %+v", len(data), got)
		}
		if lean, _ := decodeVersion(raw, false); lean.Inline != nil {
			t.Fatal("listing decode copied the bytes")
		}
	}
}
