package service

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ossd/ossd/internal/blob"
	"github.com/ossd/ossd/internal/meta"
)

// Blob intents make the sweep safe on a blob directory several nodes write
// to. On one node the sweep can tell a leftover by its age (older than the
// process's start); across nodes no age can: a node may pause (GC, a
// frozen VM, a stalled NFS server, a metadata store that is down) for any
// time between writing a blob and committing the record that references
// it, and an idle-timeout bound on request bodies (--body-read-timeout)
// says nothing of that gap, or of a body timeout set to 0. So on a shared
// store (meta.Shared) each blob is announced before it exists:
//
//  1. newBlob commits an intent record for a fresh id, then creates the
//     file (never the other way round).
//  2. The transaction that first references the blob (the object's or
//     part's commit) takes the intent back in the same transaction
//     (claimBlobs); a write that is refused instead drops it
//     (discardBlobs).
//
// sweepShared then removes a file only if, in one snapshot taken after it
// listed the file, no record references it and no intent names it. Why
// that never removes a blob a commit references or will reference: let W
// write blob X and the sweep list X. W's intent committed before X was
// created, so before the listing, so before the snapshot. In the snapshot
// either W's claiming commit is visible — then X is referenced — or it is
// not — then W's intent, which only that commit (or W's own discard)
// removes, is still there. Either way X is spared.
//
// Intents of writers that died (a crash between steps 1 and 2) would pin
// their files forever, so a sweep first takes back intents older than
// blobIntentMaxAge, in a transaction of its own. Time decides only when a
// leftover goes, never whether a live write survives: a writer that was
// paused past the limit finds its intent gone when it commits (claimBlobs
// reads and deletes the same record the sweep deleted, so the store's
// serializable transactions let exactly one of the two have it) and fails
// the write with an error instead of referencing a file that may be gone.
//
// The argument needs the store to be strictly serializable: a View begun
// after an Update returned sees every transaction ordered before that
// Update (bbolt, one PostgreSQL primary).
//
// Cost on a shared store: one extra metadata transaction per blob written
// (each object over the inline limit, each part, each append), plus a
// read and a delete in the commit's own transaction. Objects kept inline
// write no blob and pay nothing.

// blobIntentMaxAge is how old an intent may grow before a sweep takes it
// back. Far above any one upload (5 GiB at a crawl still finishes in
// hours); a write stalled longer fails rather than lose data.
const blobIntentMaxAge = 24 * time.Hour

// errIntentLost: a sweep took back the intent of the blob a commit was to
// reference (the writer stalled past blobIntentMaxAge), so the file may be
// gone; the write fails and nothing becomes visible.
var errIntentLost = errors.New("blob intent taken back by a sweep: the write stalled too long")

// newBlob starts a blob file that a later metadata commit will reference
// (calling claimBlobs in its transaction). On a shared store its id is
// recorded as an intent first.
func (s *Service) newBlob(ctx context.Context) (*blob.Writer, error) {
	if !s.shared {
		return s.blobs.Create()
	}
	id := blob.NewID()
	now := s.now()
	if err := s.meta.Update(ctx, func(tx meta.Tx) error { return meta.PutBlobIntent(tx, id, now) }); err != nil {
		return nil, fmt.Errorf("record blob intent: %w", err)
	}
	w, err := s.blobs.CreateID(id)
	if err != nil {
		s.dropIntents(id)
		return nil, err
	}
	return w, nil
}

// claimBlobs takes back the intents of blobs that the calling transaction
// references for the first time; errIntentLost if a sweep took one.
func (s *Service) claimBlobs(tx meta.Tx, ids ...string) error {
	if !s.shared {
		return nil
	}
	for _, id := range ids {
		ok, err := meta.TakeBlobIntent(tx, id)
		if err != nil {
			return err
		}
		if !ok {
			return errIntentLost
		}
	}
	return nil
}

// abortBlob discards a blob being written whose write was refused.
func (s *Service) abortBlob(w *blob.Writer) {
	w.Abort()
	s.dropIntents(w.ID)
}

// discardBlobs removes blobs that no commit references (the write was
// refused) with their intents.
func (s *Service) discardBlobs(ids ...string) {
	s.blobs.Remove(ids...)
	s.dropIntents(ids...)
}

// dropIntents removes the intents of blobs that will not be referenced.
// Best effort: an intent left behind is taken back by a sweep after
// blobIntentMaxAge, with its file if that still exists.
func (s *Service) dropIntents(ids ...string) {
	if !s.shared || len(ids) == 0 {
		return
	}
	err := s.meta.Update(context.Background(), func(tx meta.Tx) error {
		for _, id := range ids {
			if _, err := meta.TakeBlobIntent(tx, id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		s.log.Warn("drop blob intents", "blobs", ids, "err", err)
	}
}

// sweepShared is Sweep on a shared store; the argument for its order of
// steps is at the top of this file.
func (s *Service) sweepShared(ctx context.Context) (int, error) {
	// 1. List the files: only these may go.
	ids, err := s.blobs.IDs(ctx)
	if err != nil {
		return 0, fmt.Errorf("sweep: list blobs: %w", err)
	}
	// 2. Take back intents of writers that died.
	cutoff := s.now().Add(-blobIntentMaxAge)
	err = s.meta.Update(ctx, func(tx meta.Tx) error {
		var stale []string
		if err := meta.ScanBlobIntents(tx, func(id string, at time.Time) bool {
			if at.Before(cutoff) {
				stale = append(stale, id)
			}
			return true
		}); err != nil {
			return err
		}
		for _, id := range stale {
			if _, err := meta.TakeBlobIntent(tx, id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("sweep: take back stale blob intents: %w", err)
	}
	// 3. One snapshot, after the listing: what is referenced or announced.
	keep := map[string]bool{}
	err = s.meta.View(ctx, func(tx meta.Tx) error {
		clear(keep)
		if err := meta.ScanBlobRefs(tx, func(id string) { keep[id] = true }); err != nil {
			return err
		}
		return meta.ScanBlobIntents(tx, func(id string, _ time.Time) bool { keep[id] = true; return true })
	})
	if err != nil {
		return 0, fmt.Errorf("sweep: scan metadata: %w", err)
	}
	// 4. The rest are leftovers.
	removed := 0
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return removed, err
		}
		if !keep[id] {
			s.blobs.Remove(id)
			removed++
		}
	}
	return removed, nil
}
