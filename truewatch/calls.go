package truewatch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/secret"
)

// op is the call a change step makes, or, while a rebind renews the token
// of another step, the bind of the Billing Center account, with the
// progress of its verification code (the code state) and of its keys (a
// bind's).
type op struct {
	kind    StepName        // which call (calls)
	email   string          // where its code is sent
	purpose billing.Purpose // its code's purpose; "" for a call without one
	token   bool            // it needs the Billing Center token
	rebind  bool            // the bind that renews the token of another step

	begun   bool          // the spare was looked for
	spare   bool          // code is a spare, tried once before one is sent
	sent    bool          // a code was sent (or an earlier one is used)
	cur     sentCode      // the code sent
	code    secret.String // the code the call sends
	attempt int           // codes asked for
	refused []secret.String
	reason  string // why the next code is asked for
	last    error  // why the last code did not work

	key   string   // the key a bind sent last
	tries int      // the keys a bind tried
	why   []string // why a bind moved to new keys
}

// newOp is the op of a step's call, or of a rebind.
func (r *runner) newOp(kind StepName, rebind bool) *op {
	a := r.a
	o := &op{kind: kind, rebind: rebind, tries: 1}
	switch kind {
	case StepRegister:
		o.email, o.purpose = a.register.Email, billing.PurposeRegister
	case StepBindBillingAccount:
		o.email, o.purpose = a.bindAccount.email, billing.PurposeBindBillingAccount
	case StepBindWorkspace:
		o.token = true
	case StepCreateWorkspace:
		o.email, o.purpose, o.token = a.create.Email, billing.PurposeCreateWorkspace, true
	case StepRegisterAndCreate:
		o.email, o.purpose, o.token = a.newAccount.Email, billing.PurposeCreateWorkspace, true
	}
	return o
}

// calls make the change steps' calls, each with the op's code and the
// run's token, keeping what the answer gives in the outcome.
var calls = map[StepName]func(*runner, context.Context, *op) (callMeta, error){
	StepRegister:           (*runner).callRegister,
	StepBindBillingAccount: (*runner).callBindAccount,
	StepBindWorkspace:      (*runner).callBindWorkspace,
	StepCreateWorkspace:    (*runner).callCreate,
	StepRegisterAndCreate:  (*runner).callRegisterAndCreate,
}

func (r *runner) callRegister(ctx context.Context, o *op) (callMeta, error) {
	req := registerRequest(r.a.register, r.a.site, r.accountID, r.instanceID)
	req.EmailCode = o.code
	res, meta, err := r.bc.register(ctx, req, r.st.IdempotencyKey, r.prover)
	if err != nil {
		return callMeta{}, err
	}
	r.out.account = res.BillingAccount
	r.keepWorkspace(res.Workspace.ID, res.Workspace.Site, res.LoginURL)
	return meta, nil
}

// callBindAccount binds the Billing Center account under the key of the
// checkpoint's bind generation and keeps its token. A code sent with a
// call the server did not do (a replay, a refused key) is kept as a spare.
func (r *runner) callBindAccount(ctx context.Context, o *op) (callMeta, error) {
	ba := r.a.bindAccount
	o.key = r.key(StepBindBillingAccount, r.cp.BindGeneration)
	if !o.rebind {
		r.st.IdempotencyKey = o.key
	}
	req := &billing.BindAccountRequest{Username: ba.username, Email: ba.email, EmailCode: o.code,
		HuaweiAccountID: r.accountID, InstanceID: r.instanceID}
	res, meta, err := r.bc.bindAccount(ctx, req, o.key, r.prover)
	if meta.Replayed || errors.Is(err, apierror.ErrIdempotencyKeyReused) {
		r.spare[codeKey(o.email, o.purpose)] = o.code
	}
	if err != nil {
		return callMeta{}, err
	}
	r.token, r.tokenExpires = res.Token, res.ExpiresAt.Time
	r.out.account = res.BillingAccount
	return meta, nil
}

func (r *runner) callBindWorkspace(ctx context.Context, _ *op) (callMeta, error) {
	list, err := r.bc.workspaces(ctx, r.token)
	if err != nil {
		return callMeta{}, err
	}
	w, err := r.pickWorkspace(list)
	if err != nil {
		return callMeta{}, err
	}
	res, meta, err := r.bc.bindWorkspace(ctx, r.token, &billing.BindWorkspaceRequest{WorkspaceID: w.ID}, r.st.IdempotencyKey)
	if err != nil {
		return callMeta{}, err
	}
	r.out.workspaceID, r.out.loginURL = res.Workspace.ID, res.LoginURL
	return meta, nil
}

