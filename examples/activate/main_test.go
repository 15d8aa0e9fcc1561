package main

import (
	"bytes"
	"context"
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/mockserver"
)

func noEnv(string) string { return "" }

func TestDemoRunsAFullActivationAndIsIdempotent(t *testing.T) {
	var out, errOut bytes.Buffer
	err := run(context.Background(), nil, strings.NewReader(""), &out, &errOut, noEnv)
	require.NoError(t, err, errOut.String())
	s := out.String()
	purchase, rest, ok := strings.Cut(s, "Plan\n")
	require.True(t, ok, s)
	assert.Contains(t, purchase, "Purchase on Huawei Cloud Marketplace", "the purchase comes first")
	assert.Contains(t, purchase, "newInstance (signed), answered 000000")
	m := regexp.MustCompile(`Purchased Services shows instance (\S+)`).FindStringSubmatch(purchase)
	require.Len(t, m, 2, purchase)
	assert.Contains(t, rest, "Huawei account ID   "+mockserver.DemoHuaweiAccountID)
	assert.Contains(t, rest, "Instance ID         "+m[1], "the activation binds the instance the purchase created")
	assert.NotContains(t, s, "atk_", "the activation link's token is never printed")
	assert.Contains(t, s, "✓ register")
	assert.Regexp(t, `Workspace\s+wksp_[0-9a-f]{32} on ap1`, s)
	assert.Contains(t, s, "already activated: true")
	assert.NotContains(t, s, "Correct-Horse-9", "the demo password must never be printed")
}

func TestDemoWithTheActivationLink(t *testing.T) {
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"-link"}, strings.NewReader(""), &out, &errOut, noEnv)
	require.NoError(t, err, errOut.String())
	s := out.String()
	assert.Contains(t, s, "no Huawei credentials")
	assert.NotContains(t, s, "resolve_account_id", "the link names the account and the instance")
	assert.Contains(t, s, "✓ register")
	assert.Contains(t, s, "already activated: true")
	assert.NotContains(t, s, "atk_")
}

// TestRealModeWithAnActivationLink: against endpoints (here the mock), the
// link alone proves ownership; no Huawei credentials are read.
func TestRealModeWithAnActivationLink(t *testing.T) {
	srv := mockserver.Start(t)
	o, err := srv.PlaceOrder(context.Background(), mockserver.OrderRequest{HuaweiAccountID: mockserver.DemoHuaweiAccountID})
	require.NoError(t, err)
	env := map[string]string{"TRUEWATCH_BILLING_URL": srv.BillingURL(), "TRUEWATCH_SITES_BASE": srv.URL(),
		"TRUEWATCH_PASSWORD": "Env-Password-7", "TRUEWATCH_ACTIVATION_LINK": o.FrontEndURL}
	var out, errOut bytes.Buffer
	err = run(context.Background(), []string{"-username", "grace", "-email", "grace@example.com"},
		&outboxReader{srv: srv, mail: "grace@example.com"}, &out, &errOut, func(k string) string { return env[k] })
	require.NoError(t, err, out.String()+errOut.String())
	sub, ok := srv.Subscription(mockserver.DemoHuaweiAccountID, o.InstanceID)
	require.True(t, ok)
	assert.Equal(t, "grace", sub.BillingUsername)
	assert.NotContains(t, out.String()+errOut.String(), "atk_")
}

func TestDemoPlanOnlyChangesNothing(t *testing.T) {
	var out, errOut bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"-plan"}, strings.NewReader(""), &out, &errOut, noEnv))
	assert.Contains(t, out.String(), "[change] register")
	assert.NotContains(t, out.String(), "Result")
}

func TestBadInputIsRefusedWithEveryProblem(t *testing.T) {
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"-site", "mars", "-language", "fr"}, strings.NewReader(""), &out, &errOut, noEnv)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "site")
	assert.Contains(t, err.Error(), "language")

	err = run(context.Background(), []string{"-mode", "teleport"}, strings.NewReader(""), &out, &errOut, noEnv)
	require.Error(t, err)
}

// outboxReader types the latest register code, as a user reading their
// mailbox would, when the program first reads the terminal.
type outboxReader struct {
	srv  *mockserver.Server
	buf  *strings.Reader
	mail string
}

func (r *outboxReader) Read(p []byte) (int, error) {
	if r.buf == nil {
		code, _ := r.srv.LatestCode(r.mail, billing.PurposeRegister)
		r.buf = strings.NewReader(code + "\n")
	}
	return r.buf.Read(p)
}

