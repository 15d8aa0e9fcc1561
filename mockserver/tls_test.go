package mockserver_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/mockserver"
)

// leafOf connects to srv's listener trusting only its CA and returns the
// certificate it presented and the negotiated version.
func leafOf(t *testing.T, srv *mockserver.Server, serverName string) (*x509.Certificate, uint16) {
	t.Helper()
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(srv.CACertPEM()))
	conn, err := tls.Dial("tcp", srv.Addr(), &tls.Config{RootCAs: pool, ServerName: serverName, MinVersion: tls.VersionTLS12})
	require.NoError(t, err)
	defer func() { _ = conn.Close() }()
	st := conn.ConnectionState()
	return st.PeerCertificates[0], st.Version
}

func TestTLSGeneratedCertificate(t *testing.T) {
	srv := mockserver.Start(t, mockserver.WithTLS())
	require.True(t, strings.HasPrefix(srv.URL(), "https://127.0.0.1:"), srv.URL())
	assert.True(t, strings.HasPrefix(srv.BillingURL(), "https://"))
	assert.True(t, strings.HasPrefix(srv.HuaweiEndpoint(), "https://"))

	block, rest := pem.Decode(srv.CACertPEM())
	require.NotNil(t, block)
	assert.Empty(t, rest)
	ca, err := x509.ParseCertificate(block.Bytes)
	require.NoError(t, err)
	assert.True(t, ca.IsCA)
	caKey, ok := ca.PublicKey.(*ecdsa.PublicKey)
	require.True(t, ok, "an ECDSA CA")
	assert.Equal(t, elliptic.P256(), caKey.Curve)
	assert.WithinDuration(t, time.Now().Add(mockserver.TLSValidity), ca.NotAfter, time.Minute)

	leaf, version := leafOf(t, srv, "127.0.0.1")
	assert.GreaterOrEqual(t, version, uint16(tls.VersionTLS12))
	assert.False(t, leaf.IsCA)
	assert.Contains(t, leaf.DNSNames, "localhost")
	var ips []string
	for _, ip := range leaf.IPAddresses {
		ips = append(ips, ip.String())
	}
	assert.Subset(t, ips, []string{"127.0.0.1", "::1"})
	assert.Equal(t, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, leaf.ExtKeyUsage)
	require.NoError(t, leaf.CheckSignatureFrom(ca))
	for _, name := range []string{"localhost", "127.0.0.1"} {
		_, _ = leafOf(t, srv, name) // verified for each name, or the dial fails
	}

	// Two servers, two CAs: neither trusts the other's.
	other := mockserver.Start(t, mockserver.WithTLS())
	assert.NotEqual(t, srv.CACertPEM(), other.CACertPEM())
	_, err = other.HTTPClient().Get(srv.URL() + "/_mock/health")
	requireUnknownAuthority(t, err)

	// The ready HTTP client trusts the CA; the CA returned is a copy.
	resp, err := srv.HTTPClient().Get(srv.URL() + "/_mock/health")
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	require.NotNil(t, resp.TLS)
	assert.GreaterOrEqual(t, resp.TLS.Version, uint16(tls.VersionTLS12))
	pemCopy := srv.CACertPEM()
	pemCopy[0] = 'X'
	assert.NotEqual(t, pemCopy[0], srv.CACertPEM()[0])
	assert.NotNil(t, srv.CertPool())

	// A client with only the system's roots is refused with a certificate error.
	_, err = (&http.Client{Transport: &http.Transport{}}).Get(srv.URL() + "/_mock/health")
	requireUnknownAuthority(t, err)
}

func requireUnknownAuthority(t *testing.T, err error) {
	t.Helper()
	require.Error(t, err)
	var ua x509.UnknownAuthorityError
	var ve *tls.CertificateVerificationError
	assert.True(t, errors.As(err, &ua) || errors.As(err, &ve), "a certificate error, got %v", err)
}

func TestTLSRefusesOldVersions(t *testing.T) {
	srv := mockserver.Start(t, mockserver.WithTLS())
	conn, err := tls.Dial("tcp", srv.Addr(), &tls.Config{RootCAs: srv.CertPool(), ServerName: "127.0.0.1",
		MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11})
	if err == nil {
		_ = conn.Close()
	}
	require.Error(t, err, "TLS 1.1 is refused")
}

func TestTLSReadyClients(t *testing.T) {
	srv := mockserver.Start(t, mockserver.WithTLS())
	ctx := context.Background()

	hc, err := srv.HuaweiClient()
	require.NoError(t, err)
	acct, err := hc.AccountID(ctx)
	require.NoError(t, err)
	assert.Equal(t, mockserver.DemoHuaweiAccountID, acct.ID)

	bc, err := srv.BillingClient()
	require.NoError(t, err)
	sub, err := bc.GetSubscription(ctx, mockserver.DemoHuaweiAccountID, mockserver.DemoInstanceID)
	require.NoError(t, err, "an ownership proof made over TLS, naming the https Huawei endpoint")
	assert.Equal(t, mockserver.DemoInstanceID, sub.InstanceID)

	// The marketplace calls the vendor's production interface over TLS too.
	order, err := srv.PlaceOrder(ctx, mockserver.OrderRequest{HuaweiAccountID: mockserver.DemoHuaweiAccountID, PeriodMonths: 1})
	require.NoError(t, err)
	assert.NotEmpty(t, order.InstanceID)
}

