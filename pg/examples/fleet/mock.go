package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/mockserver"
	"github.com/truewatch-labs/marketplace-go/secret"
	"github.com/truewatch-labs/marketplace-go/site"
	"github.com/truewatch-labs/marketplace-go/truewatch"
)

// mockClient talks to a mock server in another process over HTTP: its
// control plane (/_mock/) to seed tenants, read verification codes and read
// the state back, and its APIs through the SDK.
type mockClient struct {
	base  string
	token secret.String // the control plane's token, if the mock has one
	hc    *http.Client
}

// newMockClient returns a client of the mock at base keeping conns
// connections, whose API calls (not control-plane ones) take latency more,
// as calls to real endpoints over a network do.
func newMockClient(base string, token secret.String, conns int, latency time.Duration) *mockClient {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = conns
	return &mockClient{base: base, token: token,
		hc: &http.Client{Transport: &slowTransport{base: tr, latency: latency}, Timeout: 30 * time.Second}}
}

// slowTransport adds latency to every request outside the control plane.
type slowTransport struct {
	base    http.RoundTripper
	latency time.Duration
}

func (t *slowTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if t.latency > 0 && !strings.HasPrefix(r.URL.Path, "/_mock/") {
		timer := time.NewTimer(t.latency)
		select {
		case <-r.Context().Done():
			timer.Stop()
			if r.Body != nil {
				_ = r.Body.Close()
			}
			return nil, r.Context().Err()
		case <-timer.C:
		}
	}
	return t.base.RoundTrip(r)
}

func (m *mockClient) billingURL() string { return m.base + "/billing-center" }

func (m *mockClient) siteEndpoints() (site.Endpoints, error) { return site.UnderBase(m.base) }

// do sends a control-plane request and decodes the answer into out.
func (m *mockClient) do(ctx context.Context, method, path string, body, out any) error {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, m.base+path, r)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(mockserver.ControlHeader, "1")
	if !m.token.IsZero() {
		req.Header.Set("Authorization", "Bearer "+m.token.Reveal())
	}
	res, err := m.hc.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = res.Body.Close() }()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("mock %s %s: %s: %s", method, path, res.Status, bytes.TrimSpace(b))
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(b, out)
}

// seed adds tenant t: a Huawei account with its access key and one active
// TrueWatch purchase.
func (m *mockClient) seed(ctx context.Context, t tenant) error {
	acc := mockserver.HuaweiAccount{ID: t.accountID, Keys: []mockserver.AccessKey{{AK: t.ak, SK: t.sk.Reveal()}}}
	if err := m.do(ctx, http.MethodPost, "/_mock/huawei-accounts", acc, nil); err != nil {
		return err
	}
	return m.do(ctx, http.MethodPost, "/_mock/purchases", map[string]string{"accountId": t.accountID, "instanceId": t.instanceID}, nil)
}

// state reads the mock's whole state.
func (m *mockClient) state(ctx context.Context) (mockserver.Snapshot, error) {
	var s mockserver.Snapshot
	return s, m.do(ctx, http.MethodGet, "/_mock/state", nil, &s)
}

// codes reads verification codes from the mock's outbox: the mock's stand-in
// for a person typing the code from their email.
func (m *mockClient) codes() truewatch.CodeProvider {
	return func(ctx context.Context, req truewatch.CodeRequest) (secret.String, error) {
		var mail []mockserver.Email
		if err := m.do(ctx, http.MethodGet, "/_mock/outbox?email="+url.QueryEscape(req.Email), nil, &mail); err != nil {
			return "", err
		}
		for i := len(mail) - 1; i >= 0; i-- {
			if mail[i].Purpose == req.Purpose {
				return mail[i].Code, nil
			}
		}
		return "", fmt.Errorf("%w: nothing sent to %s for %s", truewatch.ErrNoCode, req.Email, req.Purpose)
	}
}

// check verifies exactly one of everything per tenant in the mock's state:
// one console account and one Billing Center account with its username,
// and its subscription bound to that account with exactly one workspace.
func check(st mockserver.Snapshot, tenants []tenant) []string {
	byUser := map[string]int{}
	for _, a := range st.BillingAccounts {
		byUser[a.Username]++
	}
	consoles := map[string]int{}
	for _, a := range st.Accounts {
		consoles[a.Username]++
	}
	subs := map[string]billing.Subscription{}
	for _, s := range st.Subscriptions {
		subs[s.InstanceID] = s
	}
	var problems []string
	for _, t := range tenants {
		sub, ok := subs[t.instanceID]
		switch {
		case byUser[t.username] != 1 || consoles[t.username] != 1:
			problems = append(problems, fmt.Sprintf("tenant %d: %d Billing Center and %d console accounts", t.n, byUser[t.username], consoles[t.username]))
		case !ok || !sub.Activated() || sub.BillingUsername != t.username:
			problems = append(problems, fmt.Sprintf("tenant %d: subscription not activated by %s: %+v", t.n, t.username, sub))
		case len(sub.Workspaces) != 1:
			problems = append(problems, fmt.Sprintf("tenant %d: %d workspaces settled", t.n, len(sub.Workspaces)))
		}
	}
	if len(st.BillingAccounts) != len(tenants) || len(st.Accounts) != len(tenants) || len(st.Workspaces) != len(tenants) {
		problems = append(problems, fmt.Sprintf("totals: %d Billing Center accounts, %d accounts, %d workspaces for %d tenants",
			len(st.BillingAccounts), len(st.Accounts), len(st.Workspaces), len(tenants)))
	}
	return problems
}
