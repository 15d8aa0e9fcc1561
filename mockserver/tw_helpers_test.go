package mockserver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/internal/httpcore"
	"github.com/truewatch-labs/marketplace-go/internal/proof"
	"github.com/truewatch-labs/marketplace-go/internal/routes"
	"github.com/truewatch-labs/marketplace-go/internal/testkit"
	"github.com/truewatch-labs/marketplace-go/secret"
	"github.com/truewatch-labs/marketplace-go/site"
	"github.com/truewatch-labs/marketplace-go/twapi"
)

// testStart is the mock time tests start at: mid-month, so that "this
// month" and "last month" are both easy to reach.
var testStart = time.Date(2026, time.March, 10, 12, 0, 0, 0, time.UTC)

const testPassword = "Sup3r-secret" // meets the policy

// harness drives one in-process server with a manual clock through raw
// HTTP, so that tests see exactly what goes over the wire.
type harness struct {
	t     *testing.T
	srv   *Server
	clock *ManualClock
	hc    *http.Client
}

func newHarness(t *testing.T, opts ...Option) *harness {
	t.Helper()
	// One clock for everything, signatures included: these tests sign
	// proofs and requests at a fixed time and move it to expire them.
	clock := NewManualClock(testStart)
	srv := Start(t, append([]Option{WithoutListener(), WithClock(clock), WithSignatureClock(clock)}, opts...)...)
	return &harness{t: t, srv: srv, clock: clock, hc: srv.HTTPClient()}
}

// wireResp is one answer: status, headers, and the envelope.
type wireResp struct {
	status int
	header http.Header
	raw    []byte
	env    httpcore.Envelope
}

// content decodes the envelope's content into v.
func (r *wireResp) content(t *testing.T, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal(r.env.Content, v), "content: %s", r.env.Content)
}

// problems returns the validation problems of a 400 answer.
func (r *wireResp) problems(t *testing.T) []string {
	t.Helper()
	var c struct {
		Problems []struct{ Field, Message string }
	}
	r.content(t, &c)
	var out []string
	for _, p := range c.Problems {
		out = append(out, p.Field)
	}
	return out
}

type reqOpt func(*http.Request)

func withToken(tok secret.String) reqOpt {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok.Reveal()) }
}

func withKey(key string) reqOpt {
	return func(r *http.Request) { r.Header.Set(IdempotencyKeyHeader, key) }
}

func withHeader(k, v string) reqOpt { return func(r *http.Request) { r.Header.Set(k, v) } }

// noProofMark marks a request the harness must not prove on its own.
const noProofMark = "X-Test-No-Proof"

// withoutProof sends a request keyed by a Huawei account with no ownership
// proof, as a stranger who knows only the IDs would.
func withoutProof() reqOpt { return withHeader(noProofMark, "1") }

// withProof sends the given proof (see harness.proofFor).
func withProof(p string) reqOpt {
	return func(r *http.Request) {
		r.Header.Set(noProofMark, "1")
		r.Header.Set(proof.Header, p)
	}
}

// proofFor signs a proof of the Huawei account huaweiID with its first key,
// at the mock's time, for the mock's audience, over STS.
func (h *harness) proofFor(huaweiID string) string {
	h.t.Helper()
	return h.proofAt(huaweiID, h.srv.Now())
}

func (h *harness) proofAt(huaweiID string, at time.Time) string {
	h.t.Helper()
	h.srv.mu.Lock()
	acc := h.srv.st.huawei.accounts[huaweiID]
	h.srv.mu.Unlock()
	require.NotNil(h.t, acc, "no Huawei account %s", huaweiID)
	require.NotEmpty(h.t, acc.Keys, "Huawei account %s has no key to prove it with", huaweiID)
	k := acc.Keys[0]
	p, err := proof.Sign(h.srv.URL(), proof.PathCallerIdentity, h.srv.Audience(), k.AK, k.SK, k.SecurityToken, at)
	require.NoError(h.t, err)
	return p
}

// prover is an OwnershipProver for the Huawei account huaweiID, signing at
// the mock's time.
func (h *harness) prover(huaweiID string) billing.OwnershipProver {
	return h.srv.OwnershipProver(huaweiID)
}

// provedAccount is the Huawei account the harness proves a request to an
// owner route with: the account the request names, when the mock has it.
// A registration or binding that names no known account (a malformed or
// made-up ID) is proved as the demo account, if there is one, so that its
// other problems are reached; a lookup is sent without a proof, as a
// stranger would. "" for routes not keyed by a Huawei account.
func (h *harness) provedAccount(req *http.Request, body []byte) string {
	var named string
	switch req.URL.Path {
	case bcPath(routes.GetSubscription):
		if id := req.URL.Query().Get("huaweiAccountId"); h.srv.hasHuaweiAccount(id) {
			return id
		}
		return ""
	case bcPath(routes.Register), bcPath(routes.BindAccount):
		var b struct {
			HuaweiAccountID string `json:"huaweiAccountId"`
		}
		_ = json.Unmarshal(body, &b)
		named = b.HuaweiAccountID
	default:
		return ""
	}
	switch {
	case h.srv.hasHuaweiAccount(named):
		return named
	case h.srv.hasHuaweiAccount(DemoHuaweiAccountID):
		return DemoHuaweiAccountID
	}
	return ""
}

