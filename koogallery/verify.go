package koogallery

import (
	"container/heap"
	"context"
	"crypto/hmac"
	"encoding/hex"
	"errors"
	"strconv"
	"sync"
	"time"
)

// Defaults of the verifiers.
const (
	// DefaultWindow is how old a timestamp may be: KooGallery documents
	// 60 seconds.
	DefaultWindow = 60 * time.Second
	// DefaultFutureSkew is how far ahead of the verifier's clock a
	// timestamp may be. The Java sample checks only the past; a timestamp
	// without a future bound would stay valid for as long as the sender
	// chose, longer than any bounded nonce cache remembers it, so this
	// package allows clock skew only.
	DefaultFutureSkew = 60 * time.Second
	// DefaultNonceCapacity is how many nonces the in-memory store holds.
	DefaultNonceCapacity = 100_000
	// MaxNonceLen bounds a nonce.
	MaxNonceLen = 128
)

// NonceStore remembers the nonces of verified calls so that a replay within
// the window is refused. The handlers call Use only after the signature
// matched, so an attacker without the key cannot fill it. Share one store
// across a fleet (Redis SET NX with an expiry, a database row with a unique
// key) to refuse a replay sent to another replica; the default,
// MemoryNonceStore, protects one process.
type NonceStore interface {
	// Use records nonce until expires and reports whether it was unused
	// (true) or has been recorded before and not yet expired (false).
	Use(ctx context.Context, nonce string, expires time.Time) (fresh bool, err error)
}

// ErrNonceStoreFull is returned by MemoryNonceStore when it holds its
// capacity of unexpired nonces. The handlers then refuse the call (000005)
// rather than forget a nonce that could be replayed.
var ErrNonceStoreFull = errors.New("koogallery: nonce store is full")

// MemoryNonceStore is a NonceStore for one process, bounded in size; it is
// safe for concurrent use.
type MemoryNonceStore struct {
	mu    sync.Mutex
	seen  map[string]time.Time
	queue nonceHeap
	max   int
	now   func() time.Time
}

// NewMemoryNonceStore returns a store that holds at most capacity
// unexpired nonces (capacity <= 0 means DefaultNonceCapacity). now is its
// clock; nil means time.Now.
func NewMemoryNonceStore(capacity int, now func() time.Time) *MemoryNonceStore {
	if capacity <= 0 {
		capacity = DefaultNonceCapacity
	}
	if now == nil {
		now = time.Now
	}
	return &MemoryNonceStore{seen: map[string]time.Time{}, max: capacity, now: now}
}

// Use implements NonceStore.
func (s *MemoryNonceStore) Use(_ context.Context, nonce string, expires time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for len(s.queue) > 0 && !s.queue[0].expires.After(now) {
		e := heap.Pop(&s.queue).(nonceEntry)
		if t, ok := s.seen[e.nonce]; ok && t.Equal(e.expires) {
			delete(s.seen, e.nonce)
		}
	}
	if t, ok := s.seen[nonce]; ok && t.After(now) {
		return false, nil
	}
	if len(s.seen) >= s.max {
		return false, ErrNonceStoreFull
	}
	s.seen[nonce] = expires
	heap.Push(&s.queue, nonceEntry{nonce: nonce, expires: expires})
	return true, nil
}

// Len reports how many nonces the store holds.
func (s *MemoryNonceStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.seen)
}

type nonceEntry struct {
	nonce   string
	expires time.Time
}

type nonceHeap []nonceEntry

func (h nonceHeap) Len() int           { return len(h) }
func (h nonceHeap) Less(i, j int) bool { return h[i].expires.Before(h[j].expires) }
func (h nonceHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *nonceHeap) Push(x any)        { *h = append(*h, x.(nonceEntry)) }
func (h *nonceHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

// verifier checks one signed call; the production and kit handlers differ
// only in where the three values travel, the inner hash and the key.
type verifier struct {
	key      []byte
	forms    BodyForms
	bodyHash BodyHashFunc // nil: the kit, no inner hash
	window   time.Duration
	skew     time.Duration
	nonces   NonceStore
	scope    string // prefixes nonces, so one store can serve both interfaces
	now      func() time.Time
}

// refusal is a verification or decoding failure: the code and message to
// answer with, and the reason to log.
type refusal struct {
	code   ResultCode
	msg    string
	reason string
}

func refuse(code ResultCode, msg string) *refusal {
	return &refusal{code: code, msg: msg, reason: msg}
}

// verify checks the timestamp, the signature and then the nonce, in that
// order, and records the nonce only when the signature matched.
func (v *verifier) verify(ctx context.Context, sig, ts, nonce string, raw []byte, body *jsonValue) *refusal {
	switch {
	case ts == "":
		return refuse(ResultInvalidParameter, "missing timestamp")
	case nonce == "":
		return refuse(ResultInvalidParameter, "missing nonce")
	case sig == "":
		return refuse(ResultAuthFailed, "missing signature")
	case len(nonce) > MaxNonceLen || !printableASCII(nonce):
		return refuse(ResultInvalidParameter, "nonce must be at most 128 printable ASCII characters")
	}
	ms, err := parseMillis(ts)
	if err != nil {
		return refuse(ResultInvalidParameter, "timestamp must be Unix milliseconds")
	}
	now := v.now()
	at := time.UnixMilli(ms)
	if now.Sub(at) > v.window || at.Sub(now) > v.skew {
		return &refusal{code: ResultInvalidParameter, msg: "timestamp outside the allowed window",
			reason: "timestamp " + at.UTC().Format(time.RFC3339Nano) + " is outside the window at " + now.UTC().Format(time.RFC3339Nano)}
	}
	got, err := hex.DecodeString(sig)
	if err != nil || len(got) != 32 {
		return refuse(ResultAuthFailed, "signature mismatch")
	}
	matched := false
	for _, p := range payloads(v.forms, raw, body) {
		tail := p
		if v.bodyHash != nil {
			tail = []byte(v.bodyHash(v.key, p))
		}
		// hex.DecodeString takes either case, so the comparison of the
		// decoded bytes is case-insensitive and constant-time.
		if hmac.Equal(got, signatureMAC(v.key, nonce, ts, tail)) {
			matched = true
		}
	}
	if !matched {
		return refuse(ResultAuthFailed, "signature mismatch")
	}
	// The timestamp is accepted through at+window inclusive; the nonce is
	// kept a millisecond (the timestamp's unit) past it, so that no instant
	// accepts the timestamp after its nonce was forgotten.
	fresh, err := v.nonces.Use(ctx, v.scope+nonce, at.Add(v.window+time.Millisecond))
	switch {
	case err != nil:
		return &refusal{code: ResultInternalError, msg: "internal error", reason: "nonce store: " + err.Error()}
	case !fresh:
		return refuse(ResultAuthFailed, "nonce already used")
	}
	return nil
}

func parseMillis(ts string) (int64, error) {
	if len(ts) == 0 || len(ts) > 16 {
		return 0, errors.New("bad length")
	}
	for i := 0; i < len(ts); i++ {
		if ts[i] < '0' || ts[i] > '9' {
			return 0, errors.New("not digits")
		}
	}
	return strconv.ParseInt(ts, 10, 64)
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}
