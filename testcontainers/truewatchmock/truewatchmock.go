// Package truewatchmock runs truewatch-mock, the mock of TrueWatch on
// Huawei Cloud Marketplace, as a container through Testcontainers for Go,
// for tests whose CI has Docker (or a compatible runtime). It is a module
// of its own (github.com/truewatch-labs/marketplace-go/testcontainers), so
// that builds of the main module never pull testcontainers-go.
//
//	ctr, err := truewatchmock.Run(ctx, truewatchmock.DefaultImage, truewatchmock.WithTLS())
//	defer testcontainers.TerminateContainer(ctr)
//	hw, err := ctr.HuaweiClient(ctx)          // demo credentials, trusting the mock's CA
//	ctl, err := ctr.ControlClient(ctx)        // the control plane (mockclient)
//
// The image is the repository's Dockerfile: build it first (docker build
// -t truewatch-mock . at the repository's root; DefaultImage is that tag,
// no image is published), or let Run build it with WithBuildContext. The
// mock is configured through its environment (TRUEWATCH_MOCK_<FLAG>, as
// the image's health check reads it); the options here set the common
// ones and testcontainers.WithEnv sets any other.
//
// Run waits until GET /_mock/health answers {"status":"ok"} from the host,
// over https trusting only the CA the mock made (copied out of the
// container) when TLS is on. The URLs the mock puts in its answers (login
// links) use its public URL, by default http(s)://localhost:8080, the
// container's own port: WithHostPort binds a fixed host port and makes
// them right from the host, WithPublicURL names another host (a remote
// Docker host's name, which the control plane must also be reached by).
package truewatchmock

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/testcontainers/testcontainers-go"

	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/huawei"
	"github.com/truewatch-labs/marketplace-go/mockclient"
	"github.com/truewatch-labs/marketplace-go/mockserver"
	"github.com/truewatch-labs/marketplace-go/secret"
)

const (
	// DefaultImage is the tag the documentation builds the repository's
	// Dockerfile with (docker build -t truewatch-mock .). No image is
	// published; Run with "" uses this one.
	DefaultImage = "truewatch-mock:latest"
	// Port is the port the mock listens on in the container (the
	// Dockerfile's EXPOSE and TRUEWATCH_MOCK_ADDR).
	Port = "8080/tcp"
	// DataDir is the image's writable working directory, owned by its
	// user: the CA, fixtures and state files go there.
	DataDir = "/data"
	// CAPath is where WithTLS has the mock write its CA in the container.
	CAPath = DataDir + "/ca.pem"
	// FixturePath is where WithFixture copies the fixture.
	FixturePath = DataDir + "/fixture.json"
	// CertPath and KeyPath are where WithTLSCertificate copies the pair.
	CertPath = DataDir + "/tls-cert.pem"
	KeyPath  = DataDir + "/tls-key.pem"

	// billingPrefix is the Billing Center's path on the mock
	// (mockserver's BillingURL).
	billingPrefix = "/billing-center"
	// defaultStartup bounds Run's wait for the health check.
	defaultStartup = 60 * time.Second
)

// The mock's environment variables these options set (cmd/truewatch-mock).
const (
	envTLS          = "TRUEWATCH_MOCK_TLS"
	envTLSCert      = "TRUEWATCH_MOCK_TLS_CERT"
	envTLSKey       = "TRUEWATCH_MOCK_TLS_KEY"
	envTLSCAOut     = "TRUEWATCH_MOCK_TLS_CA_OUT"
	envPublicURL    = "TRUEWATCH_MOCK_PUBLIC_URL"
	envAudience     = "TRUEWATCH_MOCK_AUDIENCE"
	envControlToken = "TRUEWATCH_MOCK_CONTROL_TOKEN"
	envFixture      = "TRUEWATCH_MOCK_FIXTURE"
	envNoDemo       = "TRUEWATCH_MOCK_NO_DEMO"
	envSeed         = "TRUEWATCH_MOCK_SEED"
	envHostPort     = "truewatchmock.hostPort" // a label, not the mock's: see WithHostPort
)

func setEnv(req *testcontainers.GenericContainerRequest, kv ...string) {
	if req.Env == nil {
		req.Env = map[string]string{}
	}
	for i := 0; i+1 < len(kv); i += 2 {
		req.Env[kv[i]] = kv[i+1]
	}
}

// WithTLS serves HTTPS with a certificate the mock makes at start (its own
// CA, for localhost, 127.0.0.1, ::1 and the public URL's host), the CA
// written to CAPath, from where Run copies it (Container.CACertPEM).
func WithTLS() testcontainers.CustomizeRequestOption {
	return func(req *testcontainers.GenericContainerRequest) error {
		setEnv(req, envTLS, "1", envTLSCAOut, CAPath)
		return nil
	}
}

