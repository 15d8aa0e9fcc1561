package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"
)

// healthTimeout bounds a health check, below Docker's default HEALTHCHECK
// timeout of 30s and the image's 3s plus a margin for a slow start of the
// process itself.
const healthTimeout = 5 * time.Second

// runHealthcheck is `truewatch-mock healthcheck [flags]`: it reads the
// same flags and environment as the server and asks GET /_mock/health of
// the mock they describe, at -addr's port on 127.0.0.1 (or -addr's own
// host when it names one), over https with -tls or -tls-cert. It trusts
// only that mock's CA, with verification on: the file -tls-ca-out wrote,
// or -tls-cert's last certificate, checked against the first name the
// leaf is for. It returns nil when the mock answers 200 with status "ok".
// A container image runs it as its HEALTHCHECK (which sees the image's
// environment but not the arguments of its entry point); scratch has no
// curl.
func runHealthcheck(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	o, err := parseOptions(args, getenv, stderr)
	if err != nil {
		return err
	}
	url, client, err := o.healthClient()
	if err != nil {
		return err
	}
	defer client.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(ctx, healthTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("health check: %w", err)
	}
	defer resp.Body.Close()
	var body struct {
		Status string `json:"status"`
	}
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("health check: GET %s: HTTP %d", url, resp.StatusCode)
	}
	if err := json.Unmarshal(raw, &body); err != nil || body.Status != "ok" {
		return fmt.Errorf("health check: GET %s: not {\"status\":\"ok\"}", url)
	}
	return nil
}

// healthClient is the health check's URL and a client trusting only the
// mock's CA (none for plain HTTP).
func (o options) healthClient() (string, *http.Client, error) {
	host, port, err := net.SplitHostPort(o.addr)
	if err != nil {
		return "", nil, fmt.Errorf("health check: -addr %q: %w", o.addr, err)
	}
	if port == "0" {
		return "", nil, errors.New("health check: -addr has port 0, a port chosen at start that the check cannot know")
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	tr := &http.Transport{Proxy: nil, DisableKeepAlives: true, TLSHandshakeTimeout: healthTimeout}
	client := &http.Client{Transport: tr, Timeout: healthTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	scheme := "http"
	switch {
	case o.tls:
		if o.tlsCAOut == "" {
			return "", nil, errors.New("health check: with -tls it needs -tls-ca-out, the CA to trust")
		}
		pool, _, err := poolOf(o.tlsCAOut, false)
		if err != nil {
			return "", nil, fmt.Errorf("health check: -tls-ca-out: %w", err)
		}
		scheme, tr.TLSClientConfig = "https", &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	case o.tlsCert != "":
		pool, leaf, err := poolOf(o.tlsCert, true)
		if err != nil {
			return "", nil, fmt.Errorf("health check: -tls-cert: %w", err)
		}
		cfg := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		// The check dials the loopback address, which a given
		// certificate need not be for: it verifies the name the
		// certificate is for instead.
		switch {
		case len(leaf.DNSNames) > 0:
			cfg.ServerName = leaf.DNSNames[0]
		case len(leaf.IPAddresses) > 0:
			cfg.ServerName = leaf.IPAddresses[0].String()
		default:
			return "", nil, errors.New("health check: -tls-cert names no DNS name or IP address")
		}
		scheme, tr.TLSClientConfig = "https", cfg
	}
	return scheme + "://" + net.JoinHostPort(host, port) + "/_mock/health", client, nil
}

// poolOf reads a PEM file of certificates: a pool of its last (the CA of
// a chain, or a self-signed leaf) and, when leafFirst, its first.
func poolOf(path string, leafFirst bool) (*x509.CertPool, *x509.Certificate, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	var certs []*x509.Certificate
	for {
		var block *pem.Block
		block, raw = pem.Decode(raw)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, nil, err
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, nil, errors.New("no PEM certificate in the file")
	}
	pool := x509.NewCertPool()
	pool.AddCert(certs[len(certs)-1])
	if leafFirst {
		return pool, certs[0], nil
	}
	return pool, nil, nil
}
