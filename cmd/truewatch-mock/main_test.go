package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/koogallery"
	"github.com/truewatch-labs/marketplace-go/mockserver"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestParseOptions(t *testing.T) {
	o, err := parseOptions(nil, env(nil), io.Discard)
	require.NoError(t, err)
	market := options{kgKey: mockserver.DemoKooGalleryKey, kgKitKey: mockserver.DemoKooGalleryKitKey,
		delivery: mockserver.DefaultDeliveryPolicy(), resourceIDs: "instance", shape: "inline", grace: mockserver.DefaultGracePeriod,
		journalSize: mockserver.DefaultJournalSize, strictness: "strict", maxNamespaces: mockserver.DefaultMaxNamespaces,
		activation: mockserver.DefaultEnterpriseActivation, secretPadding: "pkcs1", userInfo: "legacy"}
	want := market
	want.addr, want.tokenTTL, want.maxBody = "127.0.0.1:8080", time.Hour, 1<<20
	want.outbox, want.timeouts = mockserver.DefaultOutboxLimits(), mockserver.DefaultTimeouts()
	assert.Equal(t, want, o)

	o, err = parseOptions(nil, env(map[string]string{"TRUEWATCH_MOCK_VENDOR_URL": "http://127.0.0.1:9000/produce",
		"TRUEWATCH_MOCK_KOOGALLERY_KEY": "k1", "TRUEWATCH_MOCK_KOOGALLERY_KIT_KEY": "k2", "TRUEWATCH_MOCK_DELIVERY_ATTEMPTS": "5",
		"TRUEWATCH_MOCK_DELIVERY_INTERVAL": "1m", "TRUEWATCH_MOCK_DELIVERY_TIMEOUT": "2s", "TRUEWATCH_MOCK_BSS_RESOURCE_ID": "distinct",
		"TRUEWATCH_MOCK_NEW_INSTANCE_SHAPE": "flat", "TRUEWATCH_MOCK_GRACE_PERIOD": "1h"}), io.Discard)
	require.NoError(t, err)
	assert.Equal(t, "http://127.0.0.1:9000/produce", o.vendorURL)
	assert.Equal(t, []string{"k1", "k2", "distinct", "flat"}, []string{o.kgKey, o.kgKitKey, o.resourceIDs, o.shape})
	assert.Equal(t, mockserver.DeliveryPolicy{Attempts: 5, Interval: time.Minute, Timeout: 2 * time.Second}, o.delivery)
	assert.Equal(t, time.Hour, o.grace)

	o, err = parseOptions(nil, env(map[string]string{"TRUEWATCH_MOCK_ADDR": "0.0.0.0:9000", "TRUEWATCH_MOCK_NO_DEMO": "true",
		"TRUEWATCH_MOCK_RATE_LIMIT": "20", "TRUEWATCH_MOCK_TOKEN_TTL": "5m", "TRUEWATCH_MOCK_SEED": "s", "TRUEWATCH_MOCK_MAX_BODY": "10",
		"TRUEWATCH_MOCK_PUBLIC_URL": "http://localhost:9000", "TRUEWATCH_MOCK_CONTROL_TOKEN": "tok-0123456789abcdef",
		"TRUEWATCH_MOCK_OUTBOX_PER_ADDRESS": "3", "TRUEWATCH_MOCK_OUTBOX_TOTAL": "30",
		"TRUEWATCH_MOCK_READ_HEADER_TIMEOUT": "1s", "TRUEWATCH_MOCK_READ_TIMEOUT": "2s", "TRUEWATCH_MOCK_WRITE_TIMEOUT": "3s",
		"TRUEWATCH_MOCK_IDLE_TIMEOUT": "4s", "TRUEWATCH_MOCK_SHUTDOWN_GRACE": "5s", "TRUEWATCH_MOCK_JOURNAL_SIZE": "7"}), io.Discard)
	require.NoError(t, err)
	want = market
	want.addr, want.publicURL, want.noDemo, want.seed, want.rateLimit = "0.0.0.0:9000", "http://localhost:9000", true, "s", 20
	want.tokenTTL, want.maxBody, want.controlToken = 5*time.Minute, 10, "tok-0123456789abcdef"
	want.outbox, want.journalSize = mockserver.OutboxLimits{PerAddress: 3, Total: 30}, 7
	want.timeouts = mockserver.Timeouts{ReadHeader: time.Second, Read: 2 * time.Second, Write: 3 * time.Second, Idle: 4 * time.Second, ShutdownGrace: 5 * time.Second}
	assert.Equal(t, want, o)

	// Flags win over the environment.
	o, err = parseOptions([]string{"-addr", "127.0.0.1:0", "-no-demo=false"},
		env(map[string]string{"TRUEWATCH_MOCK_ADDR": "0.0.0.0:9000", "TRUEWATCH_MOCK_NO_DEMO": "1"}), io.Discard)
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:0", o.addr)
	assert.False(t, o.noDemo)

	_, err = parseOptions(nil, env(map[string]string{"TRUEWATCH_MOCK_TOKEN_TTL": "soon"}), io.Discard)
	assert.ErrorContains(t, err, "TRUEWATCH_MOCK_TOKEN_TTL")
	_, err = parseOptions([]string{"-bogus"}, env(nil), io.Discard)
	assert.Error(t, err)
	_, err = parseOptions([]string{"extra"}, env(nil), io.Discard)
	assert.ErrorContains(t, err, "unexpected arguments")
}

