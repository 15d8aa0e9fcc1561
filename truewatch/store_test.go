package truewatch

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
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

func TestFileStoreFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "checkpoints")
	s := NewFileStore(dir)
	_, err := os.Stat(dir)
	require.ErrorIs(t, err, os.ErrNotExist, "NewFileStore touches no file")

	_, err = s.Save(context.Background(), "actv_1", sampleCheckpoint())
	require.NoError(t, err)
	fi, err := os.Stat(filepath.Join(dir, "actv_1.json"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	assert.Equal(t, []string{".lock", "actv_1.json"}, dirNames(t, dir), "no temporary file is left behind")

	for _, bad := range []string{"", "../escape", "a/b", strings.Repeat("x", 129)} {
		cp := sampleCheckpoint()
		cp.ActivationID = bad
		_, err := s.Save(context.Background(), bad, cp)
		assert.Error(t, err, bad)
		_, err = s.Load(context.Background(), bad)
		assert.Error(t, err, bad)
		_, err = s.Claim(context.Background(), bad, "w", time.Minute)
		assert.Error(t, err, bad)
	}

	require.NoError(t, os.WriteFile(filepath.Join(dir, "actv_2.json"), []byte("{torn"), 0o600))
	_, err = s.Load(context.Background(), "actv_2")
	assert.ErrorIs(t, err, ErrBadCheckpoint)
	assert.ErrorContains(t, err, "actv_2.json")
	_, err = s.Save(context.Background(), "actv_2", &Checkpoint{ActivationID: "actv_2", Revision: 1})
	assert.ErrorIs(t, err, ErrBadCheckpoint, "a save cannot check the revision of a torn checkpoint")
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// TestFileStoreRemovesCrashLeftovers: the temporary files of writes that
// crashed before their rename are removed by the next change, and never
// taken for checkpoints.
func TestFileStoreRemovesCrashLeftovers(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{".actv_1-123.tmp", ".actv_2.lease-9.tmp"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, n), []byte(`{"version":1,"activationId":"actv_1"}`), 0o600))
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o600))
	s := NewFileStore(dir)
	n := 0
	for _, err := range s.List(context.Background(), ListFilter{}) {
		require.NoError(t, err)
		n++
	}
	assert.Zero(t, n, "temporary files are not checkpoints")
	_, err := s.Claim(context.Background(), "actv_3", "w", time.Minute)
	require.NoError(t, err)
	assert.Equal(t, []string{".lock", "actv_3.lease", "notes.txt"}, dirNames(t, dir))
}

func TestForeignCheckpointIsRefused(t *testing.T) {
	store := NewMemoryStore()
	f := newFake()
	a := base(f, &fixedCodes{}).WithStore(store).Register(registerInfo())
	plan, err := a.Plan(context.Background())
	require.NoError(t, err)
	_, err = store.Save(context.Background(), plan.ActivationID, &Checkpoint{Version: 99, ActivationID: plan.ActivationID})
	require.NoError(t, err)
	_, err = a.Run(context.Background())
	assert.ErrorContains(t, err, "version 99")
	assert.Zero(t, count(f.callList(), "Register"))
}

// TestFileStoreConcurrentReaders: while two writers (two processes'
// FileStores) save the same activation, a reader always sees one whole
// checkpoint, never a torn file, and every save lands.
func TestFileStoreConcurrentReaders(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	_, err := NewFileStore(dir).Save(ctx, "actv_1", sampleCheckpoint())
	require.NoError(t, err)
	var wg sync.WaitGroup
	for w := range 2 {
		s := NewFileStore(dir)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; {
				cp, err := s.Load(ctx, "actv_1")
				if !assert.NoError(t, err) {
					return
				}
				cp.WorkspaceID = fmt.Sprintf("wksp_%d_%d", w, i)
				if _, err := s.Save(ctx, "actv_1", cp); err == nil {
					i++
				} else if !assert.ErrorIs(t, err, ErrCheckpointConflict) {
					return
				}
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
			cp, err := reader.Load(ctx, "actv_1")
			require.NoError(t, err)
			assert.EqualValues(t, 101, cp.Revision, "every save landed on its own revision")
			assert.Equal(t, []string{".lock", "actv_1.json"}, dirNames(t, dir), "no temporary file is left behind")
			return
		default:
		}
	}
}

