// Package storetest is the conformance suite of truewatch.Store: every
// store (the memory and file stores, the PostgreSQL store of the pg module,
// your own) passes the same cases, as Go Cloud's drivertest and Vault's
// backend tests do for their drivers.
//
//	func TestMyStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) truewatch.Store { return newEmptyStore(t) },
//			storetest.WithReopen(reopen), storetest.WithCorrupt(corrupt))
//	}
//
// The cases cover revisions (a stale save is refused, two writers racing
// on one revision: exactly one wins, no update is lost), leases (claim,
// renew, release, a second claimer refused with the holder and the
// expiry, expiry and takeover, a crash while holding a lease, concurrent
// claims), listing with every filter, cancelled contexts (nothing
// changes), a checkpoint edited by hand (a typed error naming it, Delete
// recovers), and every field round-tripping, the KeySecret above all: a
// store that lost or altered it would make the next run send other
// idempotency keys, silently breaking the replay of lost answers. Fields
// are compared one by one, never through fmt (which redacts the secret).
// Leases are tested with real time: TTLs of a few hundred milliseconds, so
// a store whose clock is a database server's passes too.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/truewatch-labs/marketplace-go/truewatch"
)

// Option configures Run.
type Option func(*suite)

// WithReopen gives the suite a second handle on a store's data, opened as
// another process would open it (a second FileStore on the directory, a
// second connection pool on the database); the concurrency cases race the
// two. Without it both writers share the store.
func WithReopen(reopen func(t *testing.T, s truewatch.Store) truewatch.Store) Option {
	return func(su *suite) { su.reopen = reopen }
}

// WithCorrupt lets the suite damage the checkpoint saved under id as a
// person editing it by hand might (JSON of another shape, of another
// activation). Stores with no representation a person can edit (memory)
// leave it out, and the corruption case is skipped.
func WithCorrupt(corrupt func(t *testing.T, s truewatch.Store, id string)) Option {
	return func(su *suite) { su.corrupt = corrupt }
}

type suite struct {
	newStore func(t *testing.T) truewatch.Store
	reopen   func(t *testing.T, s truewatch.Store) truewatch.Store
	corrupt  func(t *testing.T, s truewatch.Store, id string)
}

// shortTTL is the TTL of the leases that the suite lets expire.
const shortTTL = 300 * time.Millisecond

// Run runs the conformance suite, one subtest per case, each on a new
// store from newStore (empty).
func Run(t *testing.T, newStore func(t *testing.T) truewatch.Store, opts ...Option) {
	su := &suite{newStore: newStore}
	for _, o := range opts {
		o(su)
	}
	cases := []struct {
		name string
		fn   func(t *testing.T, s truewatch.Store)
	}{
		{"LoadMissing", su.loadMissing},
		{"SaveLoad", su.saveLoad},
		{"KeySecret", su.keySecret},
		{"Revisions", su.revisions},
		{"RefusesBadSaves", su.refusesBadSaves},
		{"Delete", su.delete},
		{"TwoWritersOneRevision", su.twoWritersOneRevision},
		{"TwoWritersNoLostUpdate", su.twoWritersNoLostUpdate},
		{"Leases", su.leases},
		{"ConcurrentClaims", su.concurrentClaims},
		{"LeaseExpiryAndTakeover", su.leaseExpiryAndTakeover},
		{"RenewAfterExpiryUnclaimed", su.renewAfterExpiryUnclaimed},
		{"CrashWhileHoldingLease", su.crashWhileHoldingLease},
		{"List", su.list},
		{"ListStopsEarly", su.listStopsEarly},
		{"CancelledContext", su.cancelledContext},
		{"EditedByHand", su.editedByHand},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.fn(t, su.newStore(t)) })
	}
}

// other is a second handle on s's data.
func (su *suite) other(t *testing.T, s truewatch.Store) truewatch.Store {
	if su.reopen == nil {
		return s
	}
	return su.reopen(t, s)
}

// checkpoint is a checkpoint of activation id, as NewCheckpoint makes it
// (the current version, a fresh KeySecret), with one step done.
func checkpoint(t *testing.T, id, tenant string) *truewatch.Checkpoint {
	t.Helper()
	cp, err := truewatch.NewCheckpoint(truewatch.Identity{ActivationID: id, HuaweiAccountID: tenant, InstanceID: "inst-" + id,
		Site: truewatch.SiteAP1, Branch: truewatch.BranchRegister})
	if err != nil {
		t.Fatal(err)
	}
	cp.Steps = []truewatch.Step{{Name: truewatch.StepRegister, Action: truewatch.ActionChange, IdempotencyKey: "act_" + id, Reason: "register"}}
	cp.UpdatedAt = time.Date(2025, 5, 1, 12, 30, 15, 123456789, time.UTC)
	return cp
}

