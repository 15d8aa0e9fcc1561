package truewatchmock

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/testcontainers/testcontainers-go/wait"
)

// healthStrategy waits until GET /_mock/health answers 200
// {"status":"ok"} on Port from the host. With TLS it first copies the CA
// out of the container (the mock writes it before it listens) and trusts
// only that CA, verification on; the CA read is kept for Run.
type healthStrategy struct {
	tls      bool
	caPath   string
	timeout  time.Duration
	interval time.Duration

	mu sync.Mutex
	ca []byte
}

var (
	_ wait.Strategy        = (*healthStrategy)(nil)
	_ wait.StrategyTimeout = (*healthStrategy)(nil)
)

// Timeout is the longest wait (wait.StrategyTimeout).
func (h *healthStrategy) Timeout() *time.Duration { return &h.timeout }

func (h *healthStrategy) caPEMIfRead() []byte {
	if h == nil {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.ca
}

// WaitUntilReady polls until the mock is healthy, the container stopped
// (an error with its state: a bad fixture, say), or the timeout.
func (h *healthStrategy) WaitUntilReady(ctx context.Context, target wait.StrategyTarget) error {
	ctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	var last error
	for {
		if last = h.check(ctx, target); last == nil {
			return nil
		}
		if st, err := target.State(ctx); err == nil && st != nil && !st.Running && st.Status != "created" {
			return fmt.Errorf("the mock's container is %s (exit code %d): %w", st.Status, st.ExitCode, last)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the mock was not healthy within %s: %w", h.timeout, last)
		case <-time.After(h.interval):
		}
	}
}

// check is one try.
func (h *healthStrategy) check(ctx context.Context, target wait.StrategyTarget) error {
	host, err := target.Host(ctx)
	if err != nil {
		return err
	}
	port, err := target.MappedPort(ctx, Port)
	if err != nil {
		return err
	}
	tr := &http.Transport{Proxy: nil, DisableKeepAlives: true}
	scheme := "http"
	if h.tls {
		ca := h.caPEMIfRead()
		if ca == nil {
			if ca, err = readFile(ctx, target, h.caPath); err != nil {
				return fmt.Errorf("the CA at %s: %w", h.caPath, err)
			}
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(ca) {
			return fmt.Errorf("the CA at %s does not parse (yet)", h.caPath)
		}
		h.mu.Lock()
		h.ca = ca
		h.mu.Unlock()
		scheme, tr.TLSClientConfig = "https", &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	client := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, scheme+"://"+net.JoinHostPort(host, port.Port())+"/_mock/health", nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var body struct {
		Status string `json:"status"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(raw, &body) != nil || body.Status != "ok" {
		return errors.New("GET /_mock/health: HTTP " + resp.Status)
	}
	return nil
}