func TestRealModeReadsTheEnvironmentAndPromptsForCodes(t *testing.T) {
	srv := mockserver.Start(t)
	env := map[string]string{
		"TRUEWATCH_BILLING_URL":     srv.BillingURL(),
		"TRUEWATCH_HUAWEI_ENDPOINT": srv.HuaweiEndpoint(),
		"TRUEWATCH_SITES_BASE":      srv.URL(),
		"TRUEWATCH_PASSWORD":        "Env-Password-7",
	}
	t.Setenv("HUAWEICLOUD_SDK_AK", mockserver.DemoAccessKey)
	t.Setenv("HUAWEICLOUD_SDK_SK", mockserver.DemoSecretKey)
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"-site", "za1", "-username", "grace", "-email", "grace@example.com"},
		&outboxReader{srv: srv, mail: "grace@example.com"}, &out, &errOut, func(k string) string { return env[k] })
	require.NoError(t, err, out.String()+errOut.String())
	assert.Contains(t, errOut.String(), "Enter the verification code sent to grace@example.com")
	assert.Regexp(t, `Workspace\s+wksp_[0-9a-f]{32} on za1`, out.String())
	assert.NotContains(t, out.String()+errOut.String(), "Env-Password-7")

	sub, ok := srv.Subscription(mockserver.DemoHuaweiAccountID, mockserver.DemoInstanceID)
	require.True(t, ok)
	assert.Equal(t, "grace", sub.BillingUsername)
}

// silentTerminal is a terminal nobody types into.
type silentTerminal struct{ done chan struct{} }

func (r silentTerminal) Read([]byte) (int, error) {
	<-r.done
	return 0, io.EOF
}

// TestInterruptedAtThePromptThenResumed interrupts the real-endpoint mode
// while it waits for a code: it stops at once, says how to resume, and the
// same command with the same -state finishes the activation.
func TestInterruptedAtThePromptThenResumed(t *testing.T) {
	srv := mockserver.Start(t)
	env := map[string]string{
		"TRUEWATCH_BILLING_URL":     srv.BillingURL(),
		"TRUEWATCH_HUAWEI_ENDPOINT": srv.HuaweiEndpoint(),
		"TRUEWATCH_SITES_BASE":      srv.URL(),
		"TRUEWATCH_PASSWORD":        "Env-Password-7",
	}
	t.Setenv("HUAWEICLOUD_SDK_AK", mockserver.DemoAccessKey)
	t.Setenv("HUAWEICLOUD_SDK_SK", mockserver.DemoSecretKey)
	args := []string{"-site", "za1", "-username", "grace", "-email", "grace@example.com", "-state", t.TempDir()}

	term := silentTerminal{done: make(chan struct{})}
	defer close(term.done)
	ctx, cancel := context.WithCancel(context.Background())
	var out bytes.Buffer
	prompted := &promptWatcher{onPrompt: cancel}
	err := run(ctx, args, term, &out, prompted, func(k string) string { return env[k] })
	require.ErrorIs(t, err, context.Canceled)
	assert.Contains(t, err.Error(), "run the same command again")
	assert.Empty(t, srv.BillingAccounts())

	var errOut bytes.Buffer
	err = run(context.Background(), args, &outboxReader{srv: srv, mail: "grace@example.com"}, &out, &errOut,
		func(k string) string { return env[k] })
	require.NoError(t, err, errOut.String())
	assert.Len(t, srv.BillingAccounts(), 1)
}

// promptWatcher is the terminal's output: it calls onPrompt when asked for
// a code.
type promptWatcher struct{ onPrompt func() }

func (w *promptWatcher) Write(p []byte) (int, error) {
	if strings.Contains(string(p), "Enter the verification code") {
		w.onPrompt()
	}
	return len(p), nil
}

// TestDemoRunsEveryBranch: every mode runs end to end against the embedded
// mock, seeded with what the branch needs, and a second run changes
// nothing.
func TestDemoRunsEveryBranch(t *testing.T) {
	for mode, want := range map[string][]string{
		"bind-workspace":     {"seeded Billing Center account", "seeded workspace", "✓ bind_workspace"},
		"create-workspace":   {"seeded Billing Center account", "seeded TrueWatch account", "✓ create_workspace"},
		"register-workspace": {"seeded Billing Center account", "✓ register_and_create_workspace"},
	} {
		t.Run(mode, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(context.Background(), []string{"-mode", mode, "-site", "eu1"}, strings.NewReader(""), &out, &errOut, noEnv)
			require.NoError(t, err, out.String()+errOut.String())
			s := out.String()
			for _, w := range want {
				assert.Contains(t, s, w)
			}
			assert.Contains(t, s, "✓ bind_billing_account")
			assert.Contains(t, s, "read the bind_billing_account code for ops@acme.example from the mock outbox")
			assert.Regexp(t, `Workspace\s+wksp_[0-9a-f]{32} on eu1`, s)
			assert.Regexp(t, `Billing Center\s+bcac_[0-9a-f]{32} \(acme\)`, s)
			assert.Contains(t, s, "already activated: true")
		})
	}
}