// do sends a request to path (relative to the server root). body may be
// nil, a string or []byte (sent as is), or a value to marshal.
func (h *harness) do(method, path string, body any, opts ...reqOpt) *wireResp {
	h.t.Helper()
	r, err := h.send(method, path, body, opts...)
	require.NoError(h.t, err)
	return r
}

// doAsync is do for other goroutines: failures are reported, not fatal.
func (h *harness) doAsync(method, path string, body any, opts ...reqOpt) *wireResp {
	r, err := h.send(method, path, body, opts...)
	assert.NoError(h.t, err)
	if r == nil {
		return &wireResp{}
	}
	return r
}

func (h *harness) send(method, path string, body any, opts ...reqOpt) (*wireResp, error) {
	var rd io.Reader
	var raw []byte
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	case []byte:
		raw = b
	default:
		var err error
		if raw, err = testkit.WireJSON(b); err != nil {
			return nil, err
		}
	}
	if body != nil {
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, h.srv.URL()+path, rd)
	if err != nil {
		return nil, err
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for _, o := range opts {
		o(req)
	}
	// The harness acts as the owner of the Huawei account a request names,
	// as the SDK does with that account's keys, unless told otherwise.
	if req.Header.Get(noProofMark) == "" {
		if id := h.provedAccount(req, raw); id != "" {
			req.Header.Set(proof.Header, h.proofFor(id))
		}
	}
	req.Header.Del(noProofMark)
	resp, err := h.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err = io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	out := &wireResp{status: resp.StatusCode, header: resp.Header, raw: raw}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") && !strings.HasPrefix(path, routes.MockControlPrefix) {
		if err := json.Unmarshal(raw, &out.env); err != nil {
			return nil, fmt.Errorf("decode envelope %q: %w", raw, err)
		}
	}
	return out, nil
}

// decodeContent decodes a response's content without failing the test
// (for other goroutines).
func decodeContent(r *wireResp, v any) error { return json.Unmarshal(r.env.Content, v) }

func secretOf(v string) secret.String { return secret.String(v) }

func bcPath(p string) string { return routes.MockBillingPrefix + p }

func sitePath(c site.Code, p string) string {
	return routes.MockSitesPrefix + string(c) + "/" + string(site.ConsoleAPI) + p
}

// requireOK asserts a successful envelope and decodes its content into v
// (when not nil).
func (h *harness) requireOK(r *wireResp, v any) {
	h.t.Helper()
	require.Equal(h.t, http.StatusOK, r.status, "body: %s", r.raw)
	require.True(h.t, r.env.Success)
	require.Empty(h.t, r.env.ErrorCode)
	require.Equal(h.t, 200, r.env.Code)
	requireTraceID(h.t, r.env.TraceID)
	if v != nil {
		r.content(h.t, v)
	}
}

// requireErr asserts a failed envelope with this status and error code.
func requireErr(t *testing.T, r *wireResp, status int, code string) {
	t.Helper()
	require.Equal(t, status, r.status, "body: %s", r.raw)
	require.Equal(t, code, r.env.ErrorCode, "body: %s", r.raw)
	require.False(t, r.env.Success)
	require.Equal(t, status, r.env.Code)
	require.NotEmpty(t, r.env.Message)
	requireTraceID(t, r.env.TraceID)
	require.Nil(t, r.env.PageInfo)
	require.NotEmpty(t, r.header.Get("X-Request-Id"))
}

func requireTraceID(t *testing.T, id string) {
	t.Helper()
	require.Regexp(t, `^TRACE-[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$`, id)
}

// sendCode asks for a code and returns it from the outbox.
func (h *harness) sendCode(email string, p billing.Purpose) secret.String {
	h.t.Helper()
	h.requireOK(h.do(http.MethodPost, bcPath(routes.SendCode), billing.SendCodeRequest{Email: email, Purpose: p}), nil)
	code, ok := h.srv.LatestCode(email, p)
	require.True(h.t, ok)
	return secret.String(code)
}

// wrongCode is a well-formed code that is not code.
func wrongCode(code secret.String) secret.String {
	b := []byte(code.Reveal())
	b[0] = '0' + (b[0]-'0'+1)%10
	return secret.String(b)
}

func registerReq(username, email string, code secret.String) billing.RegisterRequest {
	return billing.RegisterRequest{Site: site.AP1, Username: username, Password: testPassword, Email: email,
		EmailCode: code, Company: billing.Company{Name: "Acme"}, WorkspaceName: "prod",
		WorkspaceLanguage: twapi.LanguageEN, HuaweiAccountID: DemoHuaweiAccountID, InstanceID: DemoInstanceID,
		TermsAccepted: true}
}