// clone is a deep copy of cp.
func clone(cp *truewatch.Checkpoint) *truewatch.Checkpoint {
	c := *cp
	c.Steps = slices.Clone(cp.Steps)
	if cp.Failure != nil {
		f := *cp.Failure
		c.Failure = &f
	}
	return &c
}

func ctxT(t *testing.T) context.Context { return t.Context() }

func mustSave(t *testing.T, s truewatch.Store, cp *truewatch.Checkpoint) int64 {
	t.Helper()
	rev, err := s.Save(ctxT(t), cp.ActivationID, cp)
	if err != nil {
		t.Fatalf("Save(%s, revision %d): %v", cp.ActivationID, cp.Revision, err)
	}
	return rev
}

func mustLoad(t *testing.T, s truewatch.Store, id string) *truewatch.Checkpoint {
	t.Helper()
	cp, err := s.Load(ctxT(t), id)
	if err != nil {
		t.Fatalf("Load(%s): %v", id, err)
	}
	return cp
}

// checkpointFields is how many fields same compares: a Checkpoint with more
// has one the suite does not check yet.
const checkpointFields = 18

// same reports how a and b differ, field by field: times by instant, the
// KeySecret by value (fmt redacts it, so a %v comparison would miss it).
func same(a, b *truewatch.Checkpoint) string {
	if a == nil || b == nil {
		if a != b {
			return fmt.Sprintf("%v != %v", a, b)
		}
		return ""
	}
	if n := reflect.TypeFor[truewatch.Checkpoint]().NumField(); n != checkpointFields {
		return fmt.Sprintf("truewatch.Checkpoint has %d fields, storetest compares %d: update storetest", n, checkpointFields)
	}
	var diffs []string
	diff := func(field string, equal bool, got, want any) {
		if !equal {
			diffs = append(diffs, fmt.Sprintf("%s: got %v, want %v", field, got, want))
		}
	}
	diff("Version", a.Version == b.Version, a.Version, b.Version)
	diff("Revision", a.Revision == b.Revision, a.Revision, b.Revision)
	diff("ActivationID", a.ActivationID == b.ActivationID, a.ActivationID, b.ActivationID)
	diff("HuaweiAccountID", a.HuaweiAccountID == b.HuaweiAccountID, a.HuaweiAccountID, b.HuaweiAccountID)
	diff("InstanceID", a.InstanceID == b.InstanceID, a.InstanceID, b.InstanceID)
	diff("Site", a.Site == b.Site, a.Site, b.Site)
	diff("Branch", a.Branch == b.Branch, a.Branch, b.Branch)
	diff("Steps", slices.Equal(a.Steps, b.Steps), a.Steps, b.Steps)
	diff("BindGeneration", a.BindGeneration == b.BindGeneration, a.BindGeneration, b.BindGeneration)
	if a.KeySecret != b.KeySecret {
		got := secretState(a.KeySecret)
		if !a.KeySecret.IsZero() && !b.KeySecret.IsZero() {
			got = "another secret"
		}
		diffs = append(diffs, fmt.Sprintf("KeySecret: got %s, want %s: the next run would send other idempotency keys", got, secretState(b.KeySecret)))
	}
	diff("BillingAccountID", a.BillingAccountID == b.BillingAccountID, a.BillingAccountID, b.BillingAccountID)
	diff("BillingUsername", a.BillingUsername == b.BillingUsername, a.BillingUsername, b.BillingUsername)
	diff("WorkspaceID", a.WorkspaceID == b.WorkspaceID, a.WorkspaceID, b.WorkspaceID)
	diff("LoginURL", a.LoginURL == b.LoginURL, a.LoginURL, b.LoginURL)
	diff("LastRun", a.LastRun == b.LastRun, a.LastRun, b.LastRun)
	diff("Completed", a.Completed == b.Completed, a.Completed, b.Completed)
	diff("Failure", (a.Failure == nil) == (b.Failure == nil) && (a.Failure == nil || a.Failure.Step == b.Failure.Step &&
		a.Failure.Error == b.Failure.Error && a.Failure.At.Equal(b.Failure.At)), a.Failure, b.Failure)
	diff("UpdatedAt", a.UpdatedAt.Equal(b.UpdatedAt), a.UpdatedAt, b.UpdatedAt)
	return strings.Join(diffs, "; ")
}

