package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/global"
	sdkconfig "github.com/huaweicloud/huaweicloud-sdk-go-v3/core/config"
	iam "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/iam/v3"
	iammodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/iam/v3/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/mockserver"
)

// trustOnly is a transport trusting only the CA in the PEM file at path,
// as a client given the file -tls-ca-out wrote is configured.
func trustOnly(t *testing.T, path string) *http.Transport {
	t.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(raw), "the file is a PEM certificate")
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	t.Cleanup(tr.CloseIdleConnections)
	return tr
}

// sdkIAM is the official Huawei SDK's IAM client for the demo account at
// endpoint with cfg.
func sdkIAM(t *testing.T, endpoint string, cfg *sdkconfig.HttpConfig) *iam.IamClient {
	t.Helper()
	cred, err := global.NewCredentialsBuilder().WithAk(mockserver.DemoAccessKey).WithSk(mockserver.DemoSecretKey).SafeBuild()
	require.NoError(t, err)
	hc, err := iam.IamClientBuilder().WithEndpoints([]string{endpoint}).WithCredential(cred).WithHttpConfig(cfg).SafeBuild()
	require.NoError(t, err)
	return iam.NewIamClient(hc)
}

func requireCertificateError(t *testing.T, err error) {
	t.Helper()
	require.Error(t, err)
	var ua x509.UnknownAuthorityError
	var ve *tls.CertificateVerificationError
	assert.True(t, errors.As(err, &ua) || errors.As(err, &ve), "a certificate error, got %v", err)
}

// healthcheck runs `truewatch-mock healthcheck` with args and env (added
// to the test's) and returns its error and output.
func healthcheck(t *testing.T, bin string, env []string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"healthcheck"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestBinaryTLS runs the binary with -tls: the banner serves https and
// names the CA file, written with mode 0644; the official Huawei SDK,
// given only that file (verification on), lists the demo account's
// domain; the SDK's default configuration and a plain Go client are
// refused with a certificate error; the health check trusts the file.
func TestBinaryTLS(t *testing.T) {
	bin := buildBinary(t)
	caPath := filepath.Join(t.TempDir(), "ca.pem")
	args := []string{"-addr", "127.0.0.1:0", "-tls", "-tls-ca-out", caPath}
	p := startBinary(t, bin, args...)
	require.True(t, strings.HasPrefix(p.base, "https://127.0.0.1:"), p.base)
	fi, err := os.Stat(caPath)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o644), fi.Mode().Perm(), "the CA is public")

	cfg := sdkconfig.DefaultHttpConfig().WithHttpRoundTripper(trustOnly(t, caPath))
	require.False(t, cfg.IgnoreSSLVerification)
	doms, err := sdkIAM(t, p.base, cfg).KeystoneListAuthDomains(&iammodel.KeystoneListAuthDomainsRequest{})
	require.NoError(t, err)
	require.Len(t, *doms.Domains, 1)
	assert.Equal(t, mockserver.DemoHuaweiAccountID, (*doms.Domains)[0].Id)

	_, err = sdkIAM(t, p.base, sdkconfig.DefaultHttpConfig()).KeystoneListAuthDomains(&iammodel.KeystoneListAuthDomainsRequest{})
	requireCertificateError(t, err)
	plain := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone(), Timeout: 10 * time.Second}
	_, err = plain.Get(p.base + "/_mock/health")
	requireCertificateError(t, err)

	port := p.base[strings.LastIndex(p.base, ":")+1:]
	out, err := healthcheck(t, bin, nil, "-addr", "0.0.0.0:"+port, "-tls", "-tls-ca-out", caPath)
	require.NoError(t, err, out)
	out, err = healthcheck(t, bin, nil, "-addr", "0.0.0.0:"+port, "-tls")
	require.Error(t, err)
	assert.Contains(t, out, "needs -tls-ca-out")

	rest := p.stop(t)
	assert.NotContains(t, rest, "PRIVATE KEY")
	out, err = healthcheck(t, bin, nil, "-addr", "0.0.0.0:"+port, "-tls", "-tls-ca-out", caPath)
	require.Error(t, err, "the mock is down: %s", out)
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, 1, ee.ExitCode())
}

