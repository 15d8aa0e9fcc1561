package billing_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/internal/testkit"
	"github.com/truewatch-labs/marketplace-go/secret"
	"github.com/truewatch-labs/marketplace-go/site"
	"github.com/truewatch-labs/marketplace-go/twapi"
)

const (
	baseURL    = "https://billing.test/billing-center"
	accountID  = "0123456789abcdef0123456789abcdef"
	instanceID = "ins-00000001"
	token      = secret.String("bc-token-DO-NOT-LEAK")
	password   = "Str0ng!Pass-DO-NOT-LEAK"
	emailCode  = "482916"
)

// env is a client on a fresh mock transport whose every request is
// recorded and answered by the scripted replies.
type env struct {
	c     *billing.Client
	mt    *httpmock.MockTransport
	rec   *testkit.Recorder
	waits *testkit.Waits
}

func setup(t *testing.T, replies ...testkit.Reply) env {
	t.Helper()
	e := env{mt: httpmock.NewMockTransport(), rec: testkit.NewRecorder(replies...), waits: &testkit.Waits{}}
	e.mt.RegisterNoResponder(e.rec.Respond)
	c, err := billing.NewClient(billing.WithBaseURL(baseURL), billing.WithHTTPClient(&http.Client{Transport: e.mt}),
		billing.WithRetryPolicy(e.waits.Policy(3)), billing.WithUserAgent("billing-test/1.0"),
		billing.WithOwnershipProver(&countingProver{name: "client"}))
	require.NoError(t, err)
	e.c = c
	return e
}

// countingProver makes proofs "<name>-<n>:<audience>", a new n per call.
type countingProver struct {
	name string
	mu   sync.Mutex
	n    int
	err  error
}

func (p *countingProver) OwnershipProof(_ context.Context, audience string) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return "", p.err
	}
	p.n++
	return fmt.Sprintf("%s-%d:%s", p.name, p.n, audience), nil
}

func validRegister() *billing.RegisterRequest {
	return &billing.RegisterRequest{
		Site: site.EU1, Username: "acme_admin", Password: password, Email: "ops@acme.example",
		EmailCode: emailCode, Phone: "+4915112345678", Company: billing.Company{Name: "Acme GmbH", Country: "DE"},
		WorkspaceName: "production", WorkspaceLanguage: twapi.LanguageEN,
		HuaweiAccountID: accountID, InstanceID: instanceID, TermsAccepted: true,
	}
}

func validBind() *billing.BindAccountRequest {
	return &billing.BindAccountRequest{Username: "acme_billing", Email: "ops@acme.example", EmailCode: emailCode,
		HuaweiAccountID: accountID, InstanceID: instanceID}
}

// newClientWithSleep returns a client on e's transport whose retry policy
// waits with sleep.
func newClientWithSleep(e env, sleep func(context.Context, time.Duration) error) (*billing.Client, error) {
	p := e.waits.Policy(3)
	p.Sleep = sleep
	return billing.NewClient(billing.WithBaseURL(baseURL), billing.WithHTTPClient(&http.Client{Transport: e.mt}), billing.WithRetryPolicy(p))
}
