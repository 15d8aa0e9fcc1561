package truewatch

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/billing"
)

// TestNilsAreErrorsNotPanics feeds nil contexts, a nil builder, a zero
// builder and nil code sources to the API: each is an error or works,
// never a panic.
func TestNilsAreErrorsNotPanics(t *testing.T) {
	f := newFake()
	var nilCtx context.Context
	_, err := base(f, &fixedCodes{}).Register(registerInfo()).Run(nilCtx)
	assert.ErrorIs(t, err, ErrNilContext)
	_, err = base(f, &fixedCodes{}).Register(registerInfo()).Plan(nilCtx)
	assert.ErrorIs(t, err, ErrNilContext)
	assert.Empty(t, f.callList(), "nothing was called")

	var nilA *Activation
	assert.NotPanics(t, func() { _, err = nilA.Run(context.Background()) })
	assert.Error(t, err)
	assert.NotPanics(t, func() { _, err = nilA.Plan(context.Background()) })
	assert.Error(t, err)
	assert.Error(t, nilA.Validate())

	// The zero Activation works like NewActivation's.
	var zero Activation
	a := zero.withFakes(f).WithSite(SiteUS1).WithCodes((&fixedCodes{}).provide).
		WithClock(sleepClock{t: f.now()}).
		Register(registerInfo())
	res, err := a.Run(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "wksp_reg", res.WorkspaceID)
	again, err := a.Run(context.Background())
	require.NoError(t, err)
	assert.True(t, again.AlreadyActivated)

	_, err = CodesFromOutbox(nil)(context.Background(), CodeRequest{Email: "ada@example.com"})
	assert.ErrorIs(t, err, ErrNoCode)
	_, err = PromptCodes(nil, nil)(context.Background(), CodeRequest{Email: "ada@example.com"})
	assert.ErrorIs(t, err, ErrNoCode)
	code, err := PromptCodes(stringsReader("123456\n"), nil)(context.Background(), CodeRequest{Email: "ada@example.com"})
	require.NoError(t, err)
	assert.Equal(t, "123456", code.Reveal())
}

func stringsReader(s string) io.Reader { return &onceReader{s: s} }

type onceReader struct{ s string }

func (r *onceReader) Read(p []byte) (int, error) {
	if r.s == "" {
		return 0, io.EOF
	}
	n := copy(p, r.s)
	r.s = r.s[n:]
	return n, nil
}

// blockingReader never returns, like a terminal nobody types into.
type blockingReader struct{ release chan struct{} }

func (r blockingReader) Read([]byte) (int, error) {
	<-r.release
	return 0, io.EOF
}

// TestPromptCodesHonoursContext: a prompt waiting for input returns when
// the context ends; the line typed later answers the next prompt.
func TestPromptCodesHonoursContext(t *testing.T) {
	pr, pw := io.Pipe()
	p := PromptCodes(pr, io.Discard)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := p(ctx, CodeRequest{Email: "ada@example.com", Purpose: billing.PurposeRegister, Attempt: 1})
		done <- err
	}()
	cancel()
	assert.ErrorIs(t, <-done, context.Canceled)

	go func() { _, _ = io.WriteString(pw, "246810\n") }()
	code, err := p(context.Background(), CodeRequest{Email: "ada@example.com", Purpose: billing.PurposeRegister, Attempt: 1})
	require.NoError(t, err)
	assert.Equal(t, "246810", code.Reveal())

	// A Run waiting on a prompt stops with its context.
	br := blockingReader{release: make(chan struct{})}
	defer close(br.release)
	f := newFake()
	rctx, rcancel := context.WithCancel(context.Background())
	a := base(f, &fixedCodes{}).WithCodes(PromptCodes(br, io.Discard)).WithEvents(func(e Event) {
		if e.Type == CodeRequested {
			rcancel()
		}
	})
	_, err = a.Register(registerInfo()).Run(rctx)
	assert.ErrorIs(t, err, context.Canceled)
}