func (r *runner) callCreate(ctx context.Context, o *op) (callMeta, error) {
	req := createRequest(r.a.create, r.a.site)
	req.EmailCode = o.code
	res, meta, err := r.ws.create(ctx, r.token, req, r.st.IdempotencyKey)
	if err != nil {
		return callMeta{}, err
	}
	r.keepWorkspace(res.Workspace.ID, res.Workspace.Site, res.LoginURL)
	return meta, nil
}

func (r *runner) callRegisterAndCreate(ctx context.Context, o *op) (callMeta, error) {
	req := registerAndCreateRequest(r.a.newAccount, r.a.site)
	req.EmailCode = o.code
	res, meta, err := r.ws.registerAndCreate(ctx, r.token, req, r.st.IdempotencyKey)
	if err != nil {
		return callMeta{}, err
	}
	r.keepWorkspace(res.Workspace.ID, res.Workspace.Site, res.LoginURL)
	return meta, nil
}

// keepWorkspace keeps a created workspace in the outcome.
func (r *runner) keepWorkspace(id string, s Site, loginURL string) {
	r.out.workspaceID, r.out.loginURL = id, loginURL
	if s != "" {
		r.out.site = s
	}
}

// maxBindGenerations bounds how many keys one bind tries.
const maxBindGenerations = 16

// foundDone handles two runs of one activation at once (two processes, two
// Stores): the one that comes second finds its change refused as already
// done (the subscription bound, the name taken, the workspace settled). It
// reads the subscription again, with the proof, and when it is exactly what
// this run wanted (the Billing Center account, and the workspace by ID or
// by name on the chosen site) takes the outcome as its own.
func (r *runner) foundDone(ctx context.Context, err error) bool {
	// A twin also uses up the codes both runs read from one mailbox.
	if errors.Is(err, apierror.ErrIdempotencyKeyReused) || !(errors.Is(err, apierror.ErrAlreadyBound) ||
		errors.Is(err, apierror.ErrNameTaken) || errors.Is(err, apierror.ErrConflict) || errors.Is(err, ErrNotBindable) ||
		errors.Is(err, apierror.ErrInvalidCode)) {
		return false
	}
	sub, serr := r.bc.subscription(ctx, r.accountID, r.instanceID, r.prover)
	if serr != nil {
		return false
	}
	w, ok := r.wanted(sub)
	if !ok {
		return false
	}
	r.log.LogAttrs(ctx, slog.LevelInfo, "activation found its change made by another run", slog.String("activation", r.id),
		slog.String("workspace", w.ID))
	r.sub = sub
	r.out.account = billingAccount(sub.BillingAccountID, sub.BillingUsername)
	r.out.workspaceID, r.out.site, r.out.loginURL = w.ID, w.Site, sub.LoginURL
	r.notes = append(r.notes, "another run of this activation, at the same time, made part of it; this run found it done")
	return true
}

// wanted finds, in a subscription, the outcome the activation was
// configured for: bound to its Billing Center account, settling its
// workspace (by ID, or by name) on its site.
func (r *runner) wanted(sub *billing.Subscription) (billing.BoundWorkspace, bool) {
	a := r.a
	if !sub.OwnershipProven || !sub.Bound {
		return billing.BoundWorkspace{}, false
	}
	var user, id, name string
	switch {
	case a.register != nil:
		user, name = a.register.Username, a.register.WorkspaceName
	case a.bindAccount != nil:
		user = a.bindAccount.username
		switch {
		case a.bindWSID != "":
			id = a.bindWSID
		case a.bindWSName != "":
			name = a.bindWSName
		case a.create != nil:
			name = a.create.Name
		case a.newAccount != nil:
			name = a.newAccount.WorkspaceName
		}
	}
	if user == "" || !strings.EqualFold(sub.BillingUsername, user) {
		return billing.BoundWorkspace{}, false
	}
	for _, w := range sub.Workspaces {
		if w.Site == a.site && (id != "" && w.ID == id || id == "" && w.Name == name) {
			return w, true
		}
	}
	return billing.BoundWorkspace{}, false
}

