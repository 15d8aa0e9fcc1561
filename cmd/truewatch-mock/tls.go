package main

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/truewatch-labs/marketplace-go/mockserver"
)

// tlsOption is the server's TLS option from -tls, -tls-cert and -tls-key
// (nil without TLS). The files are read here, before anything listens, so
// that a missing, unreadable or mismatched file stops the start with the
// file named.
func (o options) tlsOption() (mockserver.Option, error) {
	switch {
	case o.tlsCert == "" && o.tlsKey == "":
		if o.tls {
			return mockserver.WithTLS(), nil
		}
		if o.tlsCAOut != "" {
			return nil, errors.New("-tls-ca-out needs -tls or -tls-cert and -tls-key")
		}
		return nil, nil
	case o.tlsCert == "":
		return nil, errors.New("-tls-key needs -tls-cert")
	case o.tlsKey == "":
		return nil, errors.New("-tls-cert needs -tls-key")
	case o.tls:
		return nil, errors.New("give -tls (a certificate made at start) or -tls-cert and -tls-key, not both")
	}
	certPEM, err := os.ReadFile(o.tlsCert)
	if err != nil {
		return nil, fmt.Errorf("-tls-cert: %w", err)
	}
	keyPEM, err := os.ReadFile(o.tlsKey)
	if err != nil {
		return nil, fmt.Errorf("-tls-key: %w", err)
	}
	// New checks the pair too, but its error cannot name the files.
	if _, err := tls.X509KeyPair(certPEM, keyPEM); err != nil {
		return nil, fmt.Errorf("-tls-cert %s and -tls-key %s: %w", o.tlsCert, o.tlsKey, err)
	}
	return mockserver.WithTLSCertificate(certPEM, keyPEM), nil
}

// caOut is -tls-ca-out being written: a temporary file beside it, made
// before the server starts (so that an unwritable place stops the start
// before anything listens), filled and renamed over it once the CA exists.
type caOut struct {
	path string
	tmp  *os.File
}

func createCAOut(path string) (*caOut, error) {
	if path == "" {
		return nil, nil
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return nil, fmt.Errorf("-tls-ca-out %s: is a directory", path)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return nil, fmt.Errorf("-tls-ca-out: %w", err)
	}
	return &caOut{path: path, tmp: tmp}, nil
}

// write writes the CA, mode 0644 (it is public: clients read it), and
// puts it in place.
func (c *caOut) write(caPEM []byte) error {
	_, err := c.tmp.Write(caPEM)
	if err == nil {
		err = c.tmp.Chmod(0o644)
	}
	if cerr := c.tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(c.tmp.Name(), c.path)
	}
	if err != nil {
		_ = os.Remove(c.tmp.Name())
		return fmt.Errorf("-tls-ca-out: %w", err)
	}
	return nil
}

// discard removes the temporary file of a start that failed.
func (c *caOut) discard() {
	if c != nil {
		_ = c.tmp.Close()
		_ = os.Remove(c.tmp.Name())
	}
}

// printTLS says, under the banner, which CA clients must trust: the file
// -tls-ca-out wrote, or else the certificate itself.
func printTLS(w io.Writer, srv *mockserver.Server, caOutPath string) {
	ca := srv.CACertPEM()
	if ca == nil {
		return
	}
	if caOutPath != "" {
		fmt.Fprintf(w, "TLS CA:     %s   (PEM; clients trust it to reach %s, verification on)\n", caOutPath, srv.URL())
		return
	}
	fmt.Fprintf(w, "TLS CA (PEM; clients trust it to reach %s, verification on; -tls-ca-out FILE writes it to a file):\n%s", srv.URL(), ca)
}
