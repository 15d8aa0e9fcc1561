package truewatchmock

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"

	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/huawei"
	"github.com/truewatch-labs/marketplace-go/mockserver"
	"github.com/truewatch-labs/marketplace-go/secret"
)

// This file tests everything that runs without Docker: the container
// request options make, the health strategy, and the Container's helpers,
// against the truewatch-mock binary run as the container would run it
// (the image's environment from the Dockerfile, the request's over it,
// DataDir standing in a temporary directory, 127.0.0.1 for 0.0.0.0). The
// real container is docker_test.go's, behind the docker build tag.

func TestRequestDefaults(t *testing.T) {
	req, st, hs, err := request("")
	require.NoError(t, err)
	assert.Equal(t, DefaultImage, req.Image)
	assert.True(t, req.Started)
	assert.Equal(t, []string{Port}, req.ExposedPorts)
	assert.Equal(t, map[string]string{envPublicURL: "http://localhost:8080"}, req.Env)
	assert.Same(t, hs, req.WaitingFor)
	assert.False(t, hs.tls)
	assert.Equal(t, defaultStartup, *hs.Timeout())
	assert.Equal(t, settings{publicURL: "http://localhost:8080", audience: "http://localhost:8080/billing-center"}, st)
	assert.Nil(t, req.HostConfigModifier, "a random host port")
}

func TestRequestOptions(t *testing.T) {
	req, st, hs, err := request("registry.example/truewatch-mock:1", WithTLS(), WithHostPort(18443), WithControlToken("ctl-token-0123456789"),
		WithFixture("/tmp/f.json"), WithoutDemo(), WithSeed("s1"), testcontainers.WithEnv(map[string]string{"TRUEWATCH_MOCK_RATE_LIMIT": "5"}))
	require.NoError(t, err)
	assert.Equal(t, "registry.example/truewatch-mock:1", req.Image)
	assert.Equal(t, map[string]string{envTLS: "1", envTLSCAOut: CAPath, envPublicURL: "https://localhost:18443",
		envControlToken: "ctl-token-0123456789", envFixture: FixturePath, envNoDemo: "1", envSeed: "s1", "TRUEWATCH_MOCK_RATE_LIMIT": "5"}, req.Env)
	assert.True(t, st.tls)
	assert.Equal(t, CAPath, st.caPath)
	assert.Equal(t, "https://localhost:18443/billing-center", st.audience)
	assert.Equal(t, secret.String("ctl-token-0123456789"), st.token)
	assert.True(t, hs.tls)
	require.Len(t, req.Files, 1)
	assert.Equal(t, testcontainers.ContainerFile{HostFilePath: "/tmp/f.json", ContainerFilePath: FixturePath, FileMode: 0o644}, req.Files[0])
	hc := &container.HostConfig{}
	require.NotNil(t, req.HostConfigModifier)
	req.HostConfigModifier(hc)
	assert.Equal(t, network.PortMap{network.MustParsePort(Port): {{HostPort: "18443"}}}, hc.PortBindings)

	req, st, _, err = request("", WithTLS(), WithPublicURL("https://docker:8443"), WithBuildContext("/src/marketplace-go"))
	require.NoError(t, err)
	assert.Equal(t, "https://docker:8443", req.Env[envPublicURL], "a public URL given wins")
	assert.Equal(t, "https://docker:8443/billing-center", st.audience)
	assert.Equal(t, "", req.Image)
	assert.Equal(t, testcontainers.FromDockerfile{Context: "/src/marketplace-go", Dockerfile: "Dockerfile", KeepImage: true}, req.FromDockerfile)

	mine := wait.ForLog("listening on")
	req, _, hs, err = request("", testcontainers.WithWaitStrategy(mine))
	require.NoError(t, err)
	assert.Nil(t, hs)
	require.NotNil(t, req.WaitingFor, "the user's strategy is kept")
	_, ours := req.WaitingFor.(*healthStrategy)
	assert.False(t, ours)
}

// TestRequestRefusesBadOptions: bad options are errors of Run, before
// any container.
func TestRequestRefusesBadOptions(t *testing.T) {
	chain, key := testPair(t)
	_, otherKey := testPair(t)
	for name, opts := range map[string][]testcontainers.ContainerCustomizer{
		"plain public URL with TLS":   {WithTLS(), WithPublicURL("http://localhost:8080")},
		"short control token":         {WithControlToken("short")},
		"host port out of range":      {WithHostPort(70000)},
		"mismatched pair":             {WithTLSCertificate(chain, otherKey)},
		"not PEM":                     {WithTLSCertificate([]byte("x"), key)},
		"empty fixture":               {WithFixture("")},
		"TLS with no CA file for Run": {testcontainers.WithEnv(map[string]string{envTLS: "true"})},
	} {
		_, _, _, err := request("", opts...)
		assert.Error(t, err, name)
		if err != nil {
			assert.NotContains(t, err.Error(), "PRIVATE KEY", name)
		}
	}
	req, st, _, err := request("", WithTLSCertificate(chain, key))
	require.NoError(t, err)
	assert.True(t, st.tls)
	assert.Equal(t, []string{CertPath, KeyPath}, []string{req.Files[0].ContainerFilePath, req.Files[1].ContainerFilePath})
	assert.Equal(t, map[string]string{envTLSCert: CertPath, envTLSKey: KeyPath, envTLSCAOut: CAPath, envPublicURL: "https://localhost:8080"}, req.Env)
}