// secretState describes a KeySecret without revealing it.
func secretState(s truewatch.KeySecret) string {
	if s.IsZero() {
		return "no secret"
	}
	return "a secret"
}

func (su *suite) loadMissing(t *testing.T, s truewatch.Store) {
	if cp := mustLoad(t, s, "actv_missing"); cp != nil {
		t.Fatalf("Load of a checkpoint never saved = %+v, want nil", cp)
	}
}

func (su *suite) saveLoad(t *testing.T, s truewatch.Store) {
	want := checkpoint(t, "actv_a", "tenant-a")
	want.BindGeneration, want.BillingAccountID, want.BillingUsername = 2, "bcac_1", "ada"
	want.WorkspaceID, want.LoginURL = "wksp_1", "https://console.example/login"
	want.LastRun = truewatch.TraceRef{TraceID: "0af7651916cd43dd8448eb211c80319c", SpanID: "b7ad6b7169203331"}
	want.Steps = append(want.Steps, truewatch.Step{Name: truewatch.StepBindWorkspace, Action: truewatch.ActionChange,
		IdempotencyKey: "act_b", Reason: "bind", Replayed: true, FoundDone: true})
	want.Failure = &truewatch.Failure{Step: truewatch.StepRegister, Error: "boom", At: time.Date(2025, 5, 1, 12, 0, 0, 0, time.UTC)}
	exp := clone(want)
	rev := mustSave(t, s, want)
	if rev != 1 {
		t.Fatalf("first Save returned revision %d, want 1", rev)
	}
	if want.Revision != 0 {
		t.Fatalf("Save changed its argument's revision to %d", want.Revision)
	}
	want.Steps[0].Name = "mutated after save"
	want.Failure.Error = "mutated after save"
	got := mustLoad(t, s, "actv_a")
	exp.Revision = 1
	if d := same(got, exp); d != "" {
		t.Fatalf("Load after Save: %s", d)
	}
	if d := same(mustLoad(t, su.other(t, s), "actv_a"), exp); d != "" {
		t.Fatalf("Load from another handle: %s", d)
	}
	got.Steps[0].Name = "mutated after load"
	got.Failure.Error = "mutated after load"
	if d := same(mustLoad(t, s, "actv_a"), exp); d != "" {
		t.Fatalf("a loaded checkpoint is not a copy: %s", d)
	}
}

// keySecret: the KeySecret round-trips through Save, Load and List from
// every handle, unchanged; a checkpoint without one (before its first Run,
// or of version 1) loads without one, and gets the one a later Save gives
// it; every checkpoint keeps its own.
func (su *suite) keySecret(t *testing.T, s truewatch.Store) {
	o := su.other(t, s)
	a, b := checkpoint(t, "actv_ka", "t"), checkpoint(t, "actv_kb", "t")
	if a.KeySecret.IsZero() || a.KeySecret == b.KeySecret {
		t.Fatal("NewCheckpoint made no secret, or the same one twice")
	}
	mustSave(t, s, a)
	mustSave(t, o, b)
	for _, h := range []truewatch.Store{s, o} {
		if got := mustLoad(t, h, "actv_ka"); got.KeySecret != a.KeySecret {
			t.Fatalf("Load: the KeySecret is %s, not the one saved: the next run would send other idempotency keys", secretState(got.KeySecret))
		}
		if got := mustLoad(t, h, "actv_kb"); got.KeySecret != b.KeySecret {
			t.Fatalf("Load: the KeySecret of actv_kb is %s, not its own", secretState(got.KeySecret))
		}
	}
	listed := 0
	for cp, err := range o.List(ctxT(t), truewatch.ListFilter{}) {
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]truewatch.KeySecret{"actv_ka": a.KeySecret, "actv_kb": b.KeySecret}[cp.ActivationID]
		if cp.KeySecret != want {
			t.Fatalf("List: the KeySecret of %s is %s, not the one saved", cp.ActivationID, secretState(cp.KeySecret))
		}
		listed++
	}
	if listed != 2 {
		t.Fatalf("listed %d checkpoints, want 2", listed)
	}

	// Later saves keep it.
	cp := mustLoad(t, s, "actv_ka")
	cp.WorkspaceID, cp.Completed = "wksp_k", true
	mustSave(t, s, cp)
	if got := mustLoad(t, o, "actv_ka"); got.KeySecret != a.KeySecret || got.WorkspaceID != "wksp_k" {
		t.Fatalf("after a second Save: KeySecret %s (the first: %v), workspace %q", secretState(got.KeySecret),
			got.KeySecret == a.KeySecret, got.WorkspaceID)
	}

	// No secret yet: none is invented; the Save that gives one keeps it.
	none := checkpoint(t, "actv_kn", "t")
	none.KeySecret = truewatch.KeySecret{}
	mustSave(t, s, none)
	got := mustLoad(t, o, "actv_kn")
	if !got.KeySecret.IsZero() {
		t.Fatal("a checkpoint saved without a KeySecret loads with one")
	}
	got.KeySecret = b.KeySecret
	mustSave(t, o, got)
	if again := mustLoad(t, s, "actv_kn"); again.KeySecret != b.KeySecret {
		t.Fatalf("the KeySecret a later Save gave is %s, not the one given", secretState(again.KeySecret))
	}
}

