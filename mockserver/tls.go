package mockserver

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"strings"
	"time"
)

// TLSValidity is how long a certificate made by WithTLS is valid: from an
// hour before the server starts (for clocks a little behind) to
// TLSValidity after. The CA and its leaf are made at every start and
// never written by the library, so a short life costs nothing; a mock
// that runs longer must be restarted. Certificates are checked against the
// wall clock, never the mock's (AdvanceClock does not expire them).
const TLSValidity = 30 * 24 * time.Hour

// tlsConfig is what WithTLS or WithTLSCertificate chose.
type tlsConfig struct {
	generate bool
	certPEM  []byte
	keyPEM   []byte
}

// WithTLS serves HTTPS with a certificate made at start: a certificate
// authority of its own (an ECDSA P-256 key from crypto/rand, valid for
// TLSValidity) and a leaf it signs for 127.0.0.1, ::1, localhost and the
// host of WithPublicURL. URL is then https, CACertPEM returns the CA for
// clients to trust, and HTTPClient and the ready clients trust it (and
// only it, besides the system's roots). The server accepts TLS 1.2 and
// newer. The CA's private key is kept only in memory, only to sign the
// leaf.
func WithTLS() Option {
	return func(cfg *config) error {
		cfg.tls = tlsConfig{generate: true}
		return nil
	}
}

// WithTLSCertificate serves HTTPS with a given certificate chain and its
// private key, both PEM (the chain leaf first, as tls.X509KeyPair reads
// it). A pair that does not parse or whose key does not match is an error
// of New. CACertPEM returns the last certificate of the chain (the leaf
// itself when it is self-signed), which HTTPClient trusts besides the
// system's roots. WithPublicURL should then name a host the certificate is
// for: HTTPClient checks the certificate against the URL's host.
func WithTLSCertificate(certPEM, keyPEM []byte) Option {
	return func(cfg *config) error {
		if _, err := tls.X509KeyPair(certPEM, keyPEM); err != nil {
			return fmt.Errorf("mockserver: TLS certificate: %w", err)
		}
		cfg.tls = tlsConfig{certPEM: bytes.Clone(certPEM), keyPEM: bytes.Clone(keyPEM)}
		return nil
	}
}

// serverTLS is the server's certificate and the CA clients trust.
type serverTLS struct {
	cert  tls.Certificate
	caPEM []byte
	pool  *x509.CertPool // the system's roots (when readable) and the CA
}

// buildTLS makes or loads the server's certificate; nil without TLS.
func buildTLS(cfg tlsConfig, publicURL string, now time.Time) (*serverTLS, error) {
	var st serverTLS
	switch {
	case cfg.generate:
		var hosts []string
		if publicURL != "" {
			hosts = append(hosts, hostOnly(hostOf(publicURL)))
		}
		cert, ca, err := generateCertificate(hosts, now)
		if err != nil {
			return nil, fmt.Errorf("mockserver: TLS certificate: %w", err)
		}
		st.cert, st.caPEM = cert, ca
	case cfg.certPEM != nil:
		cert, err := tls.X509KeyPair(cfg.certPEM, cfg.keyPEM)
		if err != nil {
			return nil, fmt.Errorf("mockserver: TLS certificate: %w", err)
		}
		st.cert = cert
		st.caPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[len(cert.Certificate)-1]})
	default:
		return nil, nil
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(st.caPEM) {
		return nil, errors.New("mockserver: TLS certificate: the CA does not parse")
	}
	st.pool = pool
	return &st, nil
}

// hostOnly strips the port and the brackets of an IPv6 literal.
func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return strings.TrimSuffix(strings.TrimPrefix(hostport, "["), "]")
}