// TestBadCheckpoint: a truncated checkpoint file, one of another version
// and one of another activation are refused with ErrBadCheckpoint before
// any change, saying how to recover.
func TestBadCheckpoint(t *testing.T) {
	dir := t.TempDir()
	store := NewFileStore(dir)
	f := newFake()
	build := func() *Activation { return base(f, &fixedCodes{}).WithStore(store).Register(registerInfo()) }
	plan, err := build().Plan(context.Background())
	require.NoError(t, err)
	path := filepath.Join(dir, plan.ActivationID+".json")

	for name, content := range map[string]string{
		"truncated":        `{"version":1,"activationId":"act`,
		"empty":            ``,
		"other version":    `{"version":99,"activationId":"` + plan.ActivationID + `"}`,
		"other activation": `{"version":1,"activationId":"actv_other"}`,
	} {
		t.Run(name, func(t *testing.T) {
			require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
			before := len(f.callList())
			_, err := build().Run(context.Background())
			require.ErrorIs(t, err, ErrBadCheckpoint)
			assert.Contains(t, err.Error(), "Delete")
			for _, c := range f.callList()[before:] {
				assert.NotContains(t, []string{"Register", "SendVerificationCode:register"}, c, "no change was made")
			}
		})
	}
	require.NoError(t, store.Delete(context.Background(), plan.ActivationID))
	_, err = build().Run(context.Background())
	require.NoError(t, err, "deleting the bad checkpoint recovers")
}

// TestFileStoreInTheWorkingDirectory: NewFileStore("") keeps checkpoints in
// the working directory, writing its temporary files there too, so the
// rename that publishes a checkpoint stays on one file system.
func TestFileStoreInTheWorkingDirectory(t *testing.T) {
	t.Chdir(t.TempDir())
	tmp := t.TempDir()
	t.Setenv("TMPDIR", filepath.Join(tmp, "missing")) // temporary files must not go there
	s := NewFileStore("")
	_, err := s.Save(context.Background(), "actv_1", sampleCheckpoint())
	require.NoError(t, err)
	_, err = os.Stat("actv_1.json")
	require.NoError(t, err)
	got, err := s.Load(context.Background(), "actv_1")
	require.NoError(t, err)
	want := sampleCheckpoint()
	want.Revision = 1
	assert.Equal(t, want, got)
	var nilStore *FileStore
	_, err = nilStore.Load(context.Background(), "actv_1")
	assert.Error(t, err)
}

// TestBranchMethodsCalledTwiceWithDifferentValues: a builder naming two
// accounts, two workspaces or two registrations contradicts itself.
func TestBranchMethodsCalledTwiceWithDifferentValues(t *testing.T) {
	f := newFake()
	other := registerInfo()
	other.Company.Name = "Other"
	create := createInfo()
	create2 := create
	create2.Name = "other"
	for field, a := range map[string]*Activation{
		"register":            base(f, &fixedCodes{}).Register(registerInfo()).Register(other),
		"bindBillingAccount":  base(f, &fixedCodes{}).BindBillingAccount("ada", "ada@example.com").BindBillingAccount("bob", "bob@example.com").BindWorkspaceByID("w1"),
		"bindWorkspaceById":   base(f, &fixedCodes{}).BindBillingAccount("ada", "ada@example.com").BindWorkspaceByID("w1").BindWorkspaceByID("w2"),
		"bindWorkspaceByName": base(f, &fixedCodes{}).BindBillingAccount("ada", "ada@example.com").BindWorkspaceByName("a").BindWorkspaceByName("b"),
		"createWorkspace":     base(f, &fixedCodes{}).BindBillingAccount("ada", "ada@example.com").CreateWorkspace(create).CreateWorkspace(create2),
	} {
		err := a.Validate()
		var ve *apierror.ValidationError
		require.ErrorAs(t, err, &ve, field)
		require.Len(t, ve.Problems, 1, field)
		assert.Equal(t, field, ve.Problems[0].Field)
		assert.Contains(t, ve.Problems[0].Message, "called twice")
	}
	// The same call twice is no contradiction.
	assert.NoError(t, base(f, &fixedCodes{}).Register(registerInfo()).Register(registerInfo()).Validate())
	assert.Empty(t, f.callList())
}

// TestConcurrentPlansAndRuns: a configured builder (here one derived from
// the zero one, with its own lazily made store) may Plan and Run from
// several goroutines; the Runs take the activation's lease in turn
// (WithLeaseWait).
func TestConcurrentPlansAndRuns(t *testing.T) {
	f := newFake()
	f.sub.Bound, f.sub.BillingAccountID, f.sub.BillingUsername = true, "bcac_9", "ada"
	f.sub.Workspaces = []billing.BoundWorkspace{{ID: "wksp_1", Name: "prod", Site: SiteUS1}}
	var zero Activation
	a := zero.withFakes(f).WithSite(SiteUS1).WithCodes((&fixedCodes{}).provide).BindBillingAccount("ada", "ada@example.com").
		BindWorkspaceByID("wksp_1").WithLeaseWait(10 * time.Second)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			res, err := a.Run(context.Background())
			if assert.NoError(t, err) {
				assert.True(t, res.AlreadyActivated)
			}
		}()
		go func() {
			defer wg.Done()
			_, err := a.Plan(context.Background())
			assert.NoError(t, err)
		}()
	}
	wg.Wait()
}