// wantErr checks that err matches sentinel and is an E, and returns it.
func wantErr[E error](t *testing.T, err, sentinel error) E {
	t.Helper()
	var e E
	if !errors.Is(err, sentinel) || !errors.As(err, &e) {
		t.Fatalf("err = %v, want a %T", err, e)
	}
	return e
}

func wantConflict(t *testing.T, err error, id string, expected, actual int64) {
	t.Helper()
	ce := wantErr[*truewatch.ConflictError](t, err, truewatch.ErrCheckpointConflict)
	if ce.ActivationID != id || ce.Expected != expected || ce.Actual != actual {
		t.Fatalf("conflict = %+v, want activation %s expected %d actual %d", ce, id, expected, actual)
	}
}

func (su *suite) revisions(t *testing.T, s truewatch.Store) {
	ctx := ctxT(t)
	cp := checkpoint(t, "actv_r", "t")
	cp.Revision = mustSave(t, s, cp)
	cp.WorkspaceID = "wksp_2"
	if rev := mustSave(t, s, cp); rev != 2 {
		t.Fatalf("second Save returned revision %d, want 2", rev)
	}
	stale := checkpoint(t, "actv_r", "t")
	stale.Revision, stale.WorkspaceID = 1, "wksp_stale"
	_, err := s.Save(ctx, "actv_r", stale)
	wantConflict(t, err, "actv_r", 1, 2)
	again := checkpoint(t, "actv_r", "t") // revision 0: create, but one exists
	_, err = s.Save(ctx, "actv_r", again)
	wantConflict(t, err, "actv_r", 0, 2)
	ahead := checkpoint(t, "actv_none", "t")
	ahead.Revision = 5
	_, err = s.Save(ctx, "actv_none", ahead)
	wantConflict(t, err, "actv_none", 5, 0)
	if got := mustLoad(t, s, "actv_r"); got.Revision != 2 || got.WorkspaceID != "wksp_2" {
		t.Fatalf("a refused save changed the checkpoint: revision %d, workspace %q", got.Revision, got.WorkspaceID)
	}
	if got := mustLoad(t, s, "actv_none"); got != nil {
		t.Fatalf("a refused save created %+v", got)
	}
	if err != nil && !strings.Contains(err.Error(), "actv_none") {
		t.Fatalf("the conflict does not name the activation: %v", err)
	}
}

func (su *suite) refusesBadSaves(t *testing.T, s truewatch.Store) {
	ctx := ctxT(t)
	if _, err := s.Save(ctx, "actv_x", nil); err == nil {
		t.Fatal("Save of a nil checkpoint succeeded")
	}
	if _, err := s.Save(ctx, "actv_x", checkpoint(t, "actv_y", "t")); err == nil {
		t.Fatal("Save of activation actv_y's checkpoint under actv_x succeeded")
	}
	if cp := mustLoad(t, s, "actv_x"); cp != nil {
		t.Fatalf("a refused save created %+v", cp)
	}
	for _, c := range []struct {
		owner string
		ttl   time.Duration
	}{{"", time.Minute}, {"w", 0}, {"w", -time.Second}} {
		if _, err := s.Claim(ctx, "actv_x", c.owner, c.ttl); err == nil {
			t.Fatalf("Claim(owner %q, ttl %s) succeeded", c.owner, c.ttl)
		}
	}
	if _, err := s.Claim(ctx, "actv_x", "w", time.Minute); err != nil {
		t.Fatalf("a refused claim left a lease behind: %v", err)
	}
}

