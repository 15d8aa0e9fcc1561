package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/api"
	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/internal/proof"
	"github.com/truewatch-labs/marketplace-go/internal/routes"
	"github.com/truewatch-labs/marketplace-go/mockserver"
	"github.com/truewatch-labs/marketplace-go/retry"
	"github.com/truewatch-labs/marketplace-go/secret"
	"github.com/truewatch-labs/marketplace-go/site"
	"github.com/truewatch-labs/marketplace-go/twapi"
	"github.com/truewatch-labs/marketplace-go/workspace"
)

// The contract test: every operation of the typed clients runs against the
// in-process mock through a transport that validates every request and
// every response, error responses included, against api/openapi.yaml.

// unexercisedCodes are error codes of the document that this test does not
// provoke, with the reason.
var unexercisedCodes = map[string]string{
	"ft.IdempotencyKeyInFlight":             "needs two requests racing on one key; the mock's idempotency tests own it",
	"ft.InternalError":                      "answers only a panic in the mock",
	"ft.TriggerApiWorkspaceCurrentLimiting": "TrueWatch's per-workspace limit; the mock throttles per client only",
}

// harness is one mock server, its contract and the clients wired through
// the validating recorder.
type harness struct {
	t     *testing.T
	ctx   context.Context
	srv   *mockserver.Server
	clock *mockserver.ManualClock
	c     *contract
	rec   *recorder
	bc    *billing.Client // proves ownership of the demo account
	anon  *billing.Client // proves nothing
	wc    *workspace.Client
}

func newHarness(t *testing.T, policy retry.Policy, opts ...mockserver.Option) *harness {
	t.Helper()
	clock := mockserver.NewManualClock(time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC))
	// Proofs are signed at this clock, signature checks included.
	srv := mockserver.Start(t, append([]mockserver.Option{mockserver.WithClock(clock), mockserver.WithSignatureClock(clock)}, opts...)...)
	c := loadContract(t, srv.URL())
	rec := newRecorder(c, srv.HTTPClient().Transport)
	hc := &http.Client{Transport: rec}
	bc, err := billing.NewClient(billing.WithBaseURL(srv.BillingURL()), billing.WithHTTPClient(hc), billing.WithRetryPolicy(policy),
		billing.WithOwnershipProver(srv.OwnershipProver(mockserver.DemoHuaweiAccountID)))
	require.NoError(t, err)
	anon, err := billing.NewClient(billing.WithBaseURL(srv.BillingURL()), billing.WithHTTPClient(hc), billing.WithRetryPolicy(policy))
	require.NoError(t, err)
	wc, err := workspace.NewClient(workspace.WithEndpoints(srv.SiteEndpoints()), workspace.WithHTTPClient(hc), workspace.WithRetryPolicy(policy))
	require.NoError(t, err)
	return &harness{t: t, ctx: context.Background(), srv: srv, clock: clock, c: c, rec: rec, bc: bc, anon: anon, wc: wc}
}

// proof signs a proof of the demo account at the mock's time, for
// audience, with secretKey, to endpoint (the mock when empty).
func (h *harness) proof(audience, secretKey string, skew time.Duration, endpoint string) string {
	h.t.Helper()
	if endpoint == "" {
		endpoint = h.srv.HuaweiEndpoint()
	}
	p, err := proof.Sign(endpoint, proof.PathCallerIdentity, audience, mockserver.DemoAccessKey, secretKey, "", h.clock.Now().Add(skew))
	require.NoError(h.t, err)
	return p
}

// rawProof is raw with an ownership proof.
func (h *harness) rawProof(method, url, ownership string, body any) (int, string) {
	h.t.Helper()
	resp := h.send(h.rec, method, url, "", body, func(r *http.Request) { r.Header.Set(proof.Header, ownership) })
	return resp.status, resp.errorCode
}

// code sends a verification code through the client and reads it from the
// mock's outbox. The clock first moves past the resend interval.
func (h *harness) code(email string, purpose billing.Purpose) secret.String {
	h.t.Helper()
	h.clock.Advance(61 * time.Second)
	res, err := h.bc.SendVerificationCode(h.ctx, &billing.SendCodeRequest{Email: email, Purpose: purpose})
	require.NoError(h.t, err)
	require.Equal(h.t, purpose, res.Purpose)
	code, ok := h.srv.LatestCode(email, purpose)
	require.True(h.t, ok)
	return secret.String(code)
}

