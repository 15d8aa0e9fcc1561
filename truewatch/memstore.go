package truewatch

import (
	"cmp"
	"context"
	"iter"
	"slices"
	"sync"
	"time"
)

// MemoryStore is a Store in memory, the default: it survives a failed or
// cancelled Run in the same process, not a crash of the process. Its leases
// keep concurrent Runs in one process apart. The zero MemoryStore is empty
// and ready to use.
type MemoryStore struct {
	mu     sync.Mutex
	m      map[string]*Checkpoint
	leases map[string]Lease
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore { return &MemoryStore{} }

// Load implements Store.
func (s *MemoryStore) Load(ctx context.Context, id string) (*Checkpoint, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[id].clone(), nil
}

// Save implements Store.
func (s *MemoryStore) Save(ctx context.Context, id string, cp *Checkpoint) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if err := ValidateSave(id, cp); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var cur int64
	if old := s.m[id]; old != nil {
		cur = old.Revision
	}
	if cur != cp.Revision {
		return 0, &ConflictError{ActivationID: id, Expected: cp.Revision, Actual: cur}
	}
	if s.m == nil {
		s.m = map[string]*Checkpoint{}
	}
	c := cp.clone()
	c.Revision = cur + 1
	s.m[id] = c
	return c.Revision, nil
}

// Delete implements Store.
func (s *MemoryStore) Delete(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, id)
	return nil
}

// List implements Store: it yields copies of the checkpoints as they were
// when listing began.
func (s *MemoryStore) List(ctx context.Context, f ListFilter) iter.Seq2[*Checkpoint, error] {
	return func(yield func(*Checkpoint, error) bool) {
		s.mu.Lock()
		var out []*Checkpoint
		for _, cp := range s.m {
			if f.Match(cp) {
				out = append(out, cp.clone())
			}
		}
		s.mu.Unlock()
		slices.SortFunc(out, func(a, b *Checkpoint) int { return cmp.Compare(a.ActivationID, b.ActivationID) })
		for _, cp := range out {
			if err := ctx.Err(); err != nil {
				yield(nil, err)
				return
			}
			if !yield(cp, nil) {
				return
			}
		}
	}
}

// Claim implements Store.
func (s *MemoryStore) Claim(ctx context.Context, id, owner string, ttl time.Duration) (Lease, error) {
	if err := ctx.Err(); err != nil {
		return Lease{}, err
	}
	if err := ValidateClaim(id, owner, ttl); err != nil {
		return Lease{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	if l, ok := s.leases[id]; ok && l.ExpiresAt.After(now) {
		return Lease{}, &LeaseHeldError{ActivationID: id, Owner: l.Owner, ExpiresAt: l.ExpiresAt}
	}
	if s.leases == nil {
		s.leases = map[string]Lease{}
	}
	l := Lease{ActivationID: id, Owner: owner, Token: NewLeaseToken(), ExpiresAt: now.Add(ttl)}
	s.leases[id] = l
	return l, nil
}

// Renew implements Store.
func (s *MemoryStore) Renew(ctx context.Context, l Lease, ttl time.Duration) (Lease, error) {
	if err := ctx.Err(); err != nil {
		return Lease{}, err
	}
	if err := ValidateClaim(l.ActivationID, l.Owner, ttl); err != nil {
		return Lease{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.leases[l.ActivationID]
	if !ok || cur.Token != l.Token {
		return Lease{}, &LeaseLostError{ActivationID: l.ActivationID, Owner: l.Owner, Holder: cur.Owner}
	}
	cur.ExpiresAt = time.Now().Add(ttl)
	s.leases[l.ActivationID] = cur
	return cur, nil
}

// Release implements Store.
func (s *MemoryStore) Release(ctx context.Context, l Lease) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.leases[l.ActivationID]
	if !ok || cur.Token != l.Token {
		return &LeaseLostError{ActivationID: l.ActivationID, Owner: l.Owner, Holder: cur.Owner}
	}
	delete(s.leases, l.ActivationID)
	return nil
}
