package service

import (
	"fmt"
	"io"

	"github.com/ossd/ossd/internal/blob"
	"github.com/ossd/ossd/internal/meta"
	"github.com/ossd/ossd/internal/vfs"
)

// extentReader reads a byte range across an object's blob files, opening
// one file at a time — except the extents from eagerFrom on, which it
// opens before the first byte goes out, so that a blob removed meanwhile
// (an append merging them away) is still read whole.
type extentReader struct {
	blobs   *blob.Store
	extents []meta.Extent
	pre     []vfs.File // aligned with extents: files opened up front, or nil
	off, n  int64      // remaining range, relative to the current extent list
	f       vfs.File
	lr      io.LimitedReader
}

func newExtentReader(bs *blob.Store, ext []meta.Extent, off, n int64, eagerFrom int) (*extentReader, error) {
	r := &extentReader{blobs: bs, extents: ext, off: off, n: n}
	if eagerFrom < len(ext) {
		r.pre = make([]vfs.File, len(ext))
		var start int64
		for i, e := range ext {
			if i >= eagerFrom && start+e.Size > off && start < off+n {
				f, err := bs.Open(e.Blob)
				if err != nil {
					r.Close()
					return nil, fmt.Errorf("open blob: %w", err)
				}
				r.pre[i] = f
			}
			start += e.Size
		}
	}
	// Open the first file now so a missing blob fails before headers go out.
	if err := r.next(); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// drop moves past the first extent.
func (r *extentReader) drop() (pre vfs.File) {
	r.extents = r.extents[1:]
	if r.pre != nil {
		pre, r.pre = r.pre[0], r.pre[1:]
	}
	return pre
}

// next opens the file holding the next byte of the range.
func (r *extentReader) next() error {
	if r.f != nil {
		r.f.Close()
		r.f = nil
	}
	for len(r.extents) > 0 && r.off >= r.extents[0].Size {
		r.off -= r.extents[0].Size
		if f := r.drop(); f != nil {
			f.Close()
		}
	}
	if r.n <= 0 || len(r.extents) == 0 {
		return io.EOF
	}
	e := r.extents[0]
	f := r.drop()
	if f == nil {
		var err error
		if f, err = r.blobs.Open(e.Blob); err != nil {
			return fmt.Errorf("open blob: %w", err)
		}
	}
	take := min(e.Size-r.off, r.n)
	src := io.Reader(io.NewSectionReader(f, r.off, take))
	if of, ok := f.(vfs.OSFile); ok {
		// A LimitedReader over an *os.File lets net/http's ReadFrom use
		// sendfile for the response body.
		if _, err := of.Seek(r.off, io.SeekStart); err != nil {
			f.Close()
			return err
		}
		src = of.File
	}
	r.f = f
	r.lr = io.LimitedReader{R: src, N: take}
	r.off = 0
	r.n -= take
	return nil
}

func (r *extentReader) Read(p []byte) (int, error) {
	for {
		if r.f == nil {
			return 0, io.EOF
		}
		n, err := r.lr.Read(p)
		if n > 0 {
			return n, nil
		}
		if err != nil && err != io.EOF {
			return 0, err
		}
		if err := r.next(); err != nil {
			return 0, err
		}
	}
}

// WriteTo hands each extent to w as a LimitedReader over the file, so an
// http.ResponseWriter can splice it with sendfile.
func (r *extentReader) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for r.f != nil {
		want := r.lr.N
		n, err := io.Copy(w, &r.lr)
		total += n
		if err != nil {
			return total, err
		}
		if n < want {
			return total, io.ErrUnexpectedEOF // blob shorter than its record
		}
		if err := r.next(); err != nil {
			if err == io.EOF {
				break
			}
			return total, err
		}
	}
	return total, nil
}

func (r *extentReader) Close() error {
	for _, f := range r.pre {
		if f != nil {
			f.Close()
		}
	}
	r.pre = nil
	if r.f != nil {
		err := r.f.Close()
		r.f = nil
		return err
	}
	return nil
}