func TestTLSWithPublicURL(t *testing.T) {
	srv := mockserver.Start(t, mockserver.WithTLS(), mockserver.WithPublicURL("https://mock.example.test:9443"))
	assert.Equal(t, "https://mock.example.test:9443", srv.URL())
	leaf, _ := leafOf(t, srv, "mock.example.test")
	assert.Contains(t, leaf.DNSNames, "mock.example.test")

	// The name does not resolve: HTTPClient dials the listener and checks
	// the certificate against the public name.
	resp, err := srv.HTTPClient().Get(srv.URL() + "/_mock/health")
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	hc, err := srv.HuaweiClient()
	require.NoError(t, err)
	_, err = hc.AccountID(context.Background())
	require.NoError(t, err)

	// An IP address as public host is an IP SAN.
	ipSrv := mockserver.Start(t, mockserver.WithTLS(), mockserver.WithPublicURL("https://192.0.2.7"))
	leaf, _ = leafOf(t, ipSrv, "192.0.2.7")
	assert.Contains(t, leaf.IPAddresses, net.ParseIP("192.0.2.7").To4())
	resp, err = ipSrv.HTTPClient().Get("https://192.0.2.7/_mock/health")
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}

func TestTLSRefusesPlainPublicURL(t *testing.T) {
	_, err := mockserver.New(mockserver.WithTLS(), mockserver.WithPublicURL("http://localhost:8080"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "must be https")
}

// selfSigned makes a self-signed ECDSA certificate for the names.
func selfSigned(t *testing.T, dns []string, ips []net.IP) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "given"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		DNSNames: dns, IPAddresses: ips, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})
}

func TestTLSGivenCertificate(t *testing.T) {
	certPEM, keyPEM := selfSigned(t, []string{"mock.internal"}, []net.IP{net.ParseIP("127.0.0.1")})
	srv := mockserver.Start(t, mockserver.WithTLSCertificate(certPEM, keyPEM))
	assert.Equal(t, certPEM, srv.CACertPEM(), "a self-signed leaf is its own CA")
	resp, err := srv.HTTPClient().Get(srv.URL() + "/_mock/health")
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	byName := mockserver.Start(t, mockserver.WithTLSCertificate(certPEM, keyPEM), mockserver.WithPublicURL("https://mock.internal:8443"))
	resp, err = byName.HTTPClient().Get(byName.URL() + "/_mock/health")
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	// A name the certificate is not for is refused, not skipped.
	wrong := mockserver.Start(t, mockserver.WithTLSCertificate(certPEM, keyPEM), mockserver.WithPublicURL("https://elsewhere.internal"))
	_, err = wrong.HTTPClient().Get(wrong.URL() + "/_mock/health")
	require.Error(t, err)
	var he x509.HostnameError
	assert.True(t, errors.As(err, &he), "a hostname error, got %v", err)
}

func TestTLSBadCertificates(t *testing.T) {
	certPEM, keyPEM := selfSigned(t, []string{"a"}, nil)
	_, otherKey := selfSigned(t, []string{"b"}, nil)
	for name, pair := range map[string][2][]byte{
		"mismatched key": {certPEM, otherKey},
		"empty":          {nil, nil},
		"not PEM":        {[]byte("hello"), []byte("world")},
		"key as cert":    {keyPEM, keyPEM},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := mockserver.New(mockserver.WithTLSCertificate(pair[0], pair[1]))
			require.Error(t, err)
			assert.Contains(t, err.Error(), "TLS certificate")
			assert.NotContains(t, err.Error(), "PRIVATE KEY", "no key material in the error")
		})
	}
}

func TestTLSWithoutListener(t *testing.T) {
	srv := mockserver.Start(t, mockserver.WithTLS(), mockserver.WithoutListener())
	u, err := url.Parse(srv.URL())
	require.NoError(t, err)
	assert.Equal(t, "https", u.Scheme)
	resp, err := srv.HTTPClient().Get(srv.URL() + "/_mock/health")
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}

// The generated CA is constrained to the names its leaf carries, so that a
// trust store given it trusts no other name it could sign: its
// constraints are exactly the leaf's names, which still verify.
func TestTLSCAIsConstrainedToTheMocksNames(t *testing.T) {
	srv := mockserver.Start(t, mockserver.WithTLS(), mockserver.WithPublicURL("https://mock.example.test:9443"))
	block, _ := pem.Decode(srv.CACertPEM())
	require.NotNil(t, block)
	ca, err := x509.ParseCertificate(block.Bytes)
	require.NoError(t, err)
	assert.True(t, ca.PermittedDNSDomainsCritical)
	assert.ElementsMatch(t, []string{"localhost", "mock.example.test"}, ca.PermittedDNSDomains)
	var ranges []string
	for _, r := range ca.PermittedIPRanges {
		ranges = append(ranges, r.String())
	}
	assert.ElementsMatch(t, []string{"127.0.0.1/32", "::1/128"}, ranges)
	assert.Empty(t, ca.ExcludedDNSDomains)

	leafSrv := mockserver.Start(t, mockserver.WithTLS())
	c, err := tls.Dial("tcp", strings.TrimPrefix(leafSrv.URL(), "https://"), &tls.Config{RootCAs: leafSrv.CertPool(), MinVersion: tls.VersionTLS12})
	require.NoError(t, err, "the constrained CA's leaf verifies")
	leaf := c.ConnectionState().PeerCertificates[0]
	_ = c.Close()
	_, err = leaf.Verify(x509.VerifyOptions{Roots: leafSrv.CertPool(), DNSName: "localhost"})
	require.NoError(t, err, "localhost is within the constraints")
}