// syncBuffer is a bytes.Buffer safe for the server goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestRunServesUntilCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	var out syncBuffer
	ready := make(chan *mockserver.Server, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"-addr", "127.0.0.1:0"}, env(nil), &out, ready) }()
	srv := <-ready

	resp, err := http.Get(srv.URL() + "/_mock/health")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	banner := out.String()
	for _, want := range []string{srv.BillingURL(), srv.URL() + "/sites/us1/console-api", srv.URL() + "/sites/id1/auth/login/pwd",
		mockserver.DemoHuaweiAccountID, mockserver.DemoAccessKey, mockserver.DemoSecretKey, mockserver.DemoInstanceID} {
		assert.Contains(t, banner, want)
	}

	cancel()
	require.NoError(t, <-done)
	assert.True(t, strings.HasSuffix(out.String(), "shutting down (at most 5s)\ntruewatch-mock: stopped\n"), out.String())
	_, err = http.Get(srv.URL() + "/_mock/health")
	assert.Error(t, err, "the listener is closed")
}

func TestRunWithoutDemo(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	var out syncBuffer
	ready := make(chan *mockserver.Server, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-no-demo"}, env(nil), &out, ready) }()
	srv := <-ready
	assert.Empty(t, srv.Purchases())
	cancel()
	require.NoError(t, <-done)
	assert.NotContains(t, out.String(), mockserver.DemoSecretKey)
}

func TestRunBadAddress(t *testing.T) {
	err := run(t.Context(), []string{"-addr", "nonsense"}, env(nil), io.Discard, nil)
	assert.ErrorContains(t, err, "invalid address")
}

// TestUsage: -h documents every flag with its environment variable, and
// is not an error for main (flag.ErrHelp exits 0).
func TestUsage(t *testing.T) {
	var out bytes.Buffer
	_, err := parseOptions([]string{"-h"}, env(nil), &out)
	require.ErrorIs(t, err, flag.ErrHelp)
	help := out.String()
	assert.True(t, strings.HasPrefix(help, "Usage: truewatch-mock [flags]"), help)
	src, err := os.ReadFile("main.go")
	require.NoError(t, err)
	doc, _, _ := strings.Cut(string(src), "package main")
	n := 0
	newFlagSet(&options{}, io.Discard).VisitAll(func(f *flag.Flag) {
		n++
		assert.Regexp(t, `(?m)^  -`+f.Name+`( |$)`, help)
		assert.Contains(t, help, "(env "+envName(f.Name)+")", f.Name)
		assert.Contains(t, doc, "[-"+f.Name, "the package doc's usage line shows %s", f.Name)
		assert.Contains(t, doc, envName(f.Name), "the package doc names %s", envName(f.Name))
	})
	assert.Equal(t, 42, n)
}

// TestRunAudience: the audience proofs must name is the Billing Center URL
// unless -audience (or its variable) names another.
func TestRunAudience(t *testing.T) {
	srv, out := startRun(t, []string{"-addr", "127.0.0.1:0"}, nil)
	assert.Equal(t, srv.BillingURL(), srv.Audience())
	assert.Contains(t, out.String(), "proof audience  "+srv.BillingURL())
	for name, tc := range map[string]struct {
		args []string
		vars map[string]string
	}{
		"flag":        {[]string{"-addr", "127.0.0.1:0", "-audience", "https://Billing.Example.com/"}, nil},
		"environment": {[]string{"-addr", "127.0.0.1:0"}, map[string]string{"TRUEWATCH_MOCK_AUDIENCE": "https://billing.example.com"}},
	} {
		t.Run(name, func(t *testing.T) {
			srv, out := startRun(t, tc.args, tc.vars)
			assert.Equal(t, "https://billing.example.com", srv.Audience())
			assert.Contains(t, out.String(), "proof audience  https://billing.example.com")
		})
	}
	err := run(t.Context(), []string{"-addr", "127.0.0.1:0", "-audience", "billing.example.com"}, env(nil), io.Discard, nil)
	assert.ErrorContains(t, err, "invalid audience")
}

// startRun runs the binary's run with args until the test ends and returns
// the server and its output.
func startRun(t *testing.T, args []string, vars map[string]string) (*mockserver.Server, *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	out := &syncBuffer{}
	ready := make(chan *mockserver.Server, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, env(vars), out, ready) }()
	var srv *mockserver.Server
	select {
	case srv = <-ready:
	case err := <-done:
		t.Fatalf("run: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		assert.NoError(t, <-done)
	})
	return srv, out
}