// WithTLSCertificate serves HTTPS with a given chain (leaf first) and
// key, both PEM, copied into the container (mode 0644: the image's user
// must read them; the container is that user's alone). Container.CACertPEM
// is then the chain's last certificate. The pair is checked here: a pair
// that does not parse or match is an error of Run, before any container.
func WithTLSCertificate(certPEM, keyPEM []byte) testcontainers.CustomizeRequestOption {
	return func(req *testcontainers.GenericContainerRequest) error {
		if _, err := tls.X509KeyPair(certPEM, keyPEM); err != nil {
			return fmt.Errorf("truewatchmock: TLS certificate: %w", err)
		}
		req.Files = append(req.Files,
			testcontainers.ContainerFile{Reader: bytes.NewReader(bytes.Clone(certPEM)), ContainerFilePath: CertPath, FileMode: 0o644},
			testcontainers.ContainerFile{Reader: bytes.NewReader(bytes.Clone(keyPEM)), ContainerFilePath: KeyPath, FileMode: 0o644})
		setEnv(req, envTLSCert, CertPath, envTLSKey, KeyPath, envTLSCAOut, CAPath)
		return nil
	}
}

// WithPublicURL sets the URL clients reach the mock at
// (TRUEWATCH_MOCK_PUBLIC_URL): the URLs in its answers use it and its
// control plane answers to its host. It must be https with TLS.
func WithPublicURL(u string) testcontainers.CustomizeRequestOption {
	return func(req *testcontainers.GenericContainerRequest) error {
		setEnv(req, envPublicURL, u)
		return nil
	}
}

// WithHostPort binds the container's Port to port on the Docker host
// (instead of a random one) and, unless WithPublicURL is given, makes the
// public URL http(s)://localhost:port, so that the URLs in the mock's
// answers are right from the host. The port must be free.
func WithHostPort(port int) testcontainers.CustomizeRequestOption {
	return func(req *testcontainers.GenericContainerRequest) error {
		if port <= 0 || port > 65535 {
			return fmt.Errorf("truewatchmock: host port %d out of range", port)
		}
		if req.Labels == nil {
			req.Labels = map[string]string{}
		}
		req.Labels[envHostPort] = strconv.Itoa(port)
		return nil
	}
}

// WithControlToken sets the control token (TRUEWATCH_MOCK_CONTROL_TOKEN,
// 16 characters or more) every control request but the health check must
// send; ControlClient sends it. It is in the container's environment,
// which docker inspect shows: a token for a test mock, not a real secret.
func WithControlToken(token secret.String) testcontainers.CustomizeRequestOption {
	return func(req *testcontainers.GenericContainerRequest) error {
		if len(token.Reveal()) < 16 {
			return errors.New("truewatchmock: the control token needs 16 characters or more")
		}
		setEnv(req, envControlToken, token.Reveal())
		return nil
	}
}

// WithFixture copies the JSON fixture file at hostPath (docs/fixtures.md)
// into the container and applies it at start (TRUEWATCH_MOCK_FIXTURE); a
// fixture that does not apply stops the container, and Run fails with its
// log.
func WithFixture(hostPath string) testcontainers.CustomizeRequestOption {
	return func(req *testcontainers.GenericContainerRequest) error {
		if hostPath == "" {
			return errors.New("truewatchmock: empty fixture path")
		}
		req.Files = append(req.Files, testcontainers.ContainerFile{HostFilePath: hostPath, ContainerFilePath: FixturePath, FileMode: 0o644})
		setEnv(req, envFixture, FixturePath)
		return nil
	}
}

// WithoutDemo starts the mock empty, without the demo Huawei account and
// purchase (TRUEWATCH_MOCK_NO_DEMO).
func WithoutDemo() testcontainers.CustomizeRequestOption {
	return func(req *testcontainers.GenericContainerRequest) error {
		setEnv(req, envNoDemo, "1")
		return nil
	}
}

// WithSeed seeds the mock's deterministic ID generator (TRUEWATCH_MOCK_SEED).
func WithSeed(seed string) testcontainers.CustomizeRequestOption {
	return func(req *testcontainers.GenericContainerRequest) error {
		setEnv(req, envSeed, seed)
		return nil
	}
}

// WithBuildContext builds the image from the Dockerfile at the root of
// dir, a checkout of the repository, instead of using a tagged image; the
// image is kept for the next run.
func WithBuildContext(dir string) testcontainers.CustomizeRequestOption {
	return func(req *testcontainers.GenericContainerRequest) error {
		req.FromDockerfile = testcontainers.FromDockerfile{Context: dir, Dockerfile: "Dockerfile", KeepImage: true}
		req.Image = ""
		return nil
	}
}

