package truewatchmock

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	digest "github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The Dockerfile read by BuildKit's own parser and linter (the frontend
// docker build uses; DockerfileLint is what docker build --check runs),
// since there is neither a Docker daemon nor buildx nor hadolint here.

func dockerfile(t *testing.T) []byte {
	t.Helper()
	dt, err := os.ReadFile("../../Dockerfile")
	require.NoError(t, err)
	return dt
}

func dockerfileStages(t *testing.T) []instructions.Stage {
	t.Helper()
	res, err := parser.Parse(bytes.NewReader(dockerfile(t)))
	require.NoError(t, err)
	assert.Empty(t, res.Warnings)
	stages, _, err := instructions.Parse(res.AST, nil)
	require.NoError(t, err)
	require.Len(t, stages, 2)
	return stages
}

func finalEnv(st instructions.Stage) map[string]string {
	env := map[string]string{}
	for _, c := range st.Commands {
		if e, ok := c.(*instructions.EnvCommand); ok {
			for _, kv := range e.Env {
				env[kv.Key] = kv.Value
			}
		}
	}
	return env
}

// offlineResolver answers BuildKit's questions about base images without
// a registry (none is reachable here): a config with only a PATH, and the
// references asked are recorded.
type offlineResolver struct {
	mu   sync.Mutex
	refs []string
}

func (r *offlineResolver) ResolveImageConfig(_ context.Context, ref string, _ sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.refs = append(r.refs, ref)
	return ref, "", []byte(`{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]}}`), nil
}

func lint(t *testing.T, dt []byte) ([]string, []string) {
	t.Helper()
	st := llb.Scratch()
	def, err := st.Marshal(t.Context())
	require.NoError(t, err)
	sm := llb.NewSourceMap(&st, "Dockerfile", "Dockerfile", dt)
	sm.Definition = def
	r := &offlineResolver{}
	res, err := dockerfile2llb.DockerfileLint(t.Context(), dt, dockerfile2llb.ConvertOpt{SourceMap: sm, MetaResolver: r})
	require.NoError(t, err)
	var warnings []string
	for _, w := range res.Warnings {
		warnings = append(warnings, w.RuleName+": "+w.Detail)
	}
	require.Nil(t, res.Error)
	return warnings, r.refs
}

// TestDockerfileLint: BuildKit's checks find nothing in the Dockerfile,
// and do find a few known mistakes (so that the linter is known to run).
func TestDockerfileLint(t *testing.T) {
	warnings, refs := lint(t, dockerfile(t))
	assert.Empty(t, warnings)
	assert.Contains(t, refs, "docker.io/library/golang:1.25", "the build stage's image, its ARG expanded")

	bad, _ := lint(t, []byte("FROM scratch as x\nENV A 1\nENTRYPOINT /truewatch-mock\n"))
	require.Len(t, bad, 3, "%v", bad)
	assert.Contains(t, strings.Join(bad, "\n"), "JSONArgsRecommended")
	assert.Contains(t, strings.Join(bad, "\n"), "LegacyKeyValueFormat")
	assert.Contains(t, strings.Join(bad, "\n"), "FromAsCasing")
}

// TestDockerfileMatchesTheModule: the image listens on Port (EXPOSE and
// TRUEWATCH_MOCK_ADDR), its working directory and user's directory is
// DataDir, it runs as a non-root user, and its entry point and health
// check are the binary's exec forms.
func TestDockerfileMatchesTheModule(t *testing.T) {
	final := dockerfileStages(t)[1]
	assert.Equal(t, "scratch", final.BaseName)
	env := finalEnv(final)
	_, port, err := net.SplitHostPort(env["TRUEWATCH_MOCK_ADDR"])
	require.NoError(t, err)
	assert.Equal(t, Port, port+"/tcp")
	for _, c := range final.Commands {
		switch c := c.(type) {
		case *instructions.ExposeCommand:
			assert.Equal(t, []string{Port}, c.Ports)
		case *instructions.WorkdirCommand:
			assert.Equal(t, DataDir, c.Path)
		case *instructions.UserCommand:
			assert.NotContains(t, []string{"", "0", "root", "0:0"}, c.User)
		case *instructions.EntrypointCommand:
			assert.False(t, c.PrependShell)
			assert.Equal(t, []string{"/truewatch-mock"}, c.CmdLine)
		case *instructions.HealthCheckCommand:
			assert.Equal(t, []string{"CMD", "/truewatch-mock", "healthcheck"}, c.Health.Test)
		case *instructions.RunCommand:
			t.Errorf("RUN in the scratch stage: %v", c)
		}
	}
}

// testPair is a self-signed certificate for localhost and 127.0.0.1 and
// its key, PEM.
func testPair(t *testing.T) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), DNSNames: []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})
}
