package truewatch

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"

	"github.com/truewatch-labs/marketplace-go/secret"
)

// KeySecret is the random secret an activation's idempotency keys are
// derived from: 32 bytes from crypto/rand, made by the first Run of the
// activation and kept in its Checkpoint, so that a later Run, in any
// process with the same Store, sends the same keys.
//
// Keys derived only from public data (the Huawei account, the instance,
// the site) could be computed by anyone, who could then send the owner's
// key first (blocking the owner's call) or replay it. With the secret in
// the derivation, nobody without the checkpoint can compute a key.
//
// The secret prints as [REDACTED] (fmt, %v, %#v, slog); only its JSON
// encoding, which is the checkpoint's, carries it, as 64 hex characters.
// Protect checkpoints as you protect other credentials (see FileStore and
// docs/security.md). The zero value is no secret.
type KeySecret struct {
	b   [32]byte
	set bool
}

// newKeySecret makes a fresh secret.
func newKeySecret() (KeySecret, error) {
	var s KeySecret
	if _, err := rand.Read(s.b[:]); err != nil {
		return KeySecret{}, fmt.Errorf("truewatch: make the idempotency key secret: %w", err)
	}
	s.set = true
	return s, nil
}

// IsZero reports whether s holds no secret.
func (s KeySecret) IsZero() bool { return !s.set }

// String redacts the secret.
func (s KeySecret) String() string {
	if !s.set {
		return ""
	}
	return secret.Redacted
}

// GoString redacts the secret, for %#v.
func (s KeySecret) GoString() string { return s.String() }

// Format redacts the secret for every verb.
func (s KeySecret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(s.String())) }

// LogValue redacts the secret in slog.
func (s KeySecret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalJSON encodes the secret as 64 hex characters (null when zero):
// the checkpoint encoding.
func (s KeySecret) MarshalJSON() ([]byte, error) {
	if !s.set {
		return []byte("null"), nil
	}
	return json.Marshal(hex.EncodeToString(s.b[:]))
}

// UnmarshalJSON decodes 64 hex characters, or null.
func (s *KeySecret) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*s = KeySecret{}
		return nil
	}
	var v string
	if err := json.Unmarshal(b, &v); err != nil {
		return errors.New("key secret must be a string of 64 hex characters")
	}
	raw, err := hex.DecodeString(v)
	if err != nil || len(raw) != len(s.b) {
		return errors.New("key secret must be 64 hex characters")
	}
	copy(s.b[:], raw)
	s.set = true
	return nil
}

// stepKey is the idempotency key of a step: HMAC-SHA256 under the
// activation's secret of its identity, the step and, for the bind of the
// Billing Center account, the bind generation.
func stepKey(s KeySecret, activationID string, step StepName, generation int) string {
	m := hmac.New(sha256.New, s.b[:])
	m.Write([]byte("truewatch-activation-key/v2\n" + activationID + "\n" + string(step) + "\n" + strconv.Itoa(generation)))
	return "act_" + hex.EncodeToString(m.Sum(nil))[:32]
}