// pickWorkspace finds the workspace to bind among the account's.
func (r *runner) pickWorkspace(list []billing.BindableWorkspace) (billing.BindableWorkspace, error) {
	want := r.a.site
	var match []billing.BindableWorkspace
	for _, w := range list {
		if r.a.bindWSID != "" && w.ID == r.a.bindWSID || r.a.bindWSID == "" && w.Name == r.a.bindWSName {
			match = append(match, w)
		}
	}
	what := fmt.Sprintf("workspace %s", r.a.bindWSID)
	if r.a.bindWSID == "" {
		what = fmt.Sprintf("workspace named %q", r.a.bindWSName)
	}
	if len(match) == 0 {
		return billing.BindableWorkspace{}, newKindError(ErrWorkspaceNotFound, apierror.ErrNotFound,
			"%s not found among the %d workspace(s) of Billing Center account %q", what, len(list), r.a.bindAccount.username)
	}
	var onSite []billing.BindableWorkspace
	var sites []string
	for _, w := range match {
		if w.Site == want {
			onSite = append(onSite, w)
		} else {
			sites = append(sites, string(w.Site))
		}
	}
	switch {
	case len(onSite) == 0:
		return billing.BindableWorkspace{}, newKindError(ErrSiteMismatch, nil,
			"%s is on site %s, not the chosen %s; a workspace's site never changes", what, strings.Join(sites, ", "), want)
	case len(onSite) > 1:
		ids := make([]string, len(onSite))
		for i, w := range onSite {
			ids[i] = w.ID
		}
		return billing.BindableWorkspace{}, newKindError(ErrWorkspaceAmbiguous, nil,
			"%s matches %d workspaces on site %s (%s); bind one by ID", what, len(onSite), want, strings.Join(ids, ", "))
	}
	w := onSite[0]
	// A workspace already settled by this subscription (by an earlier or a
	// twin run) is bound again, which the Billing Center answers without a
	// change.
	if !w.Bindable && w.Reason != billing.ReasonAlreadyBound {
		return w, newKindError(ErrNotBindable, apierror.ErrConflict, "%s (%s) cannot be bound: %s", what, w.ID, w.Reason)
	}
	return w, nil
}

// sentCode is the code a provider is asked for.
type sentCode struct {
	earlier   bool      // no code was sent now: one sent moments ago, before this run, is used
	expiresAt time.Time // when it stops working; zero when not known
}

// sendCode asks the Billing Center to email a code. A resend waits until
// the Billing Center allows one. When a first send is refused because a
// code was sent moments ago (by a run that stopped, or a twin), that code
// is used: earlier is set, and its expiry is worked out from when a new
// one may be sent (the contract's resend interval after it was sent).
func (r *runner) sendCode(ctx context.Context, email string, purpose billing.Purpose, resend bool) (sentCode, error) {
	step := r.st.Name
	k := codeKey(email, purpose)
	if at, ok := r.resendAfter[k]; ok && resend {
		if err := r.wait(ctx, step, at.Sub(r.clock.Now()), "waiting until a new verification code may be sent"); err != nil {
			return sentCode{}, err
		}
	}
	req := &billing.SendCodeRequest{Email: email, Purpose: purpose}
	res, err := r.bc.sendCode(ctx, req)
	if errors.Is(err, apierror.ErrResendTooSoon) {
		wait := resendWait(err)
		if !resend {
			r.log.LogAttrs(ctx, slog.LevelInfo, "verification code sent recently; using it", slog.String("step", string(step)),
				slog.String("purpose", string(purpose)))
			now := r.clock.Now()
			r.resendAfter[k] = now.Add(wait)
			return sentCode{earlier: true, expiresAt: now.Add(wait - resendInterval + codeLifetime).Truncate(time.Second)}, nil
		}
		if err := r.wait(ctx, step, wait, "a new verification code was refused as too soon; waiting"); err != nil {
			return sentCode{}, err
		}
		res, err = r.bc.sendCode(ctx, req)
	}
	if err != nil {
		return sentCode{}, err
	}
	r.resendAfter[k] = res.ResendAfter.Time
	return sentCode{expiresAt: res.ExpiresAt.Time}, nil
}

// codeKey identifies the codes sent to email for purpose.
func codeKey(email string, purpose billing.Purpose) string { return email + "\x00" + string(purpose) }

// resendWait is how long to wait after a send refused as too soon: the
// server's Retry-After when it gave one, else the resend interval.
func resendWait(err error) time.Duration {
	var ae *apierror.Error
	if errors.As(err, &ae) && ae.RetryAfter > 0 {
		return ae.RetryAfter
	}
	return resendInterval
}

func (r *runner) wait(ctx context.Context, step StepName, d time.Duration, reason string) error {
	if d <= 0 {
		return nil
	}
	r.emit(Event{Type: Retrying, Step: step, Attempt: 1, Reason: reason, Wait: d})
	r.log.LogAttrs(ctx, slog.LevelInfo, "activation waiting", slog.String("step", string(step)),
		slog.String("reason", reason), slog.Duration("wait", d))
	return r.sleep(ctx, d)
}