// buildBinary builds cmd/truewatch-mock of the main module (through the
// replace directive, the checkout's).
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "truewatch-mock")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/truewatch-labs/marketplace-go/cmd/truewatch-mock").CombinedOutput()
	require.NoError(t, err, "%s", out)
	return bin
}

// TestEnvNamesAreTheBinarys: every variable the options set is one the
// binary reads (its -h names each flag's).
func TestEnvNamesAreTheBinarys(t *testing.T) {
	out, _ := exec.Command(buildBinary(t), "-h").CombinedOutput()
	for _, name := range []string{envTLS, envTLSCert, envTLSKey, envTLSCAOut, envPublicURL, envAudience, envControlToken, envFixture, envNoDemo, envSeed} {
		assert.Contains(t, string(out), "(env "+name+")")
	}
}

// fakeContainer is the binary standing for the container: what the
// strategy and the helpers ask of a container (its host and mapped port,
// files under DataDir, its state) answered from the process. The other
// methods of testcontainers.Container are not called (nil).
type fakeContainer struct {
	testcontainers.Container
	port   string
	data   string // DataDir's stand-in
	exited chan struct{}
	code   int
}

func (f *fakeContainer) Host(context.Context) (string, error) { return "127.0.0.1", nil }

func (f *fakeContainer) MappedPort(_ context.Context, p string) (network.Port, error) {
	if p != Port {
		return network.Port{}, errors.New("not exposed: " + p)
	}
	return network.ParsePort(f.port + "/tcp")
}

func (f *fakeContainer) CopyFileFromContainer(_ context.Context, path string) (io.ReadCloser, error) {
	rel, ok := strings.CutPrefix(path, DataDir+"/")
	if !ok {
		return nil, errors.New("not under " + DataDir + ": " + path)
	}
	return os.Open(filepath.Join(f.data, rel))
}

func (f *fakeContainer) State(context.Context) (*container.State, error) {
	select {
	case <-f.exited:
		return &container.State{Status: "exited", ExitCode: f.code}, nil
	default:
		return &container.State{Status: "running", Running: true}, nil
	}
}

// imageEnv is the Dockerfile's final stage's ENV.
func imageEnv(t *testing.T) map[string]string {
	t.Helper()
	return finalEnv(dockerfileStages(t)[1])
}

// startAsContainer runs the binary as the container req describes would
// run: the image's environment with the request's over it, its files
// copied, DataDir in a temporary directory, on 127.0.0.1 and a free port.
func startAsContainer(t *testing.T, bin string, req testcontainers.GenericContainerRequest) *fakeContainer {
	t.Helper()
	data := t.TempDir()
	env := imageEnv(t)
	for k, v := range req.Env {
		env[k] = v
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	_, port, _ := net.SplitHostPort(l.Addr().String())
	require.NoError(t, l.Close())
	env["TRUEWATCH_MOCK_ADDR"] = "127.0.0.1:" + port
	for _, f := range req.Files {
		rel, ok := strings.CutPrefix(f.ContainerFilePath, DataDir+"/")
		require.True(t, ok, f.ContainerFilePath)
		var b []byte
		if f.Reader != nil {
			b, err = io.ReadAll(f.Reader)
		} else {
			b, err = os.ReadFile(f.HostFilePath)
		}
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(data, rel), b, os.FileMode(f.FileMode)))
	}
	cmd := exec.Command(bin)
	cmd.Dir = data
	cmd.Env = []string{"HOME=/"}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+strings.ReplaceAll(v, DataDir+"/", data+"/"))
	}
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	f := &fakeContainer{port: port, data: data, exited: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
		}
		err := cmd.Wait()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			f.code = ee.ExitCode()
		}
		close(f.exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-f.exited
	})
	return f
}

// started is what Run does after GenericContainer, on the stand-in.
func started(t *testing.T, bin string, img string, opts ...testcontainers.ContainerCustomizer) (*Container, *fakeContainer) {
	t.Helper()
	req, st, hs, err := request(img, opts...)
	require.NoError(t, err)
	f := startAsContainer(t, bin, req)
	require.NoError(t, req.WaitingFor.WaitUntilReady(t.Context(), f))
	c := &Container{Container: f, settings: st}
	require.NoError(t, c.readCA(t.Context(), hs))
	return c, f
}