// TestRunPublicURL: behind -public-url, everything printed and every
// login URL in the mock's answers use it, while the server listens on
// -addr.
func TestRunPublicURL(t *testing.T) {
	const public = "http://mock.example:8080"
	for name, tc := range map[string]struct {
		args []string
		vars map[string]string
	}{
		"flag":        {[]string{"-addr", "127.0.0.1:0", "-public-url", public}, nil},
		"environment": {[]string{"-addr", "127.0.0.1:0"}, map[string]string{"TRUEWATCH_MOCK_PUBLIC_URL": public}},
	} {
		t.Run(name, func(t *testing.T) {
			srv, out := startRun(t, tc.args, tc.vars)
			assert.Equal(t, public, srv.URL())
			banner := out.String()
			assert.Contains(t, banner, "listening on "+srv.Addr()+", serving "+public+"\n")
			assert.NotContains(t, banner, "set -public-url", "no hint when a public URL is given")
			for _, want := range []string{public + "/billing-center\n", public + "/sites/us1/console-api\n",
				public + "/sites/id1/auth/login/pwd\n", public + "/_mock/bindings\n"} {
				assert.Contains(t, banner, want)
			}
			assert.NotContains(t, banner, "http://127.0.0.1", "no URL names the listener")

			resp, err := srv.HTTPClient().Get(srv.URL() + "/_mock/health")
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, http.StatusOK, resp.StatusCode)
		})
	}
}

func TestRunBadPublicURL(t *testing.T) {
	err := run(t.Context(), []string{"-addr", "127.0.0.1:0", "-public-url", "mock.example:8080"}, env(nil), io.Discard, nil)
	assert.ErrorContains(t, err, "invalid public URL")
	err = run(t.Context(), []string{"-addr", "127.0.0.1:0"}, env(map[string]string{"TRUEWATCH_MOCK_PUBLIC_URL": "http://h/x?y"}), io.Discard, nil)
	assert.ErrorContains(t, err, "invalid public URL")
}

// TestRunEveryInterface: listening on every interface without a public URL,
// the banner says how to fix the URLs it prints.
func TestRunEveryInterface(t *testing.T) {
	_, out := startRun(t, []string{"-addr", "0.0.0.0:0"}, nil)
	assert.Contains(t, out.String(), "set -public-url")
}