// generateCertificate makes a CA and a leaf it signs for the loopback
// names and hosts; it returns the leaf (with its key) and the CA in PEM.
func generateCertificate(hosts []string, now time.Time) (tls.Certificate, []byte, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	notBefore, notAfter := now.Add(-time.Hour), now.Add(TLSValidity)
	caSerial, err := randomSerial()
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	leafSerial, err := randomSerial()
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	leaf := &x509.Certificate{
		SerialNumber: leafSerial, Subject: pkix.Name{CommonName: "truewatch-mock"},
		NotBefore: notBefore, NotAfter: notAfter, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:    []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			if !ip.IsUnspecified() && !ip.IsLoopback() {
				leaf.IPAddresses = append(leaf.IPAddresses, ip)
			}
		} else if h != "" && h != "localhost" {
			leaf.DNSNames = append(leaf.DNSNames, h)
		}
	}
	ca := &x509.Certificate{
		SerialNumber: caSerial, Subject: pkix.Name{CommonName: "truewatch-mock CA", Organization: []string{"truewatch-mock"}},
		NotBefore: notBefore, NotAfter: notAfter, IsCA: true, BasicConstraintsValid: true, MaxPathLenZero: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		// The CA vouches for the mock's names alone, so that a trust store
		// given it (a container's, a CI runner's) trusts nothing else it
		// could sign.
		PermittedDNSDomainsCritical: true, PermittedDNSDomains: leaf.DNSNames,
	}
	for _, ip := range leaf.IPAddresses {
		bits := 8 * net.IPv6len
		if ip.To4() != nil {
			ip, bits = ip.To4(), 8*net.IPv4len
		}
		ca.PermittedIPRanges = append(ca.PermittedIPRanges, &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)})
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &leafKey.PublicKey, caKey)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	cert := tls.Certificate{Certificate: [][]byte{leafDER}, PrivateKey: leafKey}
	return cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), nil
}

func randomSerial() (*big.Int, error) {
	return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
}

// serverConfig is the listener's TLS configuration: the certificate, TLS
// 1.2 or newer, and HTTP/1.1 only, so that connections, deadlines and
// dropped connections (faults) behave as over plain HTTP.
func (t *serverTLS) serverConfig() *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{t.cert}, MinVersion: tls.VersionTLS12,
		NextProtos: []string{"http/1.1"}}
}

// clientConfig trusts the system's roots and the server's CA, TLS 1.2 or
// newer; it never skips verification.
func (t *serverTLS) clientConfig() *tls.Config {
	return &tls.Config{RootCAs: t.pool, MinVersion: tls.VersionTLS12}
}

// CACertPEM is the PEM certificate clients must trust to reach a server
// built WithTLS (its own CA) or WithTLSCertificate (the last certificate
// of the given chain); nil for a server without TLS. Give it to other
// clients' trust stores, e.g. the Huawei SDK's through
// config.HttpConfig.WithHttpRoundTripper and a transport whose
// TLSClientConfig.RootCAs holds it (HTTPClient's already does).
func (s *Server) CACertPEM() []byte {
	if s.tls == nil {
		return nil
	}
	return bytes.Clone(s.tls.caPEM)
}

// CertPool is a pool of the system's roots and CACertPEM, for a
// tls.Config's RootCAs; nil for a server without TLS.
func (s *Server) CertPool() *x509.CertPool {
	if s.tls == nil {
		return nil
	}
	return s.tls.pool.Clone()
}

// scheme is the listener's URL scheme.
func (s *Server) scheme() string {
	if s.tls != nil {
		return "https"
	}
	return "http"
}

// dialPublicToListener is a DialContext that sends connections for the
// public URL's host to the listener, so that the request (its URL, Host
// and TLS server name) stays the public URL's and the certificate is
// checked against the name clients use.
func dialPublicToListener(public, listen string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	d := net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		if strings.EqualFold(addr, public) {
			addr = listen
		}
		return d.DialContext(ctx, network, addr)
	}
}

// withDefaultPort adds the scheme's port to a host without one.
func withDefaultPort(host, scheme string) string {
	if _, _, err := net.SplitHostPort(host); err == nil {
		return host
	}
	if scheme == "https" {
		return net.JoinHostPort(hostOnly(host), "443")
	}
	return net.JoinHostPort(hostOnly(host), "80")
}
