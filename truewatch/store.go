package truewatch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Checkpoint is the progress of one activation, saved before the first
// change and after every step so that a later Run, in this process or
// another, picks up where it stopped.
//
// It holds one secret, KeySecret, from which the activation's idempotency
// keys derive; no password, verification code or token. KeySecret prints
// redacted, and so does a Checkpoint in fmt and slog; its JSON encoding
// (what FileStore writes, and what a Store of your own should keep)
// carries it, so protect stored checkpoints as credentials: whoever reads
// one can compute the activation's keys (though a replay still needs the
// owner's proof of the Huawei account; see docs/security.md).
type Checkpoint struct {
	// Version is the checkpoint format version (currently 2; version 1,
	// without KeySecret, is read and given a new secret).
	Version int `json:"version"`
	// ActivationID identifies the activation (see Plan.ActivationID).
	ActivationID    string `json:"activationId"`
	HuaweiAccountID string `json:"huaweiAccountId"`
	InstanceID      string `json:"instanceId"`
	Site            Site   `json:"site"`
	Branch          Branch `json:"branch"`
	// Steps are the change steps completed so far, in order; a step that a
	// later run had to take again (binding the account again for a token)
	// appears again.
	Steps []Step `json:"steps"`
	// BindGeneration counts re-binds of the Billing Center account after its
	// token expired; it is part of the bind step's idempotency key.
	BindGeneration int `json:"bindGeneration,omitempty"`
	// KeySecret is the random secret the idempotency keys derive from,
	// made by the activation's first Run.
	KeySecret KeySecret `json:"keySecret,omitzero"`
	// BillingAccountID, BillingUsername, WorkspaceID and LoginURL are the
	// outcome so far.
	BillingAccountID string `json:"billingAccountId,omitempty"`
	BillingUsername  string `json:"billingUsername,omitempty"`
	WorkspaceID      string `json:"workspaceId,omitempty"`
	LoginURL         string `json:"loginUrl,omitempty"`
	// Completed is true once the activation finished.
	Completed bool      `json:"completed"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// checkpointVersion is the Version this package writes.
const checkpointVersion = 2

// LogValue renders the checkpoint for slog with KeySecret redacted (slog's
// JSON handler would otherwise encode it as JSON, secret included).
func (c Checkpoint) LogValue() slog.Value {
	return slog.StringValue(fmt.Sprintf("%+v", c))
}

func (c *Checkpoint) clone() *Checkpoint {
	if c == nil {
		return nil
	}
	out := *c
	out.Steps = append([]Step(nil), c.Steps...)
	return &out
}

// Store keeps checkpoints. It is small on purpose, so that a database table
// with an ID column and a JSON column can back it. Implementations must be
// safe for concurrent use.
type Store interface {
	// Load returns the checkpoint saved under id, or nil and no error when
	// there is none.
	Load(ctx context.Context, id string) (*Checkpoint, error)
	// Save stores cp under id, replacing any previous checkpoint.
	Save(ctx context.Context, id string, cp *Checkpoint) error
	// Delete removes the checkpoint saved under id; deleting a missing one
	// is not an error.
	Delete(ctx context.Context, id string) error
}

// MemoryStore is a Store in memory, the default: it survives a failed or
// cancelled Run in the same process, not a crash of the process.
type MemoryStore struct {
	mu sync.Mutex
	m  map[string]*Checkpoint
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore { return &MemoryStore{m: map[string]*Checkpoint{}} }

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
func (s *MemoryStore) Save(ctx context.Context, id string, cp *Checkpoint) error {
	if cp == nil {
		return errors.New("truewatch: nil checkpoint")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]*Checkpoint{}
	}
	s.m[id] = cp.clone()
	return nil
}

// Delete implements Store.
func (s *MemoryStore) Delete(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, id)
	return nil
}

// FileStore is a Store that keeps one JSON file per activation in a
// directory, written atomically (temporary file, then rename) with mode
// 0600, so a crash never leaves a torn checkpoint.
type FileStore struct {
	dir string
	mu  sync.Mutex
}

// NewFileStore returns a FileStore in dir (the working directory when
// empty), created (0700) on the first Save.
func NewFileStore(dir string) *FileStore {
	if dir == "" {
		dir = "."
	}
	return &FileStore{dir: dir}
}

func (s *FileStore) path(id string) (string, error) {
	if s == nil {
		return "", errors.New("truewatch: nil *FileStore; make one with NewFileStore")
	}
	if id == "" || len(id) > 128 {
		return "", fmt.Errorf("truewatch: invalid checkpoint id %q", id)
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return "", fmt.Errorf("truewatch: invalid checkpoint id %q", id)
		}
	}
	return filepath.Join(s.dir, id+".json"), nil
}

// Load implements Store.
func (s *FileStore) Load(ctx context.Context, id string) (*Checkpoint, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p, err := s.path(id)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("truewatch: read checkpoint: %w", err)
	}
	var cp Checkpoint
	if err := json.Unmarshal(b, &cp); err != nil {
		return nil, fmt.Errorf("%w: decode %s: %w", ErrBadCheckpoint, p, err)
	}
	return &cp, nil
}

// Save implements Store.
func (s *FileStore) Save(ctx context.Context, id string, cp *Checkpoint) error {
	if cp == nil {
		return errors.New("truewatch: nil checkpoint")
	}
	p, err := s.path(id)
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(cp, "", "  ")
	if err != nil {
		return fmt.Errorf("truewatch: encode checkpoint: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return fmt.Errorf("truewatch: checkpoint directory: %w", err)
	}
	f, err := os.CreateTemp(s.dir, "."+id+"-*.tmp")
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

// Delete implements Store.
func (s *FileStore) Delete(_ context.Context, id string) error {
	p, err := s.path(id)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("truewatch: delete checkpoint: %w", err)
	}
	return nil
}
