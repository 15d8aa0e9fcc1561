package truewatch

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/secret"
	"github.com/truewatch-labs/marketplace-go/twapi"
	"github.com/truewatch-labs/marketplace-go/workspace"
)

const (
	testAccountID  = "0123456789abcdef0123456789abcdef"
	testInstanceID = "inst-1"
	goodCode       = "975310"
)

// fakeServices is a small stateful stand-in for the Billing Center, the
// workspace API and Huawei, for unit tests of the activation's logic.
type fakeServices struct {
	mu          sync.Mutex
	now         func() time.Time
	sub         billing.Subscription
	calls       []string          // operation names, in order
	keys        map[string]string // operation -> idempotency key of the last call
	sendErrs    []error           // errors for the next sendCode calls
	callErrs    map[string][]error
	resendAfter time.Duration
	workspaces  []billing.BindableWorkspace
	tokenValid  map[secret.String]bool
	tokens      int
	codeCalls   map[string]int
}

func newFake() *fakeServices {
	return &fakeServices{
		now:        func() time.Time { return time.Date(2025, 5, 1, 12, 0, 0, 0, time.UTC) },
		sub:        billing.Subscription{HuaweiAccountID: testAccountID, InstanceID: testInstanceID, Status: billing.StatusInUse, Active: true},
		keys:       map[string]string{},
		callErrs:   map[string][]error{},
		tokenValid: map[secret.String]bool{},
		codeCalls:  map[string]int{},
	}
}

func (f *fakeServices) record(op, key string) error {
	f.calls = append(f.calls, op)
	if key != "" {
		f.keys[op] = key
	}
	if errs := f.callErrs[op]; len(errs) > 0 {
		f.callErrs[op] = errs[1:]
		if errs[0] != nil {
			return errs[0]
		}
	}
	return nil
}

func (f *fakeServices) failNext(op string, errs ...error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.callErrs[op] = append(f.callErrs[op], errs...)
}

func (f *fakeServices) callList() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func (f *fakeServices) checkCode(code secret.String) error {
	if code.Reveal() != goodCode {
		return &apierror.Error{Service: "billing", HTTPStatus: 400, ErrorCode: apierror.CodeInvalidCode}
	}
	return nil
}

func (f *fakeServices) sendCode(_ context.Context, req *billing.SendCodeRequest) (*billing.SendCodeResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, "SendVerificationCode:"+string(req.Purpose))
	if len(f.sendErrs) > 0 {
		err := f.sendErrs[0]
		f.sendErrs = f.sendErrs[1:]
		if err != nil {
			return nil, err
		}
	}
	now := f.now()
	return &billing.SendCodeResult{Email: req.Email, Purpose: req.Purpose,
		ExpiresAt:   twapi.Timestamp{Time: now.Add(10 * time.Minute)},
		ResendAfter: twapi.Timestamp{Time: now.Add(f.resendAfter)}}, nil
}

func (f *fakeServices) subscription(_ context.Context, accountID, instanceID string, p billing.OwnershipProver) (*billing.Subscription, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("GetSubscription", ""); err != nil {
		return nil, err
	}
	if p == nil {
		return &billing.Subscription{HuaweiAccountID: f.sub.HuaweiAccountID, InstanceID: f.sub.InstanceID,
			ProductID: f.sub.ProductID, Status: f.sub.Status, Active: f.sub.Active}, nil
	}
	s := f.sub
	s.OwnershipProven = true
	s.Workspaces = append([]billing.BoundWorkspace(nil), f.sub.Workspaces...)
	return &s, nil
}

// errNoProof is the Billing Center's answer to a call without a proof.
func errNoProof(op string) error {
	return &apierror.Error{Service: "billing", Operation: op, HTTPStatus: 401, ErrorCode: apierror.CodeProofRequired}
}

// OwnershipProof makes the fake a prover, as the Huawei client is.
func (f *fakeServices) OwnershipProof(context.Context, string) (string, error) {
	return "fake-proof", nil
}

func (f *fakeServices) register(_ context.Context, req *billing.RegisterRequest, key string, p billing.OwnershipProver) (*billing.RegisterResult, callMeta, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("Register", key); err != nil {
		return nil, callMeta{}, err
	}
	if p == nil {
		return nil, callMeta{}, errNoProof("Register")
	}
	if err := f.checkCode(req.EmailCode); err != nil {
		return nil, callMeta{}, err
	}
	ba := billing.BillingAccount{ID: "bcac_1", Username: req.Username, Email: req.Email}
	ws := twapi.Workspace{ID: "wksp_reg", Name: req.WorkspaceName, Site: req.Site}
	f.sub.Bound, f.sub.BillingAccountID, f.sub.BillingUsername = true, ba.ID, ba.Username
	f.sub.Workspaces = append(f.sub.Workspaces, billing.BoundWorkspace{ID: ws.ID, Name: ws.Name, Site: ws.Site})
	f.sub.LoginURL = "https://login/" + string(req.Site)
	return &billing.RegisterResult{BillingAccount: ba, Workspace: ws, LoginURL: f.sub.LoginURL}, callMeta{}, nil
}