// register registers username on the demo subscription.
func (h *harness) register(username, email string) billing.RegisterResult {
	h.t.Helper()
	req := registerReq(username, email, h.sendCode(email, billing.PurposeRegister))
	var out billing.RegisterResult
	h.requireOK(h.do(http.MethodPost, bcPath(routes.Register), req), &out)
	return out
}

// bind binds a Billing Center account to a subscription and returns the
// token.
func (h *harness) bind(username, email, huaweiID, instanceID string) billing.BindAccountResult {
	h.t.Helper()
	code := h.sendCode(email, billing.PurposeBindBillingAccount)
	var out billing.BindAccountResult
	h.requireOK(h.do(http.MethodPost, bcPath(routes.BindAccount), billing.BindAccountRequest{Username: username,
		Email: email, EmailCode: code, HuaweiAccountID: huaweiID, InstanceID: instanceID}), &out)
	return out
}

// addSubscription adds a Huawei account (once, with a key to prove it
// with) and an in-use purchase.
func (h *harness) addSubscription(huaweiID, instanceID string) {
	h.t.Helper()
	if !h.srv.hasHuaweiAccount(huaweiID) {
		require.NoError(h.t, h.srv.AddHuaweiAccount(HuaweiAccount{ID: huaweiID,
			Keys: []AccessKey{{AK: "AK" + strings.ToUpper(huaweiID[:16]), SK: "sk-" + huaweiID}}}))
	}
	_, err := h.srv.AddPurchase(Purchase{AccountID: huaweiID, InstanceID: instanceID})
	require.NoError(h.t, err)
}

func (s *Server) hasHuaweiAccount(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.st.huawei.accounts[id]
	return ok
}

// existing is a Billing Center account with a console account on ap1 and
// workspaces, none bound to the demo subscription yet.
type existing struct {
	billing billing.BillingAccount
	account twapi.Account
}

func (h *harness) seedExisting(username, email string) existing {
	h.t.Helper()
	b, err := h.srv.SeedBillingAccount(BillingAccountSeed{Username: username, Email: email, CompanyName: "Acme"})
	require.NoError(h.t, err)
	a, err := h.srv.SeedAccount(AccountSeed{Site: site.AP1, Username: username, Email: email})
	require.NoError(h.t, err)
	return existing{billing: b, account: a}
}

func (h *harness) seedWorkspace(e existing, name string, st twapi.Settlement) twapi.Workspace {
	h.t.Helper()
	w, err := h.srv.SeedWorkspace(WorkspaceSeed{OwnerAccountID: e.account.ID, BillingAccountID: e.billing.ID,
		Name: name, Settlement: st})
	require.NoError(h.t, err)
	return w
}

// stateSnapshot is everything an operation could change, as comparable
// values (verification codes excepted: wrong attempts are counted).
type stateSnapshot struct {
	Accounts        []twapi.Account
	BillingAccounts []billing.BillingAccount
	Workspaces      []twapi.Workspace
	Subscriptions   []billing.Subscription
	Tokens          int
	Outbox          int
}

func (h *harness) snapshot() stateSnapshot {
	h.t.Helper()
	snap := stateSnapshot{Accounts: h.srv.Accounts(), BillingAccounts: h.srv.BillingAccounts(),
		Workspaces: h.srv.Workspaces(), Outbox: len(h.srv.Outbox())}
	for _, p := range h.srv.Purchases() {
		sub, ok := h.srv.Subscription(p.AccountID, p.InstanceID)
		require.True(h.t, ok)
		snap.Subscriptions = append(snap.Subscriptions, sub)
	}
	h.srv.mu.Lock()
	snap.Tokens = len(h.srv.st.tw.tokens)
	h.srv.mu.Unlock()
	return snap
}

// requireUnchanged runs f, which must fail, and asserts that nothing
// changed.
func (h *harness) requireUnchanged(f func()) {
	h.t.Helper()
	before := h.snapshot()
	f()
	require.Equal(h.t, before, h.snapshot(), "state changed")
}

// liveCode returns a copy of the live code record for email and purpose,
// or nil.
func (s *Server) liveCode(email string, p billing.Purpose) *codeRec {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.st.tw.codes[codeKey{email, p}]
	if rec == nil {
		return nil
	}
	cp := *rec
	return &cp
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := testkit.WireJSON(v)
	require.NoError(t, err)
	return b
}

// release closes a purchase through the marketplace, delivered to the
// mock's own vendor, which must accept it.
func release(t testing.TB, srv *Server, instanceID string) {
	t.Helper()
	ch, err := srv.ReleasePurchase(context.Background(), instanceID)
	require.NoError(t, err)
	require.Len(t, ch.Deliveries, 1)
	require.Equal(t, DeliverySucceeded, ch.Deliveries[0].Outcome, "%+v", ch.Deliveries[0])
}
