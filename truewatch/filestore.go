package truewatch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// FileStore is a Store that keeps one JSON file per activation in a
// directory (<id>.json, mode 0600), and its lease next to it (<id>.lease),
// for processes on one host.
//
// Files are written atomically (a temporary file, then a rename), so a crash
// never leaves a torn checkpoint. Every change (Save, Delete, Claim, Renew,
// Release) holds an exclusive lock on the directory's ".lock" file for the
// few milliseconds it lasts (flock on Unix, LockFileEx on Windows): that
// makes revisions and leases hold across processes, and the system drops the
// lock of a process that dies, whose lease then ends by its TTL. The
// temporary file of a write that crashed before its rename is removed by the
// first change a FileStore makes in the directory; under the lock, no live
// write's file is touched. Locks on network file systems are not reliable:
// beyond one host, use a database store.
//
// The checkpoint files hold the activations' KeySecrets: the files are 0600
// and the directory 0700, readable only by the user the activations run as;
// keep it so, and keep the directory out of backups others can read.
type FileStore struct {
	dir string

	mu    sync.Mutex
	swept bool // crash leftovers removed
}

// NewFileStore returns a FileStore in dir (the working directory when
// empty), created (0700) on the first change. It touches no file.
func NewFileStore(dir string) *FileStore {
	if dir == "" {
		dir = "."
	}
	return &FileStore{dir: dir}
}

// Dir is the directory the store keeps its files in.
func (s *FileStore) Dir() string { return s.dir }

const (
	checkpointExt = ".json"
	leaseExt      = ".lease"
	tmpExt        = ".tmp"
	lockName      = ".lock"
)

func (s *FileStore) path(id, ext string) (string, error) {
	if s == nil {
		return "", errors.New("truewatch: nil *FileStore; make one with NewFileStore")
	}
	if !validFileID(id) {
		return "", fmt.Errorf("truewatch: invalid checkpoint id %q", id)
	}
	return filepath.Join(s.dir, id+ext), nil
}

func validFileID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// DecodeCheckpoint decodes a checkpoint kept as JSON under id, for Store
// implementations. What does not decode, or belongs to another activation,
// is an error matching ErrBadCheckpoint that names id and where.
func DecodeCheckpoint(id, where string, data []byte) (*Checkpoint, error) {
	var cp Checkpoint
	if err := json.Unmarshal(data, &cp); err != nil {
		return nil, fmt.Errorf("%w: checkpoint %s (%s) does not decode: %w", ErrBadCheckpoint, id, where, err)
	}
	if cp.ActivationID != id {
		return nil, fmt.Errorf("%w: checkpoint %s (%s) names activation %q", ErrBadCheckpoint, id, where, cp.ActivationID)
	}
	return &cp, nil
}

// Load implements Store.
func (s *FileStore) Load(ctx context.Context, id string) (*Checkpoint, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p, err := s.path(id, checkpointExt)
	if err != nil {
		return nil, err
	}
	return loadFile(id, p)
}

func loadFile(id, p string) (*Checkpoint, error) {
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("truewatch: read checkpoint: %w", err)
	}
	return DecodeCheckpoint(id, p, b)
}

// Save implements Store.
func (s *FileStore) Save(ctx context.Context, id string, cp *Checkpoint) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if err := ValidateSave(id, cp); err != nil {
		return 0, err
	}
	p, err := s.path(id, checkpointExt)
	if err != nil {
		return 0, err
	}
	var rev int64
	err = s.locked(func() error {
		old, err := loadFile(id, p)
		if err != nil {
			return err
		}
		var cur int64
		if old != nil {
			cur = old.Revision
		}
		if cur != cp.Revision {
			return &ConflictError{ActivationID: id, Expected: cp.Revision, Actual: cur}
		}
		c := cp.clone()
		c.Revision = cur + 1
		b, err := json.MarshalIndent(c, "", "  ")
		if err != nil {
			return fmt.Errorf("truewatch: encode checkpoint: %w", err)
		}
		if err := s.writeFile(id, p, b); err != nil {
			return err
		}
		rev = c.Revision
		return nil
	})
	return rev, err
}

// Delete implements Store.
func (s *FileStore) Delete(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p, err := s.path(id, checkpointExt)
	if err != nil {
		return err
	}
	return s.locked(func() error {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("truewatch: delete checkpoint: %w", err)
		}
		syncDir(s.dir)
		return nil
	})
}

// List implements Store. Files whose names are not activation IDs are
// not checkpoints and are passed over.
func (s *FileStore) List(ctx context.Context, f ListFilter) iter.Seq2[*Checkpoint, error] {
	return func(yield func(*Checkpoint, error) bool) {
		if s == nil {
			yield(nil, errors.New("truewatch: nil *FileStore; make one with NewFileStore"))
			return
		}
		entries, err := os.ReadDir(s.dir)
		if errors.Is(err, os.ErrNotExist) {
			return
		}
		if err != nil {
			yield(nil, fmt.Errorf("truewatch: list checkpoints: %w", err))
			return
		}
		for _, e := range entries { // sorted by name, so by activation ID
			id, ok := strings.CutSuffix(e.Name(), checkpointExt)
			if !ok || e.IsDir() || !validFileID(id) {
				continue
			}
			if err := ctx.Err(); err != nil {
				yield(nil, err)
				return
			}
			cp, err := loadFile(id, filepath.Join(s.dir, e.Name()))
			if cp == nil && err == nil {
				continue // deleted since the directory was read
			}
			if err != nil && !errors.Is(err, ErrBadCheckpoint) {
				yield(nil, err)
				return
			}
			if (err != nil || f.Match(cp)) && !yield(cp, err) {
				return
			}
		}
	}
}