func (f *fakeServices) bindAccount(_ context.Context, req *billing.BindAccountRequest, key string, p billing.OwnershipProver) (*billing.BindAccountResult, callMeta, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("BindBillingAccount", key); err != nil {
		return nil, callMeta{}, err
	}
	if p == nil {
		return nil, callMeta{}, errNoProof("BindBillingAccount")
	}
	if err := f.checkCode(req.EmailCode); err != nil {
		return nil, callMeta{}, err
	}
	f.tokens++
	tok := secret.String(fmt.Sprintf("tok-%d", f.tokens))
	f.tokenValid[tok] = true
	f.sub.Bound, f.sub.BillingAccountID, f.sub.BillingUsername = true, "bcac_1", req.Username
	return &billing.BindAccountResult{BillingAccount: billing.BillingAccount{ID: "bcac_1", Username: req.Username, Email: req.Email}, Token: tok}, callMeta{}, nil
}

func (f *fakeServices) authorize(token secret.String) error {
	if !f.tokenValid[token] {
		return &apierror.Error{Service: "billing", HTTPStatus: 401, ErrorCode: apierror.CodeTokenExpired}
	}
	return nil
}

func (f *fakeServices) workspacesList(_ context.Context, token secret.String) ([]billing.BindableWorkspace, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("ListBindableWorkspaces", ""); err != nil {
		return nil, err
	}
	if err := f.authorize(token); err != nil {
		return nil, err
	}
	return append([]billing.BindableWorkspace(nil), f.workspaces...), nil
}

func (f *fakeServices) bindWorkspace(_ context.Context, token secret.String, req *billing.BindWorkspaceRequest, key string) (*billing.BindWorkspaceResult, callMeta, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("BindWorkspace", key); err != nil {
		return nil, callMeta{}, err
	}
	if err := f.authorize(token); err != nil {
		return nil, callMeta{}, err
	}
	for _, w := range f.workspaces {
		if w.ID == req.WorkspaceID {
			f.sub.Workspaces = append(f.sub.Workspaces, billing.BoundWorkspace{ID: w.ID, Name: w.Name, Site: w.Site})
			return &billing.BindWorkspaceResult{Workspace: w.Workspace, Changed: true, LoginURL: "https://login/" + string(w.Site)}, callMeta{}, nil
		}
	}
	return nil, callMeta{}, &apierror.Error{HTTPStatus: 404, ErrorCode: apierror.CodeWorkspaceNotFound}
}

func (f *fakeServices) create(_ context.Context, token secret.String, req *workspace.CreateWorkspaceRequest, key string) (*workspace.CreateResult, callMeta, error) {
	return f.newWorkspace("CreateWorkspace", token, req.EmailCode, req.Name, req.Site, key)
}

func (f *fakeServices) registerAndCreate(_ context.Context, token secret.String, req *workspace.RegisterAndCreateRequest, key string) (*workspace.CreateResult, callMeta, error) {
	return f.newWorkspace("RegisterAndCreate", token, req.EmailCode, req.Name, req.Site, key)
}

func (f *fakeServices) newWorkspace(op string, token, code secret.String, name string, s Site, key string) (*workspace.CreateResult, callMeta, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record(op, key); err != nil {
		return nil, callMeta{}, err
	}
	if err := f.authorize(token); err != nil {
		return nil, callMeta{}, err
	}
	if err := f.checkCode(code); err != nil {
		return nil, callMeta{}, err
	}
	ws := twapi.Workspace{ID: "wksp_new", Name: name, Site: s}
	f.sub.Workspaces = append(f.sub.Workspaces, billing.BoundWorkspace{ID: ws.ID, Name: name, Site: s})
	return &workspace.CreateResult{Workspace: ws, LoginURL: "https://login/" + string(s)}, callMeta{}, nil
}

func (f *fakeServices) accountID(context.Context) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("AccountID", ""); err != nil {
		return "", err
	}
	return testAccountID, nil
}

func (f *fakeServices) instanceID(context.Context) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.record("ActiveTrueWatchPurchase", ""); err != nil {
		return "", err
	}
	return testInstanceID, nil
}

// billingFake and friends adapt fakeServices to the three interfaces (the
// workspaces method name differs to keep the fake's fields apart).
type billingFake struct{ *fakeServices }

func (b billingFake) workspaces(ctx context.Context, token secret.String) ([]billing.BindableWorkspace, error) {
	return b.workspacesList(ctx, token)
}

// withFakes wires f into a builder.
func (a *Activation) withFakes(f *fakeServices) *Activation {
	return a.with(func(c *Activation) { c.billingAPI, c.workspaceAPI, c.huaweiAPI = billingFake{f}, f, f })
}

// fixedCodes returns the given codes in order, then goodCode, recording the
// requests.
type fixedCodes struct {
	mu    sync.Mutex
	codes []string
	reqs  []CodeRequest
}

func (c *fixedCodes) provide(_ context.Context, req CodeRequest) (secret.String, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reqs = append(c.reqs, req)
	if len(c.codes) > 0 {
		code := c.codes[0]
		c.codes = c.codes[1:]
		return secret.String(code), nil
	}
	return goodCode, nil
}

// sleepClock is a fixed time whose waits pass at once, recorded in slept
// when it is set.
type sleepClock struct {
	t     time.Time
	slept *[]time.Duration
}

func (c sleepClock) Now() time.Time { return c.t }

func (c sleepClock) Sleep(_ context.Context, d time.Duration) error {
	if c.slept != nil {
		*c.slept = append(*c.slept, d)
	}
	return nil
}