// wrong returns a well-formed code that is not c.
func wrong(c secret.String) secret.String {
	if c.Reveal() == "000000" {
		return "111111"
	}
	return "000000"
}

// raw sends a hand-built request through the recorder (so it is validated
// like every client request) and returns the status and error code.
func (h *harness) raw(method, url string, token string, body any) (int, string) {
	h.t.Helper()
	resp := h.send(h.rec, method, url, token, body)
	return resp.status, resp.errorCode
}

type rawResponse struct {
	status    int
	errorCode string
	header    http.Header
	body      []byte
}

func (h *harness) send(rt http.RoundTripper, method, url, token string, body any, mods ...func(*http.Request)) rawResponse {
	h.t.Helper()
	req := h.build(method, url, token, body, mods...)
	resp, err := rt.RoundTrip(req)
	require.NoError(h.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(h.t, err)
	var env struct {
		ErrorCode string `json:"errorCode"`
	}
	_ = json.Unmarshal(b, &env)
	return rawResponse{status: resp.StatusCode, errorCode: env.ErrorCode, header: resp.Header, body: b}
}

func (h *harness) build(method, url, token string, body any, mods ...func(*http.Request)) *http.Request {
	h.t.Helper()
	var r io.Reader
	if body != nil {
		b, ok := body.([]byte)
		if !ok {
			var err error
			b, err = json.Marshal(body)
			require.NoError(h.t, err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(h.ctx, method, url, r)
	require.NoError(h.t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for _, m := range mods {
		m(req)
	}
	return req
}

// rejected sends a request the document does not allow: the document must
// reject it, and the mock must refuse it with an error response that the
// document describes for the operation (or, for a request that matches no
// operation, with a well-formed error envelope).
func (h *harness) rejected(method, url, token string, body any, mods ...func(*http.Request)) (int, string) {
	h.t.Helper()
	req := h.build(method, url, token, body, mods...)
	_, reqErr := h.c.validateRequest(req)
	require.Error(h.t, reqErr, "the document must reject %s %s", method, url)
	route, params, routeErr := h.c.router.FindRoute(h.build(method, url, token, body))
	resp := h.send(h.srv.HTTPClient().Transport, method, url, token, body, mods...)
	assert.GreaterOrEqual(h.t, resp.status, 400)
	assert.Less(h.t, resp.status, 500, "a bad request is the client's fault")
	ex := exchange{Method: method, Path: req.URL.Path, Status: resp.status, ErrorCode: resp.errorCode}
	if routeErr == nil && route.Operation != nil && !strings.Contains(reqErr.Error(), "unknown site") {
		in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: h.c.options()}
		ex.Operation = route.Operation.OperationID
		assert.NoError(h.t, h.c.validateResponse(in, resp.status, resp.header, resp.body))
	} else {
		var v any
		require.NoError(h.t, json.Unmarshal(resp.body, &v))
		assert.NoError(h.t, h.c.doc.Components.Schemas["ErrorEnvelope"].Value.VisitJSON(v), "error envelope of %s %s", method, url)
		assert.NotEmpty(h.t, resp.header.Get("X-Request-Id"))
	}
	h.rec.Add(ex)
	return resp.status, resp.errorCode
}

// assertAPIError checks a client error's class, status and error code.
func assertAPIError(t *testing.T, err error, sentinel error, status int, code string) {
	t.Helper()
	require.Error(t, err)
	assert.ErrorIs(t, err, sentinel)
	var apiErr *apierror.Error
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, status, apiErr.HTTPStatus)
	assert.Equal(t, code, apiErr.ErrorCode)
	assert.NotEmpty(t, apiErr.TraceID)
	assert.NotEmpty(t, apiErr.RequestID)
}

func TestContract(t *testing.T) {
	h := newHarness(t, retry.Disabled())
	ctx := h.ctx
	bcURL, za1 := h.srv.BillingURL(), h.srv.URL()+routes.MockSitesPrefix+"za1/console-api"
	demo, inst := mockserver.DemoHuaweiAccountID, mockserver.DemoInstanceID

	// getSubscription: found and unbound; not found.
	sub, err := h.bc.GetSubscription(ctx, demo, inst)
	require.NoError(t, err)
	assert.True(t, sub.Active)
	assert.False(t, sub.Bound)
	assert.Empty(t, sub.Workspaces)
	_, err = h.bc.GetSubscription(ctx, demo, "tw-inst-missing")
	assertAPIError(t, err, apierror.ErrNotFound, 404, "ft.SubscriptionNotFound")
	assert.True(t, sub.OwnershipProven)

	// Without a proof the lookup tells only the status.
	public, err := h.anon.GetSubscription(ctx, demo, inst)
	require.NoError(t, err)
	assert.False(t, public.OwnershipProven)
	assert.True(t, public.Active)
	_, err = h.anon.Register(ctx, &billing.RegisterRequest{})
	assert.ErrorIs(t, err, apierror.ErrValidation, "the client refuses to send a registration without a proof")

	// Refused proofs, each answered in its documented shape and changing
	// nothing: none, forged, for another Billing Center, expired, from the
	// future, for an endpoint the Billing Center does not trust, used
	// before, for another account, unverifiable.
	aud, sk := h.srv.Audience(), mockserver.DemoSecretKey
	subURL := bcURL + routes.GetSubscription + "?huaweiAccountId=" + demo + "&instanceId=" + inst
	for _, tc := range []struct {
		proof  string
		status int
		code   string
	}{
		{h.proof(aud, "forged-secret", 0, ""), 401, "ft.OwnershipProofInvalid"},
		{h.proof("https://another-billing.example.com", sk, 0, ""), 401, "ft.OwnershipProofAudience"},
		{h.proof(aud, sk, -20*time.Minute, ""), 401, "ft.OwnershipProofExpired"},
		{h.proof(aud, sk, 20*time.Minute, ""), 401, "ft.OwnershipProofExpired"},
		{h.proof(aud, sk, 0, "http://169.254.169.254"), 401, "ft.OwnershipProofEndpoint"},
	} {
		status, code := h.rawProof(http.MethodGet, subURL, tc.proof, nil)
		assert.Equal(t, []any{tc.status, tc.code}, []any{status, code})
	}
	used := h.proof(aud, sk, 0, "")
	status, code := h.rawProof(http.MethodGet, subURL, used, nil)
	assert.Equal(t, []any{200, ""}, []any{status, code})
	status, code = h.rawProof(http.MethodGet, subURL, used, nil)
	assert.Equal(t, []any{401, "ft.OwnershipProofReused"}, []any{status, code})
	const stranger = "5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e"
	require.NoError(t, h.srv.AddHuaweiAccount(mockserver.HuaweiAccount{ID: stranger,
		Keys: []mockserver.AccessKey{{AK: "STRANGERAKCONTRACT", SK: "stranger-sk"}}}))
	_, err = h.bc.GetSubscription(ctx, demo, inst, billing.WithOwnershipProof(h.srv.OwnershipProver(stranger)))
	assertAPIError(t, err, apierror.ErrProofAccountMismatch, 403, "ft.OwnershipProofAccountMismatch")
	_, err = h.srv.InjectFault(mockserver.Fault{Method: http.MethodGet, Path: proof.PathCallerIdentity})
	require.NoError(t, err)
	_, err = h.bc.GetSubscription(ctx, demo, inst)
	assertAPIError(t, err, apierror.ErrProofUnverifiable, 502, "ft.OwnershipProofUnverifiable")

	// The second form of proof, the activation link of a purchase made
	// through the marketplace: it proves its own instance, not another;
	// an unknown token is refused.
	bought, err := h.srv.PlaceOrder(ctx, mockserver.OrderRequest{HuaweiAccountID: demo})
	require.NoError(t, err)
	link, err := billing.ParseActivationLink(bought.FrontEndURL)
	require.NoError(t, err)
	linked, err := h.bc.GetSubscription(ctx, demo, bought.InstanceID, billing.WithOwnershipProof(link))
	require.NoError(t, err)
	assert.True(t, linked.OwnershipProven)
	_, err = h.bc.GetSubscription(ctx, demo, inst, billing.WithOwnershipProof(link))
	assertAPIError(t, err, apierror.ErrProofAccountMismatch, 403, "ft.OwnershipProofAccountMismatch")
	status, code = h.rawProof(http.MethodGet, subURL, proof.EncodeLink("atk_00000000000000000000000000000000"), nil)
	assert.Equal(t, []any{401, "ft.OwnershipProofInvalid"}, []any{status, code})

	// sendVerificationCode: sent; resend too soon.
	adaCode := h.code("ada@example.com", billing.PurposeRegister)
	_, err = h.bc.SendVerificationCode(ctx, &billing.SendCodeRequest{Email: "ada@example.com", Purpose: billing.PurposeRegister})
	assertAPIError(t, err, apierror.ErrResendTooSoon, 429, "ft.VerificationCodeResendTooSoon")

	// register: wrong code; a password the schema allows but the rules do
	// not (classes); registered; replayed with the same key; the same key
	// with another request.
	reg := &billing.RegisterRequest{
		Site: site.ZA1, Username: "ada_lovelace", Password: "Analytical-Engine-1843", Email: "ada@example.com",
		EmailCode: wrong(adaCode), Phone: "+27115550100", Company: billing.Company{Name: "Analytical Engines Ltd", Country: "ZA"},
		WorkspaceName: "Production", WorkspaceLanguage: twapi.LanguageEN, HuaweiAccountID: demo, InstanceID: inst,
		TermsAccepted: true,
	}
	_, err = h.bc.Register(ctx, reg)
	assertAPIError(t, err, apierror.ErrInvalidCode, 400, "ft.InvalidVerificationCode")
	weak := map[string]any{"site": "za1", "username": "ada_lovelace", "password": "onlylowercase", "email": "ada@example.com",
		"emailCode": adaCode.Reveal(), "company": map[string]any{"name": "Analytical Engines Ltd"}, "workspaceName": "Production",
		"workspaceLanguage": "en", "huaweiAccountId": demo, "instanceId": inst, "termsAccepted": true}
	status, code = h.rawProof(http.MethodPost, bcURL+routes.Register, h.proof(aud, sk, 0, ""), weak)
	assert.Equal(t, 400, status)
	assert.Equal(t, "ft.ValidationFailed", code)
	// The proof comes first: without one, the registration is not even
	// looked at.
	status, code = h.rejected(http.MethodPost, bcURL+routes.Register, "", weak)
	assert.Equal(t, []any{401, "ft.OwnershipProofRequired"}, []any{status, code})

	reg.EmailCode = adaCode
	var info twapi.CallInfo
	registered, err := h.bc.Register(ctx, reg, billing.WithIdempotencyKey("idem-register-ada"), billing.WithCallInfo(&info))
	require.NoError(t, err)
	assert.False(t, info.Replayed)
	assert.Equal(t, site.ZA1, registered.Workspace.Site)
	assert.Equal(t, twapi.SettlementHuaweiCloud, registered.Workspace.Settlement.Method)
	replayed, err := h.bc.Register(ctx, reg, billing.WithIdempotencyKey("idem-register-ada"), billing.WithCallInfo(&info))
	require.NoError(t, err)
	assert.True(t, info.Replayed)
	assert.Equal(t, registered.Workspace.ID, replayed.Workspace.ID)
	other := *reg
	other.WorkspaceName = "Another"
	_, err = h.bc.Register(ctx, &other, billing.WithIdempotencyKey("idem-register-ada"))
	assertAPIError(t, err, apierror.ErrIdempotencyKeyReused, 409, "ft.IdempotencyKeyReused")

	// register: the subscription is already bound; the username is taken
	// (on a second purchase); an inactive subscription; an expired code.
	bobCode := h.code("bob@example.com", billing.PurposeRegister)
	bob := *reg
	bob.Username, bob.Email, bob.EmailCode, bob.Phone = "bob_builder", "bob@example.com", bobCode, ""
	_, err = h.bc.Register(ctx, &bob)
	assertAPIError(t, err, apierror.ErrAlreadyBound, 409, "ft.AlreadyBound")
	_, err = h.srv.AddPurchase(mockserver.Purchase{AccountID: demo, InstanceID: "tw-inst-second"})
	require.NoError(t, err)
	bob.InstanceID, bob.Username = "tw-inst-second", "ada_lovelace"
	_, err = h.bc.Register(ctx, &bob)
	assertAPIError(t, err, apierror.ErrNameTaken, 409, "ft.UsernameTaken")
	bob.Username, bob.Email = "bob_builder", "ada@example.com"
	h.code("ada@example.com", billing.PurposeRegister)
	bob.EmailCode, _ = latest(h, "ada@example.com", billing.PurposeRegister)
	_, err = h.bc.Register(ctx, &bob)
	assertAPIError(t, err, apierror.ErrNameTaken, 409, "ft.EmailTaken")
	_, err = h.srv.AddPurchase(mockserver.Purchase{AccountID: demo, InstanceID: "tw-inst-frozen", Status: mockserver.PurchaseFrozen})
	require.NoError(t, err)
	bob.Email, bob.EmailCode, bob.InstanceID = "bob@example.com", bobCode, "tw-inst-frozen"
	_, err = h.bc.Register(ctx, &bob)
	assertAPIError(t, err, apierror.ErrConflict, 409, "ft.SubscriptionInactive")
	h.clock.Advance(11 * time.Minute)
	bob.InstanceID = "tw-inst-second"
	_, err = h.bc.Register(ctx, &bob)
	assertAPIError(t, err, apierror.ErrCodeExpired, 400, "ft.VerificationCodeExpired")

	// getSubscription once activated: bound, settling the workspace, with
	// where to log in.
	sub, err = h.bc.GetSubscription(ctx, demo, inst)
	require.NoError(t, err)
	assert.True(t, sub.Activated())
	assert.Equal(t, "ada_lovelace", sub.BillingUsername)
	assert.NotEmpty(t, sub.LoginURL)

	// bindBillingAccount: bound (again, fresh token); unknown account; five
	// wrong attempts invalidate the code.
	bindCode := h.code("ada@example.com", billing.PurposeBindBillingAccount)
	bound, err := h.bc.BindBillingAccount(ctx, &billing.BindAccountRequest{Username: "ada_lovelace", Email: "ada@example.com",
		EmailCode: bindCode, HuaweiAccountID: demo, InstanceID: inst})
	require.NoError(t, err)
	assert.Equal(t, registered.BillingAccount.ID, bound.BillingAccount.ID)
	token := bound.Token
	nobodyCode := h.code("bob@example.com", billing.PurposeBindBillingAccount)
	_, err = h.bc.BindBillingAccount(ctx, &billing.BindAccountRequest{Username: "nobody", Email: "bob@example.com",
		EmailCode: nobodyCode, HuaweiAccountID: demo, InstanceID: inst})
	assertAPIError(t, err, apierror.ErrNotFound, 404, "ft.BillingAccountNotFound")
	bindCode = h.code("ada@example.com", billing.PurposeBindBillingAccount)
	attempt := &billing.BindAccountRequest{Username: "ada_lovelace", Email: "ada@example.com", EmailCode: wrong(bindCode),
		HuaweiAccountID: demo, InstanceID: inst}
	for range 5 {
		_, err = h.bc.BindBillingAccount(ctx, attempt)
		assertAPIError(t, err, apierror.ErrInvalidCode, 400, "ft.InvalidVerificationCode")
	}
	attempt.EmailCode = bindCode
	_, err = h.bc.BindBillingAccount(ctx, attempt)
	assertAPIError(t, err, apierror.ErrInvalidCode, 400, "ft.InvalidVerificationCode")

	// getBinding, getWorkspace, listWorkspaces on the registered state.
	binding, err := h.bc.GetBinding(ctx, token)
	require.NoError(t, err)
	require.Len(t, binding.Workspaces, 1)
	got, err := h.wc.GetWorkspace(ctx, token, site.ZA1, registered.Workspace.ID)
	require.NoError(t, err)
	assert.Equal(t, "Production", got.Name)
	_, err = h.wc.GetWorkspace(ctx, token, site.ZA1, "wksp_00000000000000000000000000000000")
	assertAPIError(t, err, apierror.ErrNotFound, 404, "ft.WorkspaceNotFound")
	_, err = h.bc.GetBinding(ctx, "bctk_00000000000000000000000000000000")
	assertAPIError(t, err, apierror.ErrUnauthorized, 401, "ft.Unauthorized")

	// bindWorkspace: already bound (no change); settlement locked by another
	// active subscription; settlement changed this month; bindable; unknown.
	again, err := h.bc.BindWorkspace(ctx, token, &billing.BindWorkspaceRequest{WorkspaceID: registered.Workspace.ID})
	require.NoError(t, err)
	assert.False(t, again.Changed)
	seed := func(name string, st twapi.Settlement) string {
		w, err := h.srv.SeedWorkspace(mockserver.WorkspaceSeed{OwnerAccountID: registered.Account.ID, Name: name,
			BillingAccountID: registered.BillingAccount.ID, Settlement: st})
		require.NoError(t, err)
		return w.ID
	}
	locked := seed("Locked", twapi.Settlement{Method: twapi.SettlementHuaweiCloud, HuaweiAccountID: demo, InstanceID: "tw-inst-second"})
	changed := seed("Changed", twapi.Settlement{Method: twapi.SettlementBillingCenter, ChangedAt: twapi.Timestamp{Time: h.clock.Now()}})
	free := seed("Free", twapi.Settlement{})
	list, page, err := h.bc.ListBindableWorkspaces(ctx, token, &billing.ListOptions{PageSize: 2, Site: site.ZA1})
	require.NoError(t, err)
	assert.Len(t, list, 2)
	assert.Equal(t, 4, page.TotalCount)
	reasons := map[string]string{}
	for w, err := range h.bc.AllBindableWorkspaces(ctx, token, &billing.ListOptions{PageSize: 3}) {
		require.NoError(t, err)
		reasons[w.Name] = w.Reason
	}
	assert.Equal(t, map[string]string{"Production": "already bound", "Locked": "settled by another active subscription",
		"Changed": "settlement already changed this month", "Free": ""}, reasons)
	_, err = h.bc.BindWorkspace(ctx, token, &billing.BindWorkspaceRequest{WorkspaceID: locked})
	assertAPIError(t, err, apierror.ErrAlreadyBound, 409, "ft.SettlementLocked")
	_, err = h.bc.BindWorkspace(ctx, token, &billing.BindWorkspaceRequest{WorkspaceID: changed})
	assertAPIError(t, err, apierror.ErrConflict, 409, "ft.SettlementChangeLimit")
	moved, err := h.bc.BindWorkspace(ctx, token, &billing.BindWorkspaceRequest{WorkspaceID: free})
	require.NoError(t, err)
	assert.True(t, moved.Changed)
	_, err = h.bc.BindWorkspace(ctx, token, &billing.BindWorkspaceRequest{WorkspaceID: "wksp_00000000000000000000000000000000"})
	assertAPIError(t, err, apierror.ErrNotFound, 404, "ft.WorkspaceNotFound")

	// createWorkspace: created; name taken; no account with that email.
	create := &workspace.CreateWorkspaceRequest{Name: "Staging", Language: twapi.LanguageZH, Site: site.ZA1,
		Email: "ada@example.com", EmailCode: h.code("ada@example.com", billing.PurposeCreateWorkspace), TermsAccepted: true}
	created, err := h.wc.CreateWorkspace(ctx, token, create)
	require.NoError(t, err)
	assert.Equal(t, registered.Account.ID, created.Account.ID)
	create.EmailCode = h.code("ada@example.com", billing.PurposeCreateWorkspace)
	_, err = h.wc.CreateWorkspace(ctx, token, create)
	assertAPIError(t, err, apierror.ErrNameTaken, 409, "ft.WorkspaceNameTaken")
	create.Email, create.EmailCode = "carol@example.com", h.code("carol@example.com", billing.PurposeCreateWorkspace)
	_, err = h.wc.CreateWorkspace(ctx, token, create)
	assertAPIError(t, err, apierror.ErrNotFound, 404, "ft.AccountNotFound")

	// registerAndCreateWorkspace: created on another site; a body whose
	// site is not the host's (schema-valid, refused by the rules).
	rc := &workspace.RegisterAndCreateRequest{Name: "Grace", Language: twapi.LanguageEN, Site: site.US1,
		Username: "grace.hopper", Password: "Cobol-1959!", PasswordConfirm: "Cobol-1959!", Email: "grace@example.com",
		EmailCode: h.code("grace@example.com", billing.PurposeCreateWorkspace), TermsAccepted: true}
	graced, err := h.wc.RegisterAndCreate(ctx, token, rc)
	require.NoError(t, err)
	assert.Equal(t, site.US1, graced.Workspace.Site)
	body := map[string]any{"name": "Elsewhere", "language": "en", "site": "us1", "email": "ada@example.com",
		"emailCode": "123456", "termsAccepted": true}
	status, code = h.raw(http.MethodPost, za1+routes.CreateWorkspace, token.Reveal(), body)
	assert.Equal(t, 400, status)
	assert.Equal(t, "ft.ValidationFailed", code)
	status, code = h.rejected(http.MethodGet, bcURL+routes.GetBinding+"?verbose=1", token.Reveal(), nil)
	assert.Equal(t, []any{400, "ft.ValidationFailed"}, []any{status, code})
	status, code = h.rejected(http.MethodPost, bcURL+routes.SendCode, "", map[string]any{"email": "ada@example.com", "purpose": "register"},
		func(r *http.Request) { r.Header.Set("Content-Type", "text/plain") })
	assert.Equal(t, []any{415, "ft.UnsupportedMediaType"}, []any{status, code})

	// Requests the document does not allow, refused by the mock in the
	// documented shape.
	status, code = h.rejected(http.MethodPost, bcURL+routes.SendCode, "", map[string]any{"email": "ada@example.com", "purpose": "register", "lang": "en"})
	assert.Equal(t, []any{400, "ft.InvalidJSON"}, []any{status, code})
	status, code = h.rejected(http.MethodPost, bcURL+routes.Register, "", map[string]any{"site": "za1"},
		func(r *http.Request) { r.Header.Set(proof.Header, h.proof(aud, sk, 0, "")) })
	assert.Equal(t, []any{400, "ft.ValidationFailed"}, []any{status, code})
	status, code = h.rejected(http.MethodGet, bcURL+routes.ListWorkspaces, "", nil)
	assert.Equal(t, []any{401, "ft.Unauthorized"}, []any{status, code})
	status, code = h.rejected(http.MethodGet, bcURL+routes.ListWorkspaces+"?pageSize=101", token.Reveal(), nil)
	assert.Equal(t, []any{400, "ft.ValidationFailed"}, []any{status, code})
	big := []byte(`{"email":"` + strings.Repeat("a", 2<<20) + `@example.com","purpose":"register"}`)
	status, code = h.rejected(http.MethodPost, bcURL+routes.SendCode, "", big)
	assert.Equal(t, []any{413, "ft.BodyTooLarge"}, []any{status, code})
	status, code = h.rejected(http.MethodGet, bcURL+"/api/v1/nothing/here", "", nil)
	assert.Equal(t, []any{404, "ft.RouteNotFound"}, []any{status, code})
	status, code = h.rejected(http.MethodGet, bcURL+routes.Register, "", nil)
	assert.Equal(t, []any{405, "ft.MethodNotAllowed"}, []any{status, code})
	status, code = h.rejected(http.MethodGet, h.srv.URL()+routes.MockSitesPrefix+"cn1/console-api"+routes.GetWorkspace(created.Workspace.ID), token.Reveal(), nil)
	assert.Equal(t, []any{404, "ft.UnknownSite"}, []any{status, code})

	// getSubscription through the lifecycle: the marketplace expires the
	// second purchase, TrueWatch is told (updateInstanceStatus FREEZE), and
	// the lookup reports it expired and in its grace period.
	ch, err := h.srv.ExpirePurchase(ctx, "tw-inst-second")
	require.NoError(t, err)
	require.Equal(t, mockserver.DeliverySucceeded, ch.Deliveries[0].Outcome)
	sub, err = h.bc.GetSubscription(ctx, demo, "tw-inst-second")
	require.NoError(t, err)
	assert.Equal(t, billing.StatusExpired, sub.Status)
	assert.Equal(t, h.clock.Now().Add(mockserver.DefaultGracePeriod).Unix(), sub.GraceUntil.Unix())
	assert.Equal(t, h.clock.Now().Unix(), sub.ExpireTime.Unix())

	// The token expires (default TTL 1 hour).
	h.clock.Advance(2 * time.Hour)
	_, err = h.bc.GetBinding(ctx, token)
	assertAPIError(t, err, apierror.ErrUnauthorized, 401, "ft.TokenExpired")

	// A lost response: the mock registers, then the answer is replaced by
	// a 503; the client retries with the same Idempotency-Key and gets the
	// stored answer, replayed.
	lost := newHarness(t, retry.Policy{MaxRetries: 2, WaitMin: time.Millisecond, WaitMax: time.Millisecond,
		Sleep: func(context.Context, time.Duration) error { return nil }})
	_, err = lost.srv.InjectFault(mockserver.Fault{Method: http.MethodPost, Path: routes.MockBillingPrefix + routes.Register, AfterHandler: true})
	require.NoError(t, err)
	lostReg := *reg
	lostReg.EmailCode = lost.code("ada@example.com", billing.PurposeRegister)
	_, err = lost.bc.Register(ctx, &lostReg, billing.WithCallInfo(&info))
	require.NoError(t, err)
	assert.Equal(t, 2, info.Attempts)
	assert.True(t, info.Replayed)

	// Throttling, TrueWatch style (HTTP 401 with ft.TriggerApiAkCurrentLimiting).
	limited := newHarness(t, retry.Disabled(), mockserver.WithRateLimit(1))
	_, err = limited.bc.GetSubscription(ctx, demo, inst)
	require.NoError(t, err)
	_, err = limited.bc.GetSubscription(ctx, demo, inst)
	assertAPIError(t, err, apierror.ErrRateLimited, 401, "ft.TriggerApiAkCurrentLimiting")

	// Every request and response matched the document.
	for _, r := range []*recorder{h.rec, lost.rec, limited.rec} {
		if p := r.Problems(); len(p) > 0 {
			t.Errorf("%d contract violations:\n%s", len(p), strings.Join(p, "\n"))
		}
	}

	// Coverage of the contract: every operation succeeded at least once,
	// and every error code of the document was answered at least once.
	exs := slices.Concat(h.rec.Exchanges(), lost.rec.Exchanges(), limited.rec.Exchanges())
	succeeded := map[string]bool{}
	codes := map[string]bool{}
	replays := 0
	for _, e := range exs {
		if e.Replayed {
			replays++
		}
		if e.Status/100 == 2 {
			succeeded[e.Operation] = true
		}
		if e.ErrorCode != "" {
			codes[e.ErrorCode] = true
		}
	}
	assert.Equal(t, 2, replays, "Idempotent-Replayed answers: the repeated register and the retry after the lost response")
	for _, id := range operationIDs(h.c.doc) {
		assert.True(t, succeeded[id], "operation %s never succeeded\n%s", id, summary(exs))
	}
	for _, v := range h.c.doc.Components.Schemas["ErrorCode"].Value.Enum {
		code := v.(string)
		if _, skip := unexercisedCodes[code]; skip {
			assert.False(t, codes[code], "%s is exercised now: drop it from unexercisedCodes", code)
			continue
		}
		assert.True(t, codes[code], "error code %s never answered\n%s", code, summary(exs))
	}
}

func latest(h *harness, email string, p billing.Purpose) (secret.String, bool) {
	c, ok := h.srv.LatestCode(email, p)
	return secret.String(c), ok
}

func TestMockServesSpec(t *testing.T) {
	srv := mockserver.Start(t, mockserver.WithoutListener())
	resp, err := srv.HTTPClient().Get(srv.URL() + "/_mock/openapi.yaml")
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "application/yaml", resp.Header.Get("Content-Type"))
	assert.Equal(t, api.Spec(), b)
}