// TestBannerListsControlPlane: the banner lists every control endpoint.
func TestBannerListsControlPlane(t *testing.T) {
	srv, out := startRun(t, []string{"-addr", "127.0.0.1:0"}, nil)
	banner := out.String()
	eps := srv.ControlEndpoints()
	require.NotEmpty(t, eps)
	for _, ep := range eps {
		assert.Regexp(t, regexp.MustCompile(`(?m)^  `+ep.Method+` +`+regexp.QuoteMeta(srv.URL()+ep.Path)+`$`), banner)
		assert.Contains(t, banner, ep.Summary)
	}
	assert.NotContains(t, banner, "set -public-url", "no hint on a loopback address")
}

// echoVendor is a user's vendor service: it answers newInstance with an
// instance ID of its own.
type echoVendor struct{ koogallery.UnimplementedVendor }

func (echoVendor) NewInstance(_ context.Context, r *koogallery.NewInstanceRequest) (*koogallery.NewInstanceResult, error) {
	return &koogallery.NewInstanceResult{InstanceID: "mine-" + r.OrderID,
		AppInfo: koogallery.AppInfo{FrontEndURL: "https://vendor.example/start"}}, nil
}

// TestRunVendorURL: -vendor-url and -koogallery-key point the mock's
// KooGallery at a vendor service of the user's; the banner names it.
func TestRunVendorURL(t *testing.T) {
	h, err := koogallery.NewHandler("users-own-key-0001", echoVendor{})
	require.NoError(t, err)
	vendor := httptest.NewServer(h)
	defer vendor.Close()
	srv, out := startRun(t, []string{"-addr", "127.0.0.1:0", "-vendor-url", vendor.URL + "/produce"},
		map[string]string{"TRUEWATCH_MOCK_KOOGALLERY_KEY": "users-own-key-0001"})
	assert.Contains(t, out.String(), "KooGallery calls: "+vendor.URL+"/produce")
	req, err := http.NewRequest(http.MethodPost, srv.URL()+"/_mock/marketplace/orders",
		strings.NewReader(`{"huaweiAccountId":"`+mockserver.DemoHuaweiAccountID+`"}`))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	resp, err := srv.HTTPClient().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var o mockserver.MarketplaceOrder
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&o))
	assert.Equal(t, http.StatusCreated, resp.StatusCode)
	assert.Equal(t, mockserver.OrderDelivered, o.Status, o.LastError)
	assert.Equal(t, "mine-"+o.OrderID, o.InstanceID)

	for _, args := range [][]string{{"-bss-resource-id", "random"}, {"-new-instance-shape", "square"}, {"-vendor-url", "ftp://x"},
		{"-koogallery-key", ""}, {"-grace-period", "0s"}, {"-delivery-attempts", "-1"}} {
		err := run(t.Context(), append([]string{"-addr", "127.0.0.1:0"}, args...), env(nil), io.Discard, nil)
		assert.Error(t, err, "%v", args)
	}
}

// The joint service's flags reach the server: the activation time, the
// client secret's padding and key, the userinfo style; bad values are
// refused before it starts.
func TestJointFlags(t *testing.T) {
	dir := t.TempDir()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	pubFile := filepath.Join(dir, "pub.pem")
	require.NoError(t, os.WriteFile(pubFile, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600))
	o, err := parseOptions([]string{"-enterprise-activation", "0", "-client-secret-public-key", pubFile,
		"-client-secret-padding", "oaep-sha256", "-login-userinfo", "orgid"}, env(nil), io.Discard)
	require.NoError(t, err)
	opts, err := o.jointOptions()
	require.NoError(t, err)
	assert.Len(t, opts, 4)
	for _, bad := range [][]string{{"-client-secret-padding", "none"}, {"-login-userinfo", "x"},
		{"-client-secret-key", filepath.Join(dir, "missing.pem")}, {"-client-secret-public-key", pubFile, "-client-secret-key", pubFile}} {
		o, err := parseOptions(bad, env(nil), io.Discard)
		require.NoError(t, err)
		_, err = o.jointOptions()
		assert.Error(t, err, "%v", bad)
	}
}
