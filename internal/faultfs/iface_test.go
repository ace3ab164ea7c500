package faultfs

import (
	"github.com/ossd/ossd/internal/blob"
	"github.com/ossd/ossd/internal/meta"
	"github.com/ossd/ossd/internal/vfs"
)

// The types implement the interfaces the stores take.
var (
	_ vfs.FS     = (*FS)(nil)
	_ blob.FS    = (*FS)(nil)
	_ blob.FS    = vfs.OS{}
	_ meta.Store = (*Meta)(nil)
)
