package truewatch

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func sampleCheckpoint() *Checkpoint {
	return &Checkpoint{Version: checkpointVersion, ActivationID: "actv_1", HuaweiAccountID: testAccountID,
		InstanceID: testInstanceID, Site: SiteUS1, Branch: BranchCreateWorkspace,
		Steps:       []Step{{Name: StepBindBillingAccount, Action: ActionChange, IdempotencyKey: "act_1", Reason: "bind"}},
		WorkspaceID: "wksp_1", UpdatedAt: time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)}
}

func testStore(t *testing.T, s Store) {
	ctx := context.Background()
	cp, err := s.Load(ctx, "actv_1")
	require.NoError(t, err)
	assert.Nil(t, cp, "nothing saved yet")

	want := sampleCheckpoint()
	require.NoError(t, s.Save(ctx, "actv_1", want))
	want.Steps[0].Name = "mutated after save"
	got, err := s.Load(ctx, "actv_1")
	require.NoError(t, err)
	assert.Equal(t, sampleCheckpoint(), got, "a saved checkpoint is a copy")

	require.NoError(t, s.Delete(ctx, "actv_1"))
	require.NoError(t, s.Delete(ctx, "actv_1"), "deleting twice is fine")
	got, err = s.Load(ctx, "actv_1")
	require.NoError(t, err)
	assert.Nil(t, got)
	assert.Error(t, s.Save(ctx, "actv_1", nil))
}

func TestMemoryStore(t *testing.T) { testStore(t, NewMemoryStore()) }

func TestFileStore(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "checkpoints")
	s := NewFileStore(dir)
	testStore(t, s)

	require.NoError(t, s.Save(context.Background(), "actv_1", sampleCheckpoint()))
	fi, err := os.Stat(filepath.Join(dir, "actv_1.json"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary file is left behind")

	// Another FileStore on the same directory (another process) sees it.
	got, err := NewFileStore(dir).Load(context.Background(), "actv_1")
	require.NoError(t, err)
	assert.Equal(t, sampleCheckpoint(), got)

	for _, bad := range []string{"", "../escape", "a/b", strings.Repeat("x", 129)} {
		assert.Error(t, s.Save(context.Background(), bad, sampleCheckpoint()), bad)
		_, err := s.Load(context.Background(), bad)
		assert.Error(t, err, bad)
	}

	require.NoError(t, os.WriteFile(filepath.Join(dir, "actv_2.json"), []byte("{torn"), 0o600))
	_, err = s.Load(context.Background(), "actv_2")
	assert.ErrorIs(t, err, ErrBadCheckpoint)
	assert.ErrorContains(t, err, "actv_2.json")
}

func TestCheckpointsHoldNoSecrets(t *testing.T) {
	dir := t.TempDir()
	f := newFake()
	a := base(f, &fixedCodes{}).WithStore(NewFileStore(dir)).BindBillingAccount("ada", "ada@example.com").
		RegisterAndCreateWorkspace(newAccountInfo())
	res, err := a.Run(context.Background())
	require.NoError(t, err)
	b, err := os.ReadFile(filepath.Join(dir, res.ActivationID+".json"))
	require.NoError(t, err)
	for _, s := range []string{goodCode, "S3cret-pass", "tok-"} {
		assert.NotContains(t, string(b), s)
	}
	assert.Contains(t, string(b), `"completed": true`)
	assert.Contains(t, string(b), res.WorkspaceID)
}

func TestForeignCheckpointIsRefused(t *testing.T) {
	store := NewMemoryStore()
	f := newFake()
	a := base(f, &fixedCodes{}).WithStore(store).Register(registerInfo())
	plan, err := a.Plan(context.Background())
	require.NoError(t, err)
	require.NoError(t, store.Save(context.Background(), plan.ActivationID, &Checkpoint{Version: 99, ActivationID: plan.ActivationID}))
	_, err = a.Run(context.Background())
	assert.ErrorContains(t, err, "version 99")
	assert.Zero(t, count(f.callList(), "Register"))
}

// TestFileStoreConcurrentWriters: two writers (two processes' FileStores)
// save the same activation while a reader loads it: the reader always sees
// one whole checkpoint or the other, never a torn file.
func TestFileStoreConcurrentWriters(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	require.NoError(t, NewFileStore(dir).Save(ctx, "actv_1", sampleCheckpoint()))
	var wg sync.WaitGroup
	for w := range 2 {
		s := NewFileStore(dir)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				cp := sampleCheckpoint()
				cp.WorkspaceID = fmt.Sprintf("wksp_%d_%d", w, i)
				assert.NoError(t, s.Save(ctx, "actv_1", cp))
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	reader := NewFileStore(dir)
	for {
		cp, err := reader.Load(ctx, "actv_1")
		require.NoError(t, err)
		require.NotNil(t, cp)
		require.Equal(t, "actv_1", cp.ActivationID)
		select {
		case <-done:
			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			assert.Len(t, entries, 1, "no temporary file is left behind")
			return
		default:
		}
	}
}
