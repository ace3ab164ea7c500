//go:build !unix

package pgtest

import "errors"

// Freeze stops the server's processes; unix only.
func (s *Server) Freeze() error { return errors.New("pgtest: Freeze needs unix signals") }

// Thaw resumes a frozen server; unix only.
func (s *Server) Thaw() error { return errors.New("pgtest: Thaw needs unix signals") }
