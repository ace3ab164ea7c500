package boltmeta

// Commits returns how many transactions s has committed for Update calls.
func Commits(s *Store) int64 { return s.commits.Load() }
