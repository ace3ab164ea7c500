package meta

import (
	"encoding/json"
	"fmt"
)

// storedRefs is the part of a stored Version (ext) or Part (blob) that
// names blob files: decoding only these fields keeps a scan of every
// record cheap. Version and Part name their blob fields differently, so
// one struct reads either.
type storedRefs struct {
	Extents []struct {
		Blob string `json:"b"`
	} `json:"ext"`
	Blob string `json:"blob"`
}

// blobRefs calls fn with each blob id the stored Version or Part value raw
// references (none for an inline object or a delete marker).
func blobRefs(raw []byte, fn func(id string)) error {
	var r storedRefs
	if err := json.Unmarshal(VersionRecord(raw), &r); err != nil {
		return err
	}
	for _, e := range r.Extents {
		if e.Blob != "" {
			fn(e.Blob)
		}
	}
	if r.Blob != "" {
		fn(r.Blob)
	}
	return nil
}

// ScanBlobRefs calls fn with the id of every blob file that a stored
// object version or multipart part references, in no particular order and
// possibly more than once. It is what the blob sweep keeps, so it must see
// every reference: a record that cannot be decoded is an error (the sweep
// then deletes nothing), never skipped, since skipping it would delete the
// bytes it names. The encoding is this package's own; callers need not
// know it.
func ScanBlobRefs(tx Tx, fn func(id string)) error {
	for _, space := range []string{SpaceObjects, SpaceParts} {
		var derr error
		err := tx.Ascend(space, nil, func(k, v []byte) bool {
			if err := blobRefs(v, fn); err != nil {
				derr = fmt.Errorf("%s record %q: decode blob references: %w", space, k, err)
				return false
			}
			return true
		})
		if err != nil {
			return err
		}
		if derr != nil {
			return derr
		}
	}
	return nil
}