// TestBinaryTLSPrintsCA: without -tls-ca-out the CA is printed after the
// banner, and that is all a client needs.
func TestBinaryTLSPrintsCA(t *testing.T) {
	bin := buildBinary(t)
	cmd := exec.Command(bin, "-addr", "127.0.0.1:0", "-tls", "-no-demo")
	p := startCmd(t, cmd)
	rest := p.stop(t)
	_, after, ok := strings.Cut(rest, "TLS CA (PEM;")
	require.True(t, ok, rest)
	block, _ := pem.Decode([]byte(after[strings.Index(after, "-----BEGIN"):]))
	require.NotNil(t, block)
	ca, err := x509.ParseCertificate(block.Bytes)
	require.NoError(t, err)
	assert.True(t, ca.IsCA)
	assert.NotContains(t, rest, "PRIVATE KEY")
}

// testPair writes a CA and a leaf it signs for names (DNS names or IP
// addresses) to dir: the chain (leaf, CA), the leaf's key and the CA.
func testPair(t *testing.T, dir string, names ...string) (chain, key, caFile string) {
	t.Helper()
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	require.NoError(t, err)
	caCert, err := x509.ParseCertificate(caDER)
	require.NoError(t, err)
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	leafTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: names[0]},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			leafTmpl.IPAddresses = append(leafTmpl.IPAddresses, ip)
		} else {
			leafTmpl.DNSNames = append(leafTmpl.DNSNames, n)
		}
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, caCert, &leafKey.PublicKey, caKey)
	require.NoError(t, err)
	keyDER, err := x509.MarshalPKCS8PrivateKey(leafKey)
	require.NoError(t, err)
	enc := func(typ string, der []byte) []byte { return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}) }
	chain, key, caFile = filepath.Join(dir, "chain.pem"), filepath.Join(dir, "key.pem"), filepath.Join(dir, "ca.pem")
	require.NoError(t, os.WriteFile(chain, append(enc("CERTIFICATE", leafDER), enc("CERTIFICATE", caDER)...), 0o600))
	require.NoError(t, os.WriteFile(key, enc("PRIVATE KEY", keyDER), 0o600))
	require.NoError(t, os.WriteFile(caFile, enc("CERTIFICATE", caDER), 0o644))
	return chain, key, caFile
}

// TestBinaryTLSGivenCertificate: -tls-cert and -tls-key serve a given
// chain; -tls-ca-out writes its last certificate, the CA, which the
// official SDK is given; the health check verifies the leaf against the
// name it is for (here only a DNS name, not the loopback address it
// dials).
func TestBinaryTLSGivenCertificate(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	chain, key, ca := testPair(t, dir, "localhost", "127.0.0.1")
	caOut := filepath.Join(dir, "out", "ca.pem")
	require.NoError(t, os.Mkdir(filepath.Dir(caOut), 0o755))
	p := startBinary(t, bin, "-addr", "127.0.0.1:0", "-tls-cert", chain, "-tls-key", key, "-tls-ca-out", caOut)
	require.True(t, strings.HasPrefix(p.base, "https://"), p.base)
	written, err := os.ReadFile(caOut)
	require.NoError(t, err)
	want, err := os.ReadFile(ca)
	require.NoError(t, err)
	assert.Equal(t, string(want), string(written), "the chain's CA")

	cfg := sdkconfig.DefaultHttpConfig().WithHttpRoundTripper(trustOnly(t, ca))
	doms, err := sdkIAM(t, p.base, cfg).KeystoneListAuthDomains(&iammodel.KeystoneListAuthDomainsRequest{})
	require.NoError(t, err)
	require.Len(t, *doms.Domains, 1)
	port := p.base[strings.LastIndex(p.base, ":")+1:]
	out, err := healthcheck(t, bin, []string{"TRUEWATCH_MOCK_TLS_CERT=" + chain}, "-addr", "127.0.0.1:"+port)
	require.NoError(t, err, out)
	p.stop(t)

	dnsOnly := t.TempDir()
	chain, key, _ = testPair(t, dnsOnly, "mock.example.test")
	p = startBinary(t, bin, "-addr", "127.0.0.1:0", "-tls-cert", chain, "-tls-key", key, "-public-url", "https://mock.example.test:8443")
	port = p.base[strings.LastIndex(p.base, ":")+1:]
	out, err = healthcheck(t, bin, nil, "-addr", "0.0.0.0:"+port, "-tls-cert", chain)
	require.NoError(t, err, out)
	p.stop(t)
}