// Claim implements Store.
func (s *FileStore) Claim(ctx context.Context, id, owner string, ttl time.Duration) (Lease, error) {
	if err := ctx.Err(); err != nil {
		return Lease{}, err
	}
	if err := ValidateClaim(id, owner, ttl); err != nil {
		return Lease{}, err
	}
	p, err := s.path(id, leaseExt)
	if err != nil {
		return Lease{}, err
	}
	var l Lease
	err = s.locked(func() error {
		now := time.Now()
		if cur, ok := readLease(p); ok && cur.ExpiresAt.After(now) {
			return &LeaseHeldError{ActivationID: id, Owner: cur.Owner, ExpiresAt: cur.ExpiresAt}
		}
		l = Lease{ActivationID: id, Owner: owner, Token: NewLeaseToken(), ExpiresAt: now.Add(ttl)}
		return s.writeLease(id, p, l)
	})
	return l, err
}

// Renew implements Store.
func (s *FileStore) Renew(ctx context.Context, l Lease, ttl time.Duration) (Lease, error) {
	if err := ctx.Err(); err != nil {
		return Lease{}, err
	}
	if err := ValidateClaim(l.ActivationID, l.Owner, ttl); err != nil {
		return Lease{}, err
	}
	p, err := s.path(l.ActivationID, leaseExt)
	if err != nil {
		return Lease{}, err
	}
	var out Lease
	err = s.locked(func() error {
		cur, ok := readLease(p)
		if !ok || cur.Token != l.Token {
			return &LeaseLostError{ActivationID: l.ActivationID, Owner: l.Owner, Holder: cur.Owner}
		}
		cur.ExpiresAt = time.Now().Add(ttl)
		out = cur
		return s.writeLease(l.ActivationID, p, cur)
	})
	return out, err
}

// Release implements Store.
func (s *FileStore) Release(ctx context.Context, l Lease) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p, err := s.path(l.ActivationID, leaseExt)
	if err != nil {
		return err
	}
	return s.locked(func() error {
		cur, ok := readLease(p)
		if !ok || cur.Token != l.Token {
			return &LeaseLostError{ActivationID: l.ActivationID, Owner: l.Owner, Holder: cur.Owner}
		}
		if err := os.Remove(p); err != nil {
			return fmt.Errorf("truewatch: release lease: %w", err)
		}
		return nil
	})
}

// readLease reads a lease file. A missing file, or one edited into
// something that does not decode, holds no lease.
func readLease(p string) (Lease, bool) {
	b, err := os.ReadFile(p)
	if err != nil {
		return Lease{}, false
	}
	var l Lease
	if json.Unmarshal(b, &l) != nil || l.Token == "" {
		return Lease{}, false
	}
	return l, true
}

func (s *FileStore) writeLease(id, p string, l Lease) error {
	b, err := json.Marshal(l)
	if err != nil {
		return fmt.Errorf("truewatch: encode lease: %w", err)
	}
	return s.writeFile(id, p, b)
}

// locked runs fn holding the directory's lock, creating the directory if
// need be, after removing what crashed writes left behind.
func (s *FileStore) locked(fn func() error) error {
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return fmt.Errorf("truewatch: checkpoint directory: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(s.dir, lockName), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("truewatch: checkpoint directory lock: %w", err)
	}
	defer func() { _ = f.Close() }()
	if err := lockFile(f); err != nil {
		return fmt.Errorf("truewatch: checkpoint directory lock: %w", err)
	}
	defer func() { _ = unlockFile(f) }()
	s.sweep()
	return fn()
}

// sweep removes, once per FileStore, the temporary files of writes that
// crashed before their rename. It runs under the directory's lock, which
// every write holds for its temporary file's whole life.
func (s *FileStore) sweep() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.swept {
		return
	}
	s.swept = true
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if n := e.Name(); strings.HasPrefix(n, ".") && strings.HasSuffix(n, tmpExt) && e.Type().IsRegular() {
			_ = os.Remove(filepath.Join(s.dir, n))
		}
	}
}

// writeFile writes b to p atomically: a temporary file in the same
// directory, synced, then renamed over p.
func (s *FileStore) writeFile(id, p string, b []byte) error {
	f, err := os.CreateTemp(s.dir, "."+id+"-*"+tmpExt)
	if err != nil {
		return fmt.Errorf("truewatch: write checkpoint: %w", err)
	}
	tmp := f.Name()
	defer func() { _ = os.Remove(tmp) }() // after a successful rename this is a no-op
	if err := f.Chmod(0o600); err != nil {
		_ = f.Close()
		return fmt.Errorf("truewatch: write checkpoint: %w", err)
	}
	if _, err := f.Write(b); err != nil {
		_ = f.Close()
		return fmt.Errorf("truewatch: write checkpoint: %w", err)
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return fmt.Errorf("truewatch: write checkpoint: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("truewatch: write checkpoint: %w", err)
	}
	if err := os.Rename(tmp, p); err != nil {
		return fmt.Errorf("truewatch: write checkpoint: %w", err)
	}
	syncDir(s.dir)
	return nil
}

// syncDir makes a rename in dir durable where the system allows it; where
// it does not (Windows), the rename is still atomic.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}