// settings is what the request, once customized, says about the mock.
type settings struct {
	tls       bool
	caPath    string // in the container, with TLS
	publicURL string
	audience  string
	token     secret.String
}

// request is Run's container request: the image, Port exposed, the
// health strategy, then opts, then what follows from them (the public
// URL's scheme and port, a fixed host port).
func request(img string, opts ...testcontainers.ContainerCustomizer) (testcontainers.GenericContainerRequest, settings, *healthStrategy, error) {
	if img == "" {
		img = DefaultImage
	}
	req := testcontainers.GenericContainerRequest{Started: true, ContainerRequest: testcontainers.ContainerRequest{
		Image: img, ExposedPorts: []string{Port}}}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o.Customize(&req); err != nil {
			return req, settings{}, nil, err
		}
	}
	env := req.Env
	var st settings
	st.tls = truthy(env[envTLS]) || env[envTLSCert] != ""
	scheme := "http"
	if st.tls {
		scheme = "https"
		st.caPath = env[envTLSCAOut]
		if st.caPath == "" {
			return req, st, nil, fmt.Errorf("truewatchmock: with TLS, %s must name where the mock writes its CA", envTLSCAOut)
		}
	}
	port := strings.TrimSuffix(Port, "/tcp")
	if hp := req.Labels[envHostPort]; hp != "" {
		port = hp
		prev := req.HostConfigModifier
		binding := network.PortMap{network.MustParsePort(Port): {{HostPort: hp}}}
		req.HostConfigModifier = func(hc *container.HostConfig) {
			if prev != nil {
				prev(hc)
			}
			if hc.PortBindings == nil {
				hc.PortBindings = network.PortMap{}
			}
			for k, v := range binding {
				hc.PortBindings[k] = v
			}
		}
	}
	if env[envPublicURL] == "" {
		setEnv(&req, envPublicURL, scheme+"://localhost:"+port)
	}
	st.publicURL = req.Env[envPublicURL]
	if st.tls && !strings.HasPrefix(st.publicURL, "https://") {
		return req, st, nil, fmt.Errorf("truewatchmock: the public URL %q must be https with TLS", st.publicURL)
	}
	st.audience = req.Env[envAudience]
	if st.audience == "" {
		st.audience = strings.TrimSuffix(st.publicURL, "/") + billingPrefix
	}
	st.token = secret.String(req.Env[envControlToken])
	var hs *healthStrategy
	if req.WaitingFor == nil {
		hs = &healthStrategy{tls: st.tls, caPath: st.caPath, timeout: defaultStartup, interval: 250 * time.Millisecond}
		req.WaitingFor = hs
	}
	return req, st, hs, nil
}

// truthy reads a boolean environment value as Go's flag package does.
func truthy(v string) bool {
	b, err := strconv.ParseBool(v)
	return err == nil && b
}

// Container is a running truewatch-mock container.
type Container struct {
	testcontainers.Container
	settings settings
	caPEM    []byte
	pool     *x509.CertPool
}

// Run starts truewatch-mock from img ("" for DefaultImage) with opts
// (these package's and any testcontainers.ContainerCustomizer) and waits
// until its health check answers from the host. On an error after the
// container was created the container is returned too, for
// testcontainers.TerminateContainer (and its logs).
func Run(ctx context.Context, img string, opts ...testcontainers.ContainerCustomizer) (*Container, error) {
	req, st, hs, err := request(img, opts...)
	if err != nil {
		return nil, err
	}
	ctr, err := testcontainers.GenericContainer(ctx, req)
	if ctr == nil {
		return nil, fmt.Errorf("truewatchmock: %w", err)
	}
	c := &Container{Container: ctr, settings: st}
	if err != nil {
		return c, fmt.Errorf("truewatchmock: %w", err)
	}
	return c, c.readCA(ctx, hs)
}

// readCA keeps the CA of a mock serving TLS: the one the health strategy
// read, or else the file in the container.
func (c *Container) readCA(ctx context.Context, hs *healthStrategy) error {
	if !c.settings.tls {
		return nil
	}
	ca := hs.caPEMIfRead()
	if ca == nil {
		var err error
		if ca, err = readFile(ctx, c.Container, c.settings.caPath); err != nil {
			return fmt.Errorf("truewatchmock: the CA: %w", err)
		}
	}
	pool, err := poolWith(ca)
	if err != nil {
		return err
	}
	c.caPEM, c.pool = ca, pool
	return nil
}