// TestBinaryRefusesBadTLS: a missing, unreadable, malformed or
// mismatched certificate or key, half a pair, an unwritable -tls-ca-out
// and a plain public URL stop the start with the file or flag named and
// a non-zero exit; nothing listens, no key is printed and no CA file is
// left behind.
func TestBinaryRefusesBadTLS(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	chain, key, _ := testPair(t, filepath.Join(dir), "localhost")
	otherDir := filepath.Join(dir, "other")
	require.NoError(t, os.Mkdir(otherDir, 0o700))
	_, otherKey, _ := testPair(t, otherDir, "localhost")
	garbage := filepath.Join(dir, "garbage.pem")
	require.NoError(t, os.WriteFile(garbage, []byte("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n"), 0o600))
	missing := filepath.Join(dir, "missing.pem")
	keyPEM, err := os.ReadFile(key)
	require.NoError(t, err)
	keyBody := strings.Split(string(keyPEM), "\n")[1]

	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"missing certificate", []string{"-tls-cert", missing, "-tls-key", key}, []string{"-tls-cert", missing, "no such file"}},
		{"missing key", []string{"-tls-cert", chain, "-tls-key", missing}, []string{"-tls-key", missing, "no such file"}},
		{"certificate only", []string{"-tls-cert", chain}, []string{"-tls-cert needs -tls-key"}},
		{"key only", []string{"-tls-key", key}, []string{"-tls-key needs -tls-cert"}},
		{"mismatched pair", []string{"-tls-cert", chain, "-tls-key", otherKey}, []string{chain, otherKey, "does not match"}},
		{"malformed certificate", []string{"-tls-cert", garbage, "-tls-key", key}, []string{garbage}},
		{"swapped", []string{"-tls-cert", key, "-tls-key", chain}, []string{key, chain}},
		{"both kinds", []string{"-tls", "-tls-cert", chain, "-tls-key", key}, []string{"not both"}},
		{"CA out without TLS", []string{"-tls-ca-out", filepath.Join(dir, "ca-out.pem")}, []string{"-tls-ca-out needs -tls"}},
		{"CA out in a missing directory", []string{"-tls", "-tls-ca-out", filepath.Join(dir, "nodir", "ca.pem")}, []string{"-tls-ca-out", "nodir"}},
		{"CA out is a directory", []string{"-tls", "-tls-ca-out", otherDir}, []string{"-tls-ca-out", otherDir, "is a directory"}},
		{"plain public URL", []string{"-tls", "-tls-ca-out", filepath.Join(dir, "plain-ca.pem"), "-public-url", "http://localhost:8080"}, []string{"must be https"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			stdout, stderr := startFails(t, bin, append([]string{"-addr", "127.0.0.1:0"}, c.args...)...)
			for _, w := range c.want {
				assert.Contains(t, stderr, w)
			}
			assert.NotContains(t, stderr+stdout, keyBody, "no key material")
			assert.NotContains(t, stdout, "listening on", "nothing was served")
		})
	}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		assert.NotContains(t, e.Name(), "ca-out", "no CA file written")
		assert.NotContains(t, e.Name(), "plain-ca", "no CA file, not even a temporary one, left by a failed start")
	}
}