// The helper process of the cross-process tests: it runs one of the roles
// below on the FileStore in TRUEWATCH_FILESTORE_DIR.
func TestFileStoreHelperProcess(t *testing.T) {
	dir := os.Getenv("TRUEWATCH_FILESTORE_DIR")
	if dir == "" {
		t.Skip("helper process of the cross-process FileStore tests")
	}
	s, ctx := NewFileStore(dir), context.Background()
	switch os.Getenv("TRUEWATCH_FILESTORE_ROLE") {
	case "hold":
		// Claim, save progress and hang until killed: a crash holding the lease.
		_, err := s.Claim(ctx, "actv_1", "child-process", 600*time.Millisecond)
		require.NoError(t, err)
		_, err = s.Save(ctx, "actv_1", sampleCheckpoint())
		require.NoError(t, err)
		fmt.Println("claimed")
		time.Sleep(time.Minute)
	case "count":
		increment(t, s, 100)
	}
}

// increment adds n to the checkpoint's counter, one save at a time.
func increment(t *testing.T, s *FileStore, n int) {
	ctx := context.Background()
	for i := 0; i < n; {
		cp, err := s.Load(ctx, "actv_1")
		require.NoError(t, err)
		cp.BindGeneration++
		if _, err := s.Save(ctx, "actv_1", cp); err == nil {
			i++
		} else {
			require.ErrorIs(t, err, ErrCheckpointConflict)
		}
	}
}

func helperProcess(t *testing.T, dir, role string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^TestFileStoreHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), "TRUEWATCH_FILESTORE_DIR="+dir, "TRUEWATCH_FILESTORE_ROLE="+role)
	return cmd
}

// TestFileStoreAcrossProcesses: revisions and leases hold between
// processes on one host: two processes incrementing one counter lose no
// update, and a process killed while holding a lease blocks others until
// the lease expires, when another takes over and sees its progress.
func TestFileStoreAcrossProcesses(t *testing.T) {
	dir := t.TempDir()
	s := NewFileStore(dir)
	cp := sampleCheckpoint()
	_, err := s.Save(context.Background(), "actv_1", cp)
	require.NoError(t, err)
	child := helperProcess(t, dir, "count")
	out := &strings.Builder{}
	child.Stdout, child.Stderr = out, out
	require.NoError(t, child.Start())
	increment(t, s, 100)
	require.NoError(t, child.Wait(), out.String())
	got, err := s.Load(context.Background(), "actv_1")
	require.NoError(t, err)
	assert.Equal(t, 200, got.BindGeneration, "no update was lost between the processes")
	require.NoError(t, s.Delete(context.Background(), "actv_1"))

	child = helperProcess(t, dir, "hold")
	stdout, err := child.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, child.Start())
	buf := make([]byte, 7)
	_, err = stdout.Read(buf)
	require.NoError(t, err)
	require.Equal(t, "claimed", string(buf))
	require.NoError(t, child.Process.Kill()) // SIGKILL, holding the lease
	_ = child.Wait()

	_, err = s.Claim(context.Background(), "actv_1", "parent", time.Minute)
	var held *LeaseHeldError
	require.ErrorAs(t, err, &held, "the killed process's lease is held until it expires")
	assert.Equal(t, "child-process", held.Owner)
	time.Sleep(time.Until(held.ExpiresAt) + 50*time.Millisecond)
	_, err = s.Claim(context.Background(), "actv_1", "parent", time.Minute)
	require.NoError(t, err, "after expiry another process takes over")
	got, err = s.Load(context.Background(), "actv_1")
	require.NoError(t, err)
	require.NotNil(t, got, "the killed process's progress is there")
	assert.EqualValues(t, 1, got.Revision)
}

func TestLeaseErrorsNameTheHolderAndTheRecovery(t *testing.T) {
	at := time.Date(2025, 5, 1, 12, 0, 0, 0, time.UTC)
	held := error(&LeaseHeldError{ActivationID: "actv_1", Owner: "worker-2", ExpiresAt: at})
	assert.ErrorIs(t, held, ErrLeaseHeld)
	assert.ErrorContains(t, held, `"worker-2" until 2025-05-01T12:00:00Z`)
	lost := error(&LeaseLostError{ActivationID: "actv_1", Owner: "worker-1", Holder: "worker-2"})
	assert.ErrorIs(t, lost, ErrLeaseLost)
	assert.ErrorContains(t, lost, `held now by "worker-2"`)
	conflict := error(&StoreError{Op: "save checkpoint", ActivationID: "actv_1", Err: &ConflictError{ActivationID: "actv_1", Expected: 1, Actual: 2}})
	assert.ErrorIs(t, conflict, ErrStoreFailed)
	assert.ErrorIs(t, conflict, ErrCheckpointConflict)
	assert.ErrorContains(t, conflict, "run the activation again")
	assert.False(t, errors.Is(held, ErrLeaseLost))
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
	assert.NoFileExists(t, filepath.Join(dir, res.ActivationID+".lease"), "the run released its lease")
}