// readFile copies a small file out of the container.
func readFile(ctx context.Context, ctr interface {
	CopyFileFromContainer(context.Context, string) (io.ReadCloser, error)
}, path string) ([]byte, error) {
	rc, err := ctr.CopyFileFromContainer(ctx, path)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(io.LimitReader(rc, 1<<20))
}

// poolWith is the system's roots (when readable) and the CA.
func poolWith(caPEM []byte) (*x509.CertPool, error) {
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, errors.New("truewatchmock: the mock's CA does not parse")
	}
	return pool, nil
}

// URL is the mock's root URL from the host: http(s)://host:mapped-port,
// e.g. "https://localhost:49154".
func (c *Container) URL(ctx context.Context) (string, error) {
	host, err := c.Host(ctx)
	if err != nil {
		return "", err
	}
	p, err := c.MappedPort(ctx, Port)
	if err != nil {
		return "", err
	}
	scheme := "http"
	if c.settings.tls {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(host, p.Port()), nil
}

// BillingURL is the Billing Center's base URL from the host.
func (c *Container) BillingURL(ctx context.Context) (string, error) {
	u, err := c.URL(ctx)
	return u + billingPrefix, err
}

// HuaweiEndpoint is the endpoint of the Huawei half (IAM, STS, BSS) from
// the host: the root URL.
func (c *Container) HuaweiEndpoint(ctx context.Context) (string, error) { return c.URL(ctx) }

// PublicURL is the URL the mock was told clients reach it at; the URLs in
// its answers use it.
func (c *Container) PublicURL() string { return c.settings.publicURL }

// Audience is the audience ownership proofs must name: the public URL's
// Billing Center unless TRUEWATCH_MOCK_AUDIENCE says otherwise.
func (c *Container) Audience() string { return c.settings.audience }

// CACertPEM is the certificate clients must trust to reach the mock over
// TLS (the CA it made, or the given chain's last certificate); nil
// without TLS. Give it to other clients, e.g. the official Huawei SDK's
// through HttpConfig.WithHttpRoundTripper and a transport whose RootCAs
// hold it.
func (c *Container) CACertPEM() []byte { return bytes.Clone(c.caPEM) }

// HTTPClient is a client of the mock from the host: it trusts the
// system's roots and CACertPEM, TLS 1.2 or newer, verification on.
func (c *Container) HTTPClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if c.pool != nil {
		tr.TLSClientConfig = &tls.Config{RootCAs: c.pool.Clone(), MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// ControlClient is a client of the mock's control plane (mockclient),
// through HTTPClient, sending the control token of WithControlToken.
func (c *Container) ControlClient(ctx context.Context, opts ...mockclient.Option) (*mockclient.Client, error) {
	u, err := c.URL(ctx)
	if err != nil {
		return nil, err
	}
	base := []mockclient.Option{mockclient.WithHTTPClient(c.HTTPClient())}
	if c.settings.token != "" {
		base = append(base, mockclient.WithControlToken(c.settings.token))
	}
	return mockclient.New(u, append(base, opts...)...)
}

// HuaweiClient is a Huawei client (IAM, STS, BSS) of the mock with the
// demo account's credentials (mockserver.DemoAccessKey; opts may give
// others), through HTTPClient's transport.
func (c *Container) HuaweiClient(ctx context.Context, opts ...huawei.Option) (*huawei.Client, error) {
	u, err := c.URL(ctx)
	if err != nil {
		return nil, err
	}
	return huawei.NewClient(append([]huawei.Option{
		huawei.WithCredentials(mockserver.DemoAccessKey, mockserver.DemoSecretKey),
		huawei.WithEndpoint(u),
		huawei.WithHTTPRoundTripper(c.HTTPClient().Transport),
	}, opts...)...)
}

// BillingClient is a Billing Center client of the mock: its base URL and
// audience, HTTPClient, and ownership proofs made by prover (nil: a
// HuaweiClient with the demo account's credentials).
func (c *Container) BillingClient(ctx context.Context, prover billing.OwnershipProver, opts ...billing.Option) (*billing.Client, error) {
	u, err := c.BillingURL(ctx)
	if err != nil {
		return nil, err
	}
	if prover == nil {
		hw, err := c.HuaweiClient(ctx)
		if err != nil {
			return nil, err
		}
		prover = hw
	}
	return billing.NewClient(append([]billing.Option{
		billing.WithBaseURL(u), billing.WithAudience(c.settings.audience),
		billing.WithHTTPClient(c.HTTPClient()), billing.WithOwnershipProver(prover),
	}, opts...)...)
}
