package service

import (
	"fmt"
	"io"

	"github.com/ossd/ossd/internal/blob"
	"github.com/ossd/ossd/internal/meta"
	"github.com/ossd/ossd/internal/vfs"
)

// extentReader reads a byte range across an object's blob files, opening
// one file at a time.
type extentReader struct {
	blobs   *blob.Store
	extents []meta.Extent
	off, n  int64 // remaining range, relative to the current extent list
	f       vfs.File
	lr      io.LimitedReader
}

func newExtentReader(bs *blob.Store, ext []meta.Extent, off, n int64) (*extentReader, error) {
	r := &extentReader{blobs: bs, extents: ext, off: off, n: n}
	// Open the first file now so a missing blob fails before headers go out.
	if err := r.next(); err != nil {
		return nil, err
	}
	return r, nil
}

// next opens the file holding the next byte of the range.
func (r *extentReader) next() error {
	if r.f != nil {
		r.f.Close()
		r.f = nil
	}
	for len(r.extents) > 0 && r.off >= r.extents[0].Size {
		r.off -= r.extents[0].Size
		r.extents = r.extents[1:]
	}
	if r.n <= 0 || len(r.extents) == 0 {
		return io.EOF
	}
	e := r.extents[0]
	f, err := r.blobs.Open(e.Blob)
	if err != nil {
		return fmt.Errorf("open blob: %w", err)
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
	r.extents = r.extents[1:]
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
	if r.f != nil {
		return r.f.Close()
	}
	return nil
}
