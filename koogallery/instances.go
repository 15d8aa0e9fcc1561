package koogallery

import (
	"context"
	"errors"
	"sync"
	"time"
)

// OrderKey identifies the order line a newInstance is for. KooGallery
// requires one instance per orderId + orderLineId (for pay-per-use,
// orderId + productId; put the product ID in OrderLineID then).
type OrderKey struct {
	OrderID     string
	OrderLineID string
}

// InstanceRecord is what the Handler remembers of a created instance: the
// answer it repeats to every later newInstance for the order.
type InstanceRecord struct {
	InstanceID string
	AppInfo    AppInfo
	// Test is the created instance's testFlag.
	Test    bool
	Created time.Time
}

// ErrClaimed is returned by InstanceStore.Claim while another newInstance
// for the same order is being answered; the Handler answers 000004 and
// KooGallery asks again.
var ErrClaimed = errors.New("koogallery: newInstance for this order is in progress")

// InstanceStore makes newInstance idempotent per order: the first call for
// an order claims it, the vendor creates the instance, and the Handler
// records the answer; every later call for the order is answered from the
// record without calling the vendor (KooGallery sends newInstance again
// whenever the buyer views the order, and the instance ID must not change).
//
// The default is MemoryInstanceStore, which forgets on restart. A vendor
// with more than one replica, or that restarts, plugs in a store over its
// own database (a row per order with a unique key) with WithInstanceStore.
type InstanceStore interface {
	// Claim returns the record of a created instance (rec != nil), or
	// claims the order for lease and returns a token for Complete or
	// Release (rec == nil), or returns ErrClaimed when a live claim of
	// another call holds it. An expired claim may be taken over.
	Claim(ctx context.Context, key OrderKey, lease time.Duration) (rec *InstanceRecord, token string, err error)
	// Complete records the instance of a claimed order and returns the
	// record that stands: rec, or the record another call completed first
	// (after this call's claim expired).
	Complete(ctx context.Context, key OrderKey, token string, rec InstanceRecord) (InstanceRecord, error)
	// Release gives up a claim without a record (the vendor failed), so
	// that the next newInstance for the order reaches the vendor.
	Release(ctx context.Context, key OrderKey, token string) error
}

// MemoryInstanceStore is an InstanceStore in memory, for one process; it is
// safe for concurrent use. It keeps every record for the life of the
// process (one per order line).
type MemoryInstanceStore struct {
	mu      sync.Mutex
	records map[OrderKey]InstanceRecord
	claims  map[OrderKey]claim
	now     func() time.Time
}

type claim struct {
	token   string
	expires time.Time
}

// NewMemoryInstanceStore returns an empty store; now is its clock (nil:
// time.Now).
func NewMemoryInstanceStore(now func() time.Time) *MemoryInstanceStore {
	if now == nil {
		now = time.Now
	}
	return &MemoryInstanceStore{records: map[OrderKey]InstanceRecord{}, claims: map[OrderKey]claim{}, now: now}
}

// Claim implements InstanceStore.
func (s *MemoryInstanceStore) Claim(_ context.Context, key OrderKey, lease time.Duration) (*InstanceRecord, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rec, ok := s.records[key]; ok {
		return &rec, "", nil
	}
	now := s.now()
	if c, ok := s.claims[key]; ok && c.expires.After(now) {
		return nil, "", ErrClaimed
	}
	tok := NewNonce()
	s.claims[key] = claim{token: tok, expires: now.Add(lease)}
	return nil, tok, nil
}

// Complete implements InstanceStore.
func (s *MemoryInstanceStore) Complete(_ context.Context, key OrderKey, token string, rec InstanceRecord) (InstanceRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.records[key]; ok {
		return old, nil
	}
	if c, ok := s.claims[key]; ok && c.token == token {
		delete(s.claims, key)
	}
	s.records[key] = rec
	return rec, nil
}

// Release implements InstanceStore.
func (s *MemoryInstanceStore) Release(_ context.Context, key OrderKey, token string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.claims[key]; ok && c.token == token {
		delete(s.claims, key)
	}
	return nil
}

// Lookup returns the record of an order, if any.
func (s *MemoryInstanceStore) Lookup(key OrderKey) (InstanceRecord, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.records[key]
	return rec, ok
}

// Len reports how many orders have a record.
func (s *MemoryInstanceStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.records)
}
