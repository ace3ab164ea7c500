package accesslog

import (
	"crypto/rand"
	"fmt"
	"strings"
)

// A node id names one ossd node and its journal. It goes into the
// UniqueString of every log object the journal's records are delivered in
// (upper-cased, before the 16 hex digits of the object's first record ID),
// so two nodes' objects never share a name, while the name keeps OSS's
// shape: UniqueString stays one alphanumeric token after the last '-',
// which is where log readers (osslog/stats.ParseObjectName, the oss2
// sample) look for it.
const (
	// MaxNodeIDLen bounds a node id: UniqueString stays at most 32
	// characters.
	MaxNodeIDLen = 16
	// generatedNodeIDLen is the length of NewNodeID's ids.
	generatedNodeIDLen = 8
)

// CheckNodeID reports why id cannot be a node id: 1 to 16 characters, ASCII
// lower-case letters and digits. Upper case is refused rather than folded,
// so that a node id is spelled one way in directory names, lease keys and
// the banner.
func CheckNodeID(id string) error {
	if id == "" || len(id) > MaxNodeIDLen {
		return fmt.Errorf("node id %q: must be 1 to %d characters", id, MaxNodeIDLen)
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9') {
			return fmt.Errorf("node id %q: only lower-case letters a-z and digits 0-9 are allowed", id)
		}
	}
	return nil
}

// NewNodeID returns a random node id of 8 characters.
func NewNodeID() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, generatedNodeIDLen)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// appendUnique appends the UniqueString of an object of node's journal
// whose first record is first: the node id in upper case, then first in 16
// upper-case hex digits (node "" gives the names of ossd before node ids).
// The record part has a fixed width, so the string is unique across nodes.
func appendUnique(name []byte, node string, first uint64) []byte {
	name = append(name, strings.ToUpper(node)...)
	const digits = "0123456789ABCDEF"
	for shift := 60; shift >= 0; shift -= 4 {
		name = append(name, digits[first>>uint(shift)&0xf])
	}
	return name
}
