package service

import (
	"encoding/json"

	"github.com/ossd/ossd/internal/meta"
)

// collectRefs adds the blob ids a stored Version or Part references.
func collectRefs(raw []byte, refs map[string]bool) {
	var v struct {
		Extents []struct {
			Blob string `json:"b"`
		} `json:"ext"`
		Blob string `json:"blob"`
	}
	if json.Unmarshal(meta.VersionRecord(raw), &v) != nil {
		return
	}
	for _, e := range v.Extents {
		refs[e.Blob] = true
	}
	if v.Blob != "" {
		refs[v.Blob] = true
	}
}