// TestContainerHelpers: with WithTLS, the strategy waits for the health
// check trusting only the CA it copied out, and the helpers reach the
// mock with it: the control plane (with the token), the Huawei half
// with the demo account, the Billing Center with an ownership proof for
// the mock's audience. A client without the CA gets a certificate error.
// Without TLS the same over http, with a fixture applied.
func TestContainerHelpers(t *testing.T) {
	bin := buildBinary(t)
	ctx := t.Context()
	t.Run("tls", func(t *testing.T) {
		c, _ := started(t, bin, "", WithTLS(), WithControlToken("ctl-token-0123456789"))
		u, err := c.URL(ctx)
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(u, "https://127.0.0.1:"), u)
		require.NotNil(t, c.CACertPEM())
		assert.Equal(t, "https://localhost:8080", c.PublicURL())

		ctl, err := c.ControlClient(ctx)
		require.NoError(t, err)
		h, err := ctl.Health(ctx)
		require.NoError(t, err)
		assert.Equal(t, "ok", h.Status)
		_, err = ctl.Purchases(ctx)
		require.NoError(t, err, "the token is sent")

		hw, err := c.HuaweiClient(ctx)
		require.NoError(t, err)
		page, err := hw.ListPurchases(ctx, &huawei.PurchaseQuery{})
		require.NoError(t, err)
		require.NotEmpty(t, page.Purchases)
		assert.Equal(t, mockserver.DemoInstanceID, page.Purchases[0].InstanceID)

		bc, err := c.BillingClient(ctx, nil)
		require.NoError(t, err)
		_, err = bc.SendVerificationCode(ctx, &billing.SendCodeRequest{Email: "ada@example.com", Purpose: billing.PurposeRegister})
		require.NoError(t, err, "the proof names the mock's audience")
		code, ok, err := ctl.LatestCode(ctx, "ada@example.com", billing.PurposeRegister)
		require.NoError(t, err)
		assert.True(t, ok)
		assert.NotEmpty(t, code)

		plain := &http.Client{Timeout: 10 * time.Second, Transport: http.DefaultTransport.(*http.Transport).Clone()}
		_, err = plain.Get(u + "/_mock/health")
		var ua x509.UnknownAuthorityError
		var ve *tls.CertificateVerificationError
		assert.True(t, errors.As(err, &ua) || errors.As(err, &ve), "a certificate error, got %v", err)
	})
	t.Run("http with a fixture", func(t *testing.T) {
		fixture, err := filepath.Abs("../../examples/fixtures/acme.json")
		require.NoError(t, err)
		c, _ := started(t, bin, "", WithFixture(fixture), WithHostPort(18080))
		u, err := c.URL(ctx)
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(u, "http://127.0.0.1:"), u)
		assert.Nil(t, c.CACertPEM())
		assert.Equal(t, "http://localhost:18080", c.PublicURL())
		ctl, err := c.ControlClient(ctx)
		require.NoError(t, err)
		st, err := ctl.State(ctx)
		require.NoError(t, err)
		raw, err := os.ReadFile(fixture)
		require.NoError(t, err)
		m := regexp.MustCompile(`"instanceId":\s*"([^"]+)"`).FindSubmatch(raw)
		require.NotNil(t, m)
		found := false
		for _, p := range st.Purchases {
			found = found || p.InstanceID == string(m[1])
		}
		assert.True(t, found, "the fixture's purchase %s was applied", m[1])
	})
}

// TestHealthStrategyFailures: a container that exits (a fixture that does
// not apply) fails the wait at once with its state; a CA that is not the
// mock's never passes (verification on), until the timeout.
func TestHealthStrategyFailures(t *testing.T) {
	bin := buildBinary(t)
	bad := filepath.Join(t.TempDir(), "bad.json")
	require.NoError(t, os.WriteFile(bad, []byte(`{"version":1,"bindings":[{"billingAccount":"nobody"}]}`), 0o600))
	req, _, hs, err := request("", WithFixture(bad))
	require.NoError(t, err)
	f := startAsContainer(t, bin, req)
	start := time.Now()
	err = hs.WaitUntilReady(t.Context(), f)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "exited (exit code 2)")
	assert.Less(t, time.Since(start), 20*time.Second)

	req, _, hs, err = request("", WithTLS())
	require.NoError(t, err)
	hs.timeout = 2 * time.Second
	f = startAsContainer(t, bin, req)
	other, _ := testPair(t)
	hs.ca = other // as if the CA read were another's
	err = hs.WaitUntilReady(t.Context(), f)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not healthy within 2s")
	var ua x509.UnknownAuthorityError
	var ve *tls.CertificateVerificationError
	assert.True(t, errors.As(err, &ua) || errors.As(err, &ve), "a certificate error, got %v", err)
}
