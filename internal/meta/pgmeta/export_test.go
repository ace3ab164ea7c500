package pgmeta

// Queued returns how many Updates wait for a committer.
func Queued(s *Store) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.pending)
}