func (su *suite) delete(t *testing.T, s truewatch.Store) {
	ctx := ctxT(t)
	mustSave(t, s, checkpoint(t, "actv_d", "t"))
	mustSave(t, s, checkpoint(t, "actv_keep", "t"))
	for range 2 {
		if err := s.Delete(ctx, "actv_d"); err != nil {
			t.Fatalf("Delete: %v (deleting twice is not an error)", err)
		}
	}
	if cp := mustLoad(t, s, "actv_d"); cp != nil {
		t.Fatalf("Load after Delete = %+v", cp)
	}
	if rev := mustSave(t, s, checkpoint(t, "actv_d", "t")); rev != 1 {
		t.Fatalf("Save after Delete returned revision %d, want 1 (a new checkpoint)", rev)
	}
	if cp := mustLoad(t, s, "actv_keep"); cp == nil {
		t.Fatal("Delete removed another activation's checkpoint")
	}
}

// twoWritersOneRevision: writers that loaded the same revision all save at
// once; exactly one wins each round.
func (su *suite) twoWritersOneRevision(t *testing.T, s truewatch.Store) {
	handles := []truewatch.Store{s, su.other(t, s)}
	cp := checkpoint(t, "actv_w", "t")
	cp.Revision = mustSave(t, s, cp)
	for round := range 10 {
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for w := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := *cp
				c.WorkspaceID = fmt.Sprintf("wksp_%d_%d", round, w)
				_, errs[w] = handles[w%2].Save(ctxT(t), c.ActivationID, &c)
			}()
		}
		wg.Wait()
		won := winners(t, errs, truewatch.ErrCheckpointConflict)
		if won != 1 {
			t.Fatalf("round %d: %d writers saved over revision %d, want exactly 1", round, won, cp.Revision)
		}
		cp = mustLoad(t, s, cp.ActivationID)
		if cp.Revision != int64(round)+2 {
			t.Fatalf("round %d: revision %d, want %d", round, cp.Revision, round+2)
		}
	}
}

// winners counts the racers that succeeded; every other must have lost
// with sentinel.
func winners(t *testing.T, errs []error, sentinel error) int {
	t.Helper()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, sentinel):
			t.Fatalf("a losing racer got %v, want %v", err, sentinel)
		}
	}
	return won
}

// twoWritersNoLostUpdate: two writers each add to a counter with
// load-modify-save, retrying on conflict; no addition is lost.
func (su *suite) twoWritersNoLostUpdate(t *testing.T, s truewatch.Store) {
	const each = 25
	mustSave(t, s, checkpoint(t, "actv_n", "t"))
	var wg sync.WaitGroup
	for _, h := range []truewatch.Store{s, su.other(t, s)} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for done := 0; done < each; {
				cp, err := h.Load(ctxT(t), "actv_n")
				if err != nil {
					t.Errorf("Load: %v", err)
					return
				}
				cp.BindGeneration++
				_, err = h.Save(ctxT(t), "actv_n", cp)
				switch {
				case err == nil:
					done++
				case !errors.Is(err, truewatch.ErrCheckpointConflict):
					t.Errorf("Save: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	cp := mustLoad(t, s, "actv_n")
	if cp.BindGeneration != 2*each || cp.Revision != 2*each+1 {
		t.Fatalf("counter %d at revision %d, want %d at %d: an update was lost", cp.BindGeneration, cp.Revision, 2*each, 2*each+1)
	}
}

func wantHeld(t *testing.T, err error, id, owner string, expires time.Time) {
	t.Helper()
	he := wantErr[*truewatch.LeaseHeldError](t, err, truewatch.ErrLeaseHeld)
	if he.ActivationID != id || he.Owner != owner || he.ExpiresAt.Sub(expires).Abs() > time.Millisecond {
		t.Fatalf("held = %+v, want activation %s held by %q until %s", he, id, owner, expires)
	}
	if !strings.Contains(err.Error(), owner) || !strings.Contains(err.Error(), id) {
		t.Fatalf("the error does not name the holder and the activation: %v", err)
	}
}

func wantLost(t *testing.T, err error, id, owner, holder string) {
	t.Helper()
	le := wantErr[*truewatch.LeaseLostError](t, err, truewatch.ErrLeaseLost)
	if le.ActivationID != id || le.Owner != owner || le.Holder != holder {
		t.Fatalf("lost = %+v, want activation %s lost by %q, held by %q", le, id, owner, holder)
	}
}

func mustClaim(t *testing.T, s truewatch.Store, id, owner string, ttl time.Duration) truewatch.Lease {
	t.Helper()
	before := time.Now()
	l, err := s.Claim(ctxT(t), id, owner, ttl)
	if err != nil {
		t.Fatalf("Claim(%s, %s): %v", id, owner, err)
	}
	if l.ActivationID != id || l.Owner != owner || l.Token == "" {
		t.Fatalf("Claim = %+v, want activation %s, owner %s and a token", l, id, owner)
	}
	// The store's clock may be another machine's: allow a little skew.
	if l.ExpiresAt.Before(before.Add(ttl-2*time.Second)) || l.ExpiresAt.After(time.Now().Add(ttl+2*time.Second)) {
		t.Fatalf("lease expires at %s, want about %s from now", l.ExpiresAt, ttl)
	}
	return l
}

func (su *suite) leases(t *testing.T, s truewatch.Store) {
	ctx := ctxT(t)
	o := su.other(t, s)
	a := mustClaim(t, s, "actv_l", "worker-a", time.Minute)
	_, err := o.Claim(ctx, "actv_l", "worker-b", time.Minute)
	wantHeld(t, err, "actv_l", "worker-a", a.ExpiresAt)
	_, err = s.Claim(ctx, "actv_l", "worker-a", time.Minute)
	wantHeld(t, err, "actv_l", "worker-a", a.ExpiresAt) // a lease is one claim's, not an owner's
	mustClaim(t, o, "actv_other", "worker-b", time.Minute)

	renewed, err := s.Renew(ctx, a, 2*time.Minute)
	if err != nil {
		t.Fatalf("Renew: %v", err)
	}
	if renewed.Token != a.Token || !renewed.ExpiresAt.After(a.ExpiresAt) {
		t.Fatalf("Renew = %+v, want token %s expiring after %s", renewed, a.Token, a.ExpiresAt)
	}
	_, err = o.Claim(ctx, "actv_l", "worker-b", time.Minute)
	wantHeld(t, err, "actv_l", "worker-a", renewed.ExpiresAt)

	forged := renewed
	forged.Token = "not-the-token"
	_, err = o.Renew(ctx, forged, time.Minute)
	wantLost(t, err, "actv_l", "worker-a", "worker-a")
	wantLost(t, o.Release(ctx, forged), "actv_l", "worker-a", "worker-a")

	if err := s.Release(ctx, renewed); err != nil {
		t.Fatalf("Release: %v", err)
	}
	wantLost(t, s.Release(ctx, renewed), "actv_l", "worker-a", "")
	_, err = s.Renew(ctx, renewed, time.Minute)
	wantLost(t, err, "actv_l", "worker-a", "")
	b := mustClaim(t, o, "actv_l", "worker-b", time.Minute)
	if b.Token == a.Token {
		t.Fatal("a new claim reused the previous claim's token")
	}
	if cp := mustLoad(t, s, "actv_l"); cp != nil {
		t.Fatalf("a lease made a checkpoint: %+v", cp)
	}
}

func (su *suite) concurrentClaims(t *testing.T, s truewatch.Store) {
	handles := []truewatch.Store{s, su.other(t, s)}
	for round := range 5 {
		id := fmt.Sprintf("actv_c%d", round)
		var wg sync.WaitGroup
		errs := make([]error, 6)
		for w := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[w] = handles[w%2].Claim(ctxT(t), id, fmt.Sprintf("worker-%d", w), time.Minute)
			}()
		}
		wg.Wait()
		won := winners(t, errs, truewatch.ErrLeaseHeld)
		if won != 1 {
			t.Fatalf("round %d: %d claims succeeded at once, want exactly 1", round, won)
		}
	}
}

func (su *suite) leaseExpiryAndTakeover(t *testing.T, s truewatch.Store) {
	ctx := ctxT(t)
	o := su.other(t, s)
	a := mustClaim(t, s, "actv_e", "worker-a", shortTTL)
	time.Sleep(shortTTL + 150*time.Millisecond)
	b := mustClaim(t, o, "actv_e", "worker-b", time.Minute)
	if b.Token == a.Token {
		t.Fatal("the takeover kept the expired lease's token")
	}
	_, err := s.Renew(ctx, a, time.Minute)
	wantLost(t, err, "actv_e", "worker-a", "worker-b")
	wantLost(t, s.Release(ctx, a), "actv_e", "worker-a", "worker-b")
	_, err = s.Claim(ctx, "actv_e", "worker-c", time.Minute)
	wantHeld(t, err, "actv_e", "worker-b", b.ExpiresAt) // the old owner's Release did not free it
}

func (su *suite) renewAfterExpiryUnclaimed(t *testing.T, s truewatch.Store) {
	a := mustClaim(t, s, "actv_u", "worker-a", shortTTL)
	time.Sleep(shortTTL + 100*time.Millisecond)
	l, err := s.Renew(ctxT(t), a, time.Minute)
	if err != nil {
		t.Fatalf("Renew of an expired lease no one claimed: %v", err)
	}
	_, err = s.Claim(ctxT(t), "actv_u", "worker-b", time.Minute)
	wantHeld(t, err, "actv_u", "worker-a", l.ExpiresAt)
}

// crashWhileHoldingLease: an owner saves progress and vanishes holding the
// lease; another is refused until it expires, then takes over, sees the
// progress and finishes.
func (su *suite) crashWhileHoldingLease(t *testing.T, s truewatch.Store) {
	ctx := ctxT(t)
	o := su.other(t, s)
	a := mustClaim(t, s, "actv_k", "worker-a", shortTTL)
	cp := checkpoint(t, "actv_k", "t")
	mustSave(t, s, cp)
	// worker-a crashes here: no Release, no more renewals.

	_, err := o.Claim(ctx, "actv_k", "worker-b", time.Minute)
	wantHeld(t, err, "actv_k", "worker-a", a.ExpiresAt)
	deadline := time.Now().Add(5 * time.Second)
	var b truewatch.Lease
	for {
		b, err = o.Claim(ctx, "actv_k", "worker-b", time.Minute)
		if err == nil {
			break
		}
		if !errors.Is(err, truewatch.ErrLeaseHeld) || time.Now().After(deadline) {
			t.Fatalf("taking over after the crash: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	got := mustLoad(t, o, "actv_k")
	if got == nil || len(got.Steps) != 1 || got.Revision != 1 {
		t.Fatalf("the new owner sees %+v, want the crashed owner's progress at revision 1", got)
	}
	got.Completed = true
	got.Steps = append(got.Steps, truewatch.Step{Name: truewatch.StepCheckSubscription, Action: truewatch.ActionRead})
	if _, err := o.Save(ctx, "actv_k", got); err != nil {
		t.Fatalf("the new owner's save: %v", err)
	}
	if err := o.Release(ctx, b); err != nil {
		t.Fatalf("Release: %v", err)
	}
	if final := mustLoad(t, s, "actv_k"); !final.Completed || final.Revision != 2 || len(final.Steps) != 2 {
		t.Fatalf("final checkpoint %+v, want completed at revision 2 with both steps", final)
	}
}

func collect(t *testing.T, s truewatch.Store, f truewatch.ListFilter) ([]string, []error) {
	t.Helper()
	var ids []string
	var errs []error
	for cp, err := range s.List(ctxT(t), f) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		ids = append(ids, cp.ActivationID)
	}
	return ids, errs
}

func (su *suite) list(t *testing.T, s truewatch.Store) {
	type row struct {
		id, tenant        string
		completed, failed bool
	}
	rows := []row{
		{"actv_05", "tenant-b", false, true},
		{"actv_01", "tenant-a", true, false},
		{"actv_03", "tenant-a", false, false},
		{"actv_04", "tenant-b", true, false},
		{"actv_02", "tenant-a", false, true},
	}
	for _, r := range rows {
		cp := checkpoint(t, r.id, r.tenant)
		cp.Completed = r.completed
		if r.failed {
			cp.Failure = &truewatch.Failure{Step: truewatch.StepRegister, Error: "refused", At: time.Now().UTC()}
		}
		mustSave(t, s, cp)
	}
	mustClaim(t, s, "actv_09", "worker-a", time.Minute) // a lease alone is not a checkpoint
	cases := []struct {
		f    truewatch.ListFilter
		want []string
	}{
		{truewatch.ListFilter{}, []string{"actv_01", "actv_02", "actv_03", "actv_04", "actv_05"}},
		{truewatch.ListFilter{Incomplete: true}, []string{"actv_02", "actv_03", "actv_05"}},
		{truewatch.ListFilter{Failed: true}, []string{"actv_02", "actv_05"}},
		{truewatch.ListFilter{HuaweiAccountID: "tenant-a"}, []string{"actv_01", "actv_02", "actv_03"}},
		{truewatch.ListFilter{HuaweiAccountID: "tenant-b", Incomplete: true}, []string{"actv_05"}},
		{truewatch.ListFilter{HuaweiAccountID: "tenant-a", Failed: true, Incomplete: true}, []string{"actv_02"}},
		{truewatch.ListFilter{HuaweiAccountID: "tenant-z"}, nil},
	}
	for _, c := range cases {
		got, errs := collect(t, su.other(t, s), c.f)
		if len(errs) > 0 || !slices.Equal(got, c.want) {
			t.Errorf("List(%+v) = %v (errors %v), want %v", c.f, got, errs, c.want)
		}
	}
	for cp, err := range s.List(ctxT(t), truewatch.ListFilter{Failed: true}) {
		if err != nil || cp.Failure == nil || cp.Failure.Error != "refused" || cp.Revision != 1 || len(cp.Steps) != 1 {
			t.Fatalf("List yields %+v, %v; want whole checkpoints", cp, err)
		}
	}
}

func (su *suite) listStopsEarly(t *testing.T, s truewatch.Store) {
	for i := range 5 {
		mustSave(t, s, checkpoint(t, fmt.Sprintf("actv_%d", i), "t"))
	}
	n := 0
	for _, err := range s.List(ctxT(t), truewatch.ListFilter{}) {
		if err != nil {
			t.Fatal(err)
		}
		if n++; n == 2 {
			break
		}
	}
	if n != 2 {
		t.Fatalf("listed %d, want to stop at 2", n)
	}
}

func (su *suite) cancelledContext(t *testing.T, s truewatch.Store) {
	mustSave(t, s, checkpoint(t, "actv_x", "t"))
	held := mustClaim(t, s, "actv_held", "worker-a", time.Minute)
	ctx, cancel := context.WithCancel(ctxT(t))
	cancel()
	isCancelled := func(op string, err error) {
		t.Helper()
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context: %v, want context.Canceled", op, err)
		}
	}
	_, err := s.Load(ctx, "actv_x")
	isCancelled("Load", err)
	c := checkpoint(t, "actv_x", "t")
	c.Revision, c.WorkspaceID = 1, "wksp_cancelled"
	_, err = s.Save(ctx, "actv_x", c)
	isCancelled("Save", err)
	isCancelled("Delete", s.Delete(ctx, "actv_x"))
	_, err = s.Claim(ctx, "actv_free", "worker-b", time.Minute)
	isCancelled("Claim", err)
	_, err = s.Renew(ctx, held, time.Hour)
	isCancelled("Renew", err)
	isCancelled("Release", s.Release(ctx, held))
	for _, err := range s.List(ctx, truewatch.ListFilter{}) {
		isCancelled("List", err)
		break
	}

	if cp := mustLoad(t, s, "actv_x"); cp == nil || cp.Revision != 1 || cp.WorkspaceID != "" {
		t.Fatalf("a cancelled Save or Delete changed the checkpoint: %+v", cp)
	}
	mustClaim(t, s, "actv_free", "worker-b", time.Minute) // the cancelled claim took nothing
	_, err = s.Claim(ctxT(t), "actv_held", "worker-c", time.Minute)
	wantHeld(t, err, "actv_held", "worker-a", held.ExpiresAt) // neither renewed nor released
}

func (su *suite) editedByHand(t *testing.T, s truewatch.Store) {
	if su.corrupt == nil {
		t.Skip("the store has no representation a person can edit (no WithCorrupt)")
	}
	ctx := ctxT(t)
	mustSave(t, s, checkpoint(t, "actv_bad", "t"))
	mustSave(t, s, checkpoint(t, "actv_good", "t"))
	su.corrupt(t, s, "actv_bad")

	_, err := s.Load(ctx, "actv_bad")
	if !errors.Is(err, truewatch.ErrBadCheckpoint) || !strings.Contains(err.Error(), "actv_bad") {
		t.Fatalf("Load of a checkpoint edited by hand: %v, want ErrBadCheckpoint naming actv_bad", err)
	}
	good, errs := collect(t, s, truewatch.ListFilter{})
	if !slices.Equal(good, []string{"actv_good"}) || len(errs) != 1 || !errors.Is(errs[0], truewatch.ErrBadCheckpoint) ||
		!strings.Contains(errs[0].Error(), "actv_bad") {
		t.Fatalf("List = %v, errors %v; want actv_good and one ErrBadCheckpoint naming actv_bad", good, errs)
	}
	// The recovery the runner's error names: delete it and start again.
	if err := s.Delete(ctx, "actv_bad"); err != nil {
		t.Fatalf("Delete of a checkpoint edited by hand: %v", err)
	}
	if rev := mustSave(t, s, checkpoint(t, "actv_bad", "t")); rev != 1 {
		t.Fatalf("Save after Delete returned revision %d, want 1", rev)
	}
}
