package truewatch

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/secret"
)

func createInfo() CreateWorkspaceInfo {
	return CreateWorkspaceInfo{Name: "prod", Language: LanguageEN, Email: "ada@example.com", TermsAccepted: true}
}

func registerInfo() RegisterInfo {
	return RegisterInfo{Username: "ada", Password: "S3cret-pass", PasswordConfirm: "S3cret-pass", Email: "ada@example.com",
		Company: billing.Company{Name: "Analytical Engines"}, WorkspaceName: "prod", WorkspaceLanguage: LanguageEN, TermsAccepted: true}
}

func newAccountInfo() NewAccountInfo {
	return NewAccountInfo{WorkspaceName: "prod", WorkspaceLanguage: LanguageZH, Username: "grace", Password: "S3cret-pass",
		PasswordConfirm: "S3cret-pass", Email: "grace@example.com", TermsAccepted: true}
}

// base is a builder wired to fakes with everything but the branch.
func base(f *fakeServices, codes *fixedCodes) *Activation {
	return NewActivation().withFakes(f).WithSite(SiteUS1).WithCodes(codes.provide).
		WithClock(sleepClock{t: f.now()})
}

func TestValidateListsEveryProblemBeforeAnyCall(t *testing.T) {
	f := newFake()
	a := NewActivation().withFakes(f).WithCodes((&fixedCodes{}).provide).
		BindBillingAccount("ada", "ada@example.com").
		BindWorkspaceByName("prod").
		CreateWorkspace(CreateWorkspaceInfo{Name: "prod", Language: "fr", Email: "ada@example.com", TermsAccepted: true}).
		RegisterAndCreateWorkspace(NewAccountInfo{WorkspaceName: "w", WorkspaceLanguage: LanguageEN, Username: "grace",
			Password: "S3cret-pass", PasswordConfirm: "S3cret-pasS", Email: "grace@example.com", TermsAccepted: true})

	_, planErr := a.Plan(context.Background())
	_, runErr := a.Run(context.Background())
	for _, err := range []error{planErr, runErr} {
		var ve *apierror.ValidationError
		require.ErrorAs(t, err, &ve)
		assert.ErrorIs(t, err, apierror.ErrValidation)
		fields := map[string]string{}
		for _, p := range ve.Problems {
			fields[p.Field] = p.Message
		}
		assert.Contains(t, fields["site"], "is required")
		assert.Contains(t, fields["workspace"], "contradict")
		assert.Contains(t, fields["createWorkspace.language"], "unsupported language")
		assert.Contains(t, fields["registerAndCreateWorkspace.passwordConfirm"], "does not match")
		assert.NotContains(t, err.Error(), "S3cret", "problems never echo a password")
	}
	assert.Empty(t, f.callList(), "nothing was called")
}

func TestValidateMoreProblems(t *testing.T) {
	tests := []struct {
		name  string
		build func(*Activation) *Activation
		field string
		msg   string
	}{
		{"register and bind", func(a *Activation) *Activation {
			return a.Register(registerInfo()).BindBillingAccount("ada", "ada@example.com").CreateWorkspace(createInfo())
		}, "branch", "contradict"},
		{"workspace with register", func(a *Activation) *Activation {
			return a.Register(registerInfo()).BindWorkspaceByID("wksp_1")
		}, "workspace", "cannot be combined with Register"},
		{"no workspace choice", func(a *Activation) *Activation { return a.BindBillingAccount("ada", "ada@example.com") },
			"workspace", "needs one of"},
		{"workspace without account", func(a *Activation) *Activation { return a.CreateWorkspace(createInfo()) },
			"workspace", "needs BindBillingAccount"},
		{"register password confirmation", func(a *Activation) *Activation {
			ri := registerInfo()
			ri.PasswordConfirm = "other-Pass1"
			return a.Register(ri)
		}, "register.passwordConfirm", "does not match"},
		{"register unknown language", func(a *Activation) *Activation {
			ri := registerInfo()
			ri.WorkspaceLanguage = "de"
			return a.Register(ri)
		}, "register.workspaceLanguage", "unsupported"},
		{"register bad phone", func(a *Activation) *Activation {
			ri := registerInfo()
			ri.Phone = "abc"
			return a.Register(ri)
		}, "register.phone", "digits"},
		{"unknown site", func(a *Activation) *Activation { return a.WithSite("mars1").Register(registerInfo()) }, "site", "unknown site"},
		{"bad account id", func(a *Activation) *Activation { return a.WithHuaweiAccountID("ABC").Register(registerInfo()) },
			"huaweiAccountId", "32 lower-case"},
		{"bad bind email", func(a *Activation) *Activation {
			return a.BindBillingAccount("ada", "not-an-email").BindWorkspaceByID("wksp_1")
		}, "bindBillingAccount.email", "valid email"},
		{"nil store", func(a *Activation) *Activation { return a.WithStore(nil).Register(registerInfo()) }, "store", "nil"},
		{"zero code attempts", func(a *Activation) *Activation { return a.WithMaxCodeAttempts(0).Register(registerInfo()) },
			"maxCodeAttempts", "at least 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			a := tt.build(NewActivation().withFakes(f).WithCodes((&fixedCodes{}).provide))
			err := a.Validate()
			var ve *apierror.ValidationError
			require.ErrorAs(t, err, &ve)
			found := false
			for _, p := range ve.Problems {
				if p.Field == tt.field && strings.Contains(p.Message, tt.msg) {
					found = true
				}
			}
			assert.True(t, found, "want %s: %s in %v", tt.field, tt.msg, ve.Problems)
			_, err = a.Run(context.Background())
			require.ErrorIs(t, err, apierror.ErrValidation)
			assert.Empty(t, f.callList())
		})
	}
}

func TestValidateReportsClientConfigurationWithOtherProblems(t *testing.T) {
	err := NewActivation().WithBillingURL("ftp://bc.example").WithHuaweiAccountID(testAccountID).
		WithInstanceID(testInstanceID).WithCodes((&fixedCodes{}).provide).Register(registerInfo()).Validate()
	var ve *apierror.ValidationError
	require.ErrorAs(t, err, &ve)
	require.Len(t, ve.Problems, 2)
	assert.Equal(t, "site", ve.Problems[0].Field)
	assert.Equal(t, "billingURL", ve.Problems[1].Field)
	assert.Contains(t, ve.Problems[1].Message, "http")
}

func TestValidateNeedsLookupOrIDs(t *testing.T) {
	err := NewActivation().WithBillingURL("http://bc.example").WithSite(SiteUS1).
		WithCodes((&fixedCodes{}).provide).Register(registerInfo()).Validate()
	var ve *apierror.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Len(t, ve.Problems, 2)
	assert.Equal(t, "huaweiAccountId", ve.Problems[0].Field)
	assert.Equal(t, "instanceId", ve.Problems[1].Field)

	err = NewActivation().WithBillingURL("http://bc.example").WithSite(SiteUS1).WithHuaweiAccountID(testAccountID).
		WithInstanceID(testInstanceID).WithCodes((&fixedCodes{}).provide).Register(registerInfo()).Validate()
	assert.NoError(t, err)
}

func TestRegisterBranch(t *testing.T) {
	f, codes := newFake(), &fixedCodes{}
	var events []Event
	a := base(f, codes).Register(registerInfo()).WithEvents(func(e Event) { events = append(events, e) })

	plan, err := a.Plan(context.Background())
	require.NoError(t, err)
	assert.Equal(t, []string{"AccountID", "ActiveTrueWatchPurchase", "GetSubscription"}, f.callList(), "Plan only reads")
	assert.Empty(t, events, "Plan sends no event")
	assert.Equal(t, BranchRegister, plan.Branch)
	assert.False(t, plan.AlreadyActivated)
	require.Len(t, plan.ChangeSteps(), 1)
	assert.Equal(t, StepRegister, plan.ChangeSteps()[0].Name)
	assert.Empty(t, plan.ChangeSteps()[0].IdempotencyKey, "a Plan before the first Run has no key yet")
	assert.Contains(t, plan.String(), "site us1")

	res, err := a.Run(context.Background())
	require.NoError(t, err)
	assert.Equal(t, plan.Steps, keyless(res.Steps), "Run took the planned steps")
	assertKeyed(t, res.Steps)
	assert.Equal(t, "bcac_1", res.BillingAccount.ID)
	assert.Equal(t, "wksp_reg", res.WorkspaceID)
	assert.Equal(t, SiteUS1, res.Site)
	assert.Equal(t, "https://login/us1", res.LoginURL)
	assert.Equal(t, changeSteps(res.Steps)[0].IdempotencyKey, f.keys["Register"], "the key the step reports is the key sent")
	require.Len(t, codes.reqs, 1)
	assert.Equal(t, billing.PurposeRegister, codes.reqs[0].Purpose)

	var types []EventType
	for _, e := range events {
		types = append(types, e.Type)
	}
	assert.Equal(t, []EventType{StepStarted, StepFinished, StepStarted, StepFinished, StepStarted, StepFinished,
		StepStarted, CodeRequested, StepFinished}, types)

	// Running again changes nothing.
	again, err := a.Run(context.Background())
	require.NoError(t, err)
	assert.True(t, again.AlreadyActivated)
	assert.Equal(t, "wksp_reg", again.WorkspaceID)
	assert.Equal(t, 1, count(f.callList(), "Register"))
}

func count(list []string, s string) int {
	n := 0
	for _, v := range list {
		if v == s {
			n++
		}
	}
	return n
}

func TestBindBranches(t *testing.T) {
	tests := []struct {
		name   string
		build  func(*Activation) *Activation
		steps  []StepName
		wsID   string
		branch Branch
	}{
		{"create workspace", func(a *Activation) *Activation { return a.CreateWorkspace(createInfo()) },
			[]StepName{StepBindBillingAccount, StepCreateWorkspace}, "wksp_new", BranchCreateWorkspace},
		{"register and create", func(a *Activation) *Activation { return a.RegisterAndCreateWorkspace(newAccountInfo()) },
			[]StepName{StepBindBillingAccount, StepRegisterAndCreate}, "wksp_new", BranchRegisterAndCreate},
		{"bind by id", func(a *Activation) *Activation { return a.BindWorkspaceByID("wksp_b") },
			[]StepName{StepBindBillingAccount, StepBindWorkspace}, "wksp_b", BranchBindWorkspace},
		{"bind by name", func(a *Activation) *Activation { return a.BindWorkspaceByName("staging") },
			[]StepName{StepBindBillingAccount, StepBindWorkspace}, "wksp_b", BranchBindWorkspace},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, codes := newFake(), &fixedCodes{}
			f.workspaces = []billing.BindableWorkspace{
				bindable("wksp_a", "staging", SiteEU1, true),
				bindable("wksp_b", "staging", SiteUS1, true),
			}
			a := tt.build(base(f, codes).WithHuaweiAccountID(testAccountID).WithInstanceID(testInstanceID).
				BindBillingAccount("ada", "ada@example.com"))
			plan, err := a.Plan(context.Background())
			require.NoError(t, err)
			assert.Equal(t, tt.branch, plan.Branch)
			var names []StepName
			for _, s := range plan.ChangeSteps() {
				names = append(names, s.Name)
			}
			assert.Equal(t, tt.steps, names)
			assert.Equal(t, []string{"GetSubscription"}, f.callList(), "no lookups when the IDs are given")

			res, err := a.Run(context.Background())
			require.NoError(t, err)
			assert.Equal(t, plan.Steps, keyless(res.Steps))
			assertKeyed(t, res.Steps)
			assert.Equal(t, tt.wsID, res.WorkspaceID)
			assert.Equal(t, "bcac_1", res.BillingAccount.ID)
			assert.Equal(t, "https://login/us1", res.LoginURL)
		})
	}
}

func bindable(id, name string, s Site, ok bool) billing.BindableWorkspace {
	w := billing.BindableWorkspace{Bindable: ok}
	w.ID, w.Name, w.Site = id, name, s
	if !ok {
		w.Reason = "settled by another active subscription"
	}
	return w
}

func TestPickWorkspaceErrors(t *testing.T) {
	tests := []struct {
		name  string
		build func(*Activation) *Activation
		want  []error
		msg   string
	}{
		{"not found", func(a *Activation) *Activation { return a.BindWorkspaceByID("wksp_zz") },
			[]error{ErrWorkspaceNotFound, apierror.ErrNotFound}, "not found"},
		{"other site", func(a *Activation) *Activation { return a.BindWorkspaceByID("wksp_eu") },
			[]error{ErrSiteMismatch}, "site eu1, not the chosen us1"},
		{"ambiguous", func(a *Activation) *Activation { return a.BindWorkspaceByName("dup") },
			[]error{ErrWorkspaceAmbiguous}, "wksp_d1, wksp_d2"},
		{"not bindable", func(a *Activation) *Activation { return a.BindWorkspaceByID("wksp_locked") },
			[]error{ErrNotBindable, apierror.ErrConflict}, "settled by another active subscription"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake()
			f.workspaces = []billing.BindableWorkspace{
				bindable("wksp_eu", "eu", SiteEU1, true),
				bindable("wksp_d1", "dup", SiteUS1, true),
				bindable("wksp_d2", "dup", SiteUS1, true),
				bindable("wksp_locked", "locked", SiteUS1, false),
			}
			_, err := tt.build(base(f, &fixedCodes{}).BindBillingAccount("ada", "ada@example.com")).Run(context.Background())
			var se *StepError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, StepBindWorkspace, se.Step)
			for _, w := range tt.want {
				assert.ErrorIs(t, err, w)
			}
			assert.Contains(t, err.Error(), tt.msg)
			assert.Zero(t, count(f.callList(), "BindWorkspace"))
		})
	}
}

func TestAlreadyActivated(t *testing.T) {
	f := newFake()
	f.sub.Bound, f.sub.BillingAccountID, f.sub.BillingUsername = true, "bcac_9", "Ada"
	f.sub.Workspaces = []billing.BoundWorkspace{{ID: "wksp_eu", Name: "eu", Site: SiteEU1}}
	f.sub.LoginURL = "https://login/eu1"
	var events []Event
	a := base(f, &fixedCodes{}).BindBillingAccount("ada", "ada@example.com").CreateWorkspace(createInfo()).
		WithEvents(func(e Event) { events = append(events, e) })
	plan, err := a.Plan(context.Background())
	require.NoError(t, err)
	assert.True(t, plan.AlreadyActivated)
	assert.Equal(t, SiteEU1, plan.Site)
	assert.Empty(t, plan.ChangeSteps())
	assert.Contains(t, strings.Join(plan.Notes, "\n"), "not the chosen us1")

	res, err := a.Run(context.Background())
	require.NoError(t, err)
	assert.True(t, res.AlreadyActivated)
	assert.Equal(t, "wksp_eu", res.WorkspaceID)
	assert.Equal(t, "bcac_9", res.BillingAccount.ID)
	assert.Equal(t, "https://login/eu1", res.LoginURL)
	assert.Equal(t, plan.Steps, res.Steps)
	assert.Equal(t, plan.Notes, res.Notes)
	assert.Equal(t, 2, countEvents(events, StepSkipped))
	assert.Equal(t, []string{"AccountID", "ActiveTrueWatchPurchase", "GetSubscription", "AccountID", "ActiveTrueWatchPurchase", "GetSubscription"}, f.callList())
}

func countEvents(events []Event, t EventType) int {
	n := 0
	for _, e := range events {
		if e.Type == t {
			n++
		}
	}
	return n
}

func TestSubscriptionStates(t *testing.T) {
	t.Run("inactive", func(t *testing.T) {
		f := newFake()
		f.sub.Active, f.sub.Status = false, billing.StatusClosed
		_, err := base(f, &fixedCodes{}).Register(registerInfo()).Plan(context.Background())
		assert.ErrorIs(t, err, ErrSubscriptionInactive)
		assert.Contains(t, err.Error(), "released")
	})
	t.Run("bound elsewhere", func(t *testing.T) {
		f := newFake()
		f.sub.Bound, f.sub.BillingUsername = true, "other"
		_, err := base(f, &fixedCodes{}).BindBillingAccount("ada", "ada@example.com").CreateWorkspace(createInfo()).Run(context.Background())
		assert.ErrorIs(t, err, ErrBoundElsewhere)
		_, err = base(f, &fixedCodes{}).Register(registerInfo()).Run(context.Background())
		assert.ErrorIs(t, err, ErrBoundElsewhere)
		assert.Contains(t, err.Error(), `BindBillingAccount("other"`)
	})
	t.Run("activated, but not in use", func(t *testing.T) {
		for status, says := range map[billing.SubscriptionStatus]string{
			billing.StatusFrozen: "frozen", billing.StatusExpired: "expired", billing.StatusClosed: "closed",
			"in_grace": `status is "in_grace", which this version of the SDK does not know`,
		} {
			f := newFake()
			f.sub.Active, f.sub.Status = false, status
			f.sub.Bound, f.sub.BillingAccountID, f.sub.BillingUsername = true, "bcac_9", "ada"
			f.sub.Workspaces = []billing.BoundWorkspace{{ID: "wksp_us", Name: "us", Site: SiteUS1}}
			res, err := base(f, &fixedCodes{}).BindBillingAccount("ada", "ada@example.com").CreateWorkspace(createInfo()).Run(context.Background())
			require.NoError(t, err, status)
			assert.True(t, res.AlreadyActivated)
			assert.Equal(t, status, res.SubscriptionStatus)
			assert.Contains(t, res.Notes[len(res.Notes)-1], says)
		}
	})
	t.Run("activated by another account", func(t *testing.T) {
		f := newFake()
		f.sub.Bound, f.sub.BillingAccountID, f.sub.BillingUsername = true, "bcac_9", "other"
		f.sub.Workspaces = []billing.BoundWorkspace{{ID: "wksp_us", Name: "us", Site: SiteUS1}}
		_, err := base(f, &fixedCodes{}).BindBillingAccount("ada", "ada@example.com").CreateWorkspace(createInfo()).Plan(context.Background())
		var be *BoundElsewhereError
		require.ErrorAs(t, err, &be)
		assert.Equal(t, BoundElsewhereError{InstanceID: testInstanceID, BoundUsername: "other", BoundAccountID: "bcac_9",
			Named: "ada", Activated: true}, *be)
		// A check names no account: it reports the activation.
		res, err := base(f, nil).Run(context.Background())
		require.NoError(t, err)
		assert.Equal(t, "other", res.BillingAccount.Username)
	})
	t.Run("bound without workspace resumes", func(t *testing.T) {
		f := newFake()
		f.sub.Bound, f.sub.BillingUsername = true, "ada"
		a := base(f, &fixedCodes{}).BindBillingAccount("ada", "ada@example.com").CreateWorkspace(createInfo())
		plan, err := a.Plan(context.Background())
		require.NoError(t, err)
		assert.True(t, plan.Resuming)
		assert.Contains(t, plan.ChangeSteps()[0].Reason, "already bound")
		res, err := a.Run(context.Background())
		require.NoError(t, err)
		assert.Equal(t, "wksp_new", res.WorkspaceID)
	})
	t.Run("lookup failure", func(t *testing.T) {
		f := newFake()
		f.failNext("AccountID", &apierror.Error{Service: "huawei-iam", HTTPStatus: 401, ErrorCode: apierror.CodeHuaweiUnauthorized})
		_, err := base(f, &fixedCodes{}).Register(registerInfo()).Run(context.Background())
		var se *StepError
		require.ErrorAs(t, err, &se)
		assert.Equal(t, StepResolveAccountID, se.Step)
		assert.ErrorIs(t, err, apierror.ErrUnauthorized)
	})
}

func TestCodes(t *testing.T) {
	invalid := &apierror.Error{HTTPStatus: 400, ErrorCode: apierror.CodeInvalidCode}
	expired := &apierror.Error{HTTPStatus: 400, ErrorCode: apierror.CodeCodeExpired}
	tooSoon := &apierror.Error{HTTPStatus: 429, ErrorCode: apierror.CodeCodeResendTooSoon}

	t.Run("wrong then right", func(t *testing.T) {
		f, codes := newFake(), &fixedCodes{codes: []string{"000001", "12ab"}}
		res, err := base(f, codes).Register(registerInfo()).Run(context.Background())
		require.NoError(t, err)
		assert.Equal(t, "wksp_reg", res.WorkspaceID)
		require.Len(t, codes.reqs, 3)
		assert.Equal(t, 3, codes.reqs[2].Attempt)
		assert.Equal(t, "the code was wrong", codes.reqs[1].Reason)
		assert.Equal(t, "the code must be 6 digits", codes.reqs[2].Reason)
		assert.Equal(t, 1, count(f.callList(), "SendVerificationCode:register"), "a wrong code is asked for again, not resent")
		assert.Equal(t, 2, count(f.callList(), "Register"), "a malformed code is never sent")
	})
	t.Run("expired waits until a new code may be sent", func(t *testing.T) {
		f, codes := newFake(), &fixedCodes{}
		f.resendAfter = time.Minute
		f.failNext("Register", expired)
		var slept []time.Duration
		var events []Event
		clock := sleepClock{f.now().Add(20 * time.Second), &slept} // 40s before a resend is allowed
		res, err := base(f, codes).Register(registerInfo()).WithClock(clock).
			WithEvents(func(e Event) { events = append(events, e) }).Run(context.Background())
		require.NoError(t, err)
		assert.Equal(t, "wksp_reg", res.WorkspaceID)
		assert.Equal(t, []time.Duration{40 * time.Second}, slept)
		assert.Equal(t, 2, count(f.callList(), "SendVerificationCode:register"))
		require.Len(t, codes.reqs, 2)
		assert.Contains(t, codes.reqs[1].Reason, "expired")
		var waits []time.Duration
		for _, e := range events {
			if e.Type == Retrying {
				waits = append(waits, e.Wait)
			}
		}
		assert.Equal(t, []time.Duration{40 * time.Second}, waits)
	})
	t.Run("exhausted", func(t *testing.T) {
		f, codes := newFake(), &fixedCodes{codes: []string{"000001", "000002"}}
		_, err := base(f, codes).Register(registerInfo()).WithMaxCodeAttempts(2).Run(context.Background())
		var ce *CodeError
		require.ErrorAs(t, err, &ce)
		assert.ErrorIs(t, err, apierror.ErrInvalidCode)
		assert.Equal(t, 2, ce.Attempts)
		assert.Equal(t, billing.PurposeRegister, ce.Purpose)
		assert.NotContains(t, err.Error(), "000002")
	})
	// A send refused as too soon waits the server's Retry-After, else the
	// resend interval: when the first send is refused (the code sent moments
	// ago is used, and replaced once found stale) and when a resend is.
	for _, tt := range []struct {
		name       string
		retryAfter time.Duration
		resend     bool // the refusal answers a resend after an expired code
		want       time.Duration
	}{
		{"recently sent code is used, then replaced when stale", 0, false, resendInterval},
		{"recently sent code is replaced after the server's Retry-After", 23 * time.Second, false, 23 * time.Second},
		{"refused resend waits the resend interval", 0, true, resendInterval},
		{"refused resend waits the server's Retry-After", 17 * time.Second, true, 17 * time.Second},
	} {
		t.Run(tt.name, func(t *testing.T) {
			refused := *tooSoon
			refused.RetryAfter = tt.retryAfter
			f, codes := newFake(), &fixedCodes{}
			sends := 2
			if tt.resend {
				f.failNext("Register", expired)
				f.sendErrs = []error{nil, &refused}
				sends = 3 // sent, refused, sent after the wait
			} else {
				f.sendErrs = []error{&refused}
				codes.codes = []string{"000009"}
			}
			var slept []time.Duration
			res, err := base(f, codes).Register(registerInfo()).WithClock(sleepClock{f.now(), &slept}).
				Run(context.Background())
			require.NoError(t, err)
			assert.Equal(t, "wksp_reg", res.WorkspaceID)
			assert.Equal(t, []time.Duration{tt.want}, slept)
			assert.Equal(t, sends, count(f.callList(), "SendVerificationCode:register"))
		})
	}
	t.Run("a code already refused is not sent again", func(t *testing.T) {
		f, codes := newFake(), &fixedCodes{codes: []string{"000001", "000001"}}
		res, err := base(f, codes).Register(registerInfo()).Run(context.Background())
		require.NoError(t, err)
		assert.Equal(t, "wksp_reg", res.WorkspaceID)
		assert.Equal(t, 2, count(f.callList(), "Register"), "the repeated code is not sent")
		assert.Equal(t, 2, count(f.callList(), "SendVerificationCode:register"), "a new code is sent instead")
		require.Len(t, codes.reqs, 3)
		assert.Equal(t, "that code was already refused; a new one was sent", codes.reqs[2].Reason)
	})
	t.Run("provider error stops", func(t *testing.T) {
		f := newFake()
		boom := errors.New("no terminal")
		_, err := base(f, &fixedCodes{}).Register(registerInfo()).
			WithCodes(func(context.Context, CodeRequest) (secret.String, error) { return "", boom }).Run(context.Background())
		assert.ErrorIs(t, err, boom)
		assert.Zero(t, count(f.callList(), "Register"))
	})
	t.Run("other errors are not code errors", func(t *testing.T) {
		f, codes := newFake(), &fixedCodes{codes: []string{"000001"}}
		f.failNext("Register", invalid, &apierror.Error{HTTPStatus: 409, ErrorCode: apierror.CodeUsernameTaken})
		_, err := base(f, codes).Register(registerInfo()).Run(context.Background())
		assert.ErrorIs(t, err, apierror.ErrNameTaken)
		assert.Len(t, codes.reqs, 2)
	})
}

func TestExpiredTokenRebindsOnceWithNewKey(t *testing.T) {
	f, codes := newFake(), &fixedCodes{}
	expiredTok := &apierror.Error{HTTPStatus: 401, ErrorCode: apierror.CodeTokenExpired}
	f.failNext("CreateWorkspace", expiredTok)
	store := NewMemoryStore()
	a := base(f, codes).WithStore(store).BindBillingAccount("ada", "ada@example.com").CreateWorkspace(createInfo())
	res, err := a.Run(context.Background())
	require.NoError(t, err)
	require.Len(t, changeSteps(res.Steps), 3)
	first, rebind := changeSteps(res.Steps)[0], changeSteps(res.Steps)[1]
	assert.Equal(t, StepBindBillingAccount, rebind.Name)
	assert.NotEqual(t, first.IdempotencyKey, rebind.IdempotencyKey)
	assert.Equal(t, 2, count(f.callList(), "BindBillingAccount"))
	cp, err := store.Load(context.Background(), res.ActivationID)
	require.NoError(t, err)
	assert.Equal(t, 1, cp.BindGeneration)
	assert.Equal(t, stepKey(cp.KeySecret, res.ActivationID, StepBindBillingAccount, 1), rebind.IdempotencyKey)
	assert.Equal(t, stepKey(cp.KeySecret, res.ActivationID, StepBindBillingAccount, 0), first.IdempotencyKey)

	// A second refusal is not retried again.
	f2 := newFake()
	f2.failNext("CreateWorkspace", expiredTok, expiredTok)
	_, err = base(f2, &fixedCodes{}).BindBillingAccount("ada", "ada@example.com").CreateWorkspace(createInfo()).Run(context.Background())
	assert.ErrorIs(t, err, apierror.ErrUnauthorized)
	assert.Equal(t, 2, count(f2.callList(), "BindBillingAccount"))
}

func TestActivationIDIsDeterministic(t *testing.T) {
	id := activationID(testAccountID, testInstanceID, SiteUS1, BranchRegister)
	assert.Equal(t, id, activationID(testAccountID, testInstanceID, SiteUS1, BranchRegister))
	assert.NotEqual(t, id, activationID(testAccountID, testInstanceID, SiteEU1, BranchRegister))
	assert.NotEqual(t, id, activationID(testAccountID, testInstanceID, SiteUS1, BranchCreateWorkspace))
	assert.Regexp(t, `^actv_[0-9a-f]{32}$`, id)
}

// TestIdempotencyKeysNeedTheSecret: keys derive from the activation's
// secret, so that nobody can compute them from the public identifiers: two
// activations of the same subscription with their own stores send other
// keys, and the key is not the public-data hash keys used to be.
func TestIdempotencyKeysNeedTheSecret(t *testing.T) {
	id := activationID(testAccountID, testInstanceID, SiteUS1, BranchRegister)
	s1, err := newKeySecret()
	require.NoError(t, err)
	s2, err := newKeySecret()
	require.NoError(t, err)
	k := stepKey(s1, id, StepRegister, 0)
	assert.Regexp(t, `^act_[0-9a-f]{32}$`, k)
	assert.Equal(t, k, stepKey(s1, id, StepRegister, 0))
	assert.NotEqual(t, k, stepKey(s2, id, StepRegister, 0))
	assert.NotEqual(t, k, stepKey(s1, id, StepBindBillingAccount, 0))
	assert.NotEqual(t, stepKey(s1, id, StepBindBillingAccount, 0), stepKey(s1, id, StepBindBillingAccount, 1))
	public := sha256.Sum256([]byte(id + "/" + string(StepRegister)))
	assert.NotEqual(t, "act_"+hex.EncodeToString(public[:])[:32], k, "not the old key from public data")

	r1, err := base(newFake(), &fixedCodes{}).Register(registerInfo()).Run(context.Background())
	require.NoError(t, err)
	r2, err := base(newFake(), &fixedCodes{}).Register(registerInfo()).Run(context.Background())
	require.NoError(t, err)
	assert.Equal(t, r1.ActivationID, r2.ActivationID)
	assert.NotEqual(t, changeSteps(r1.Steps)[0].IdempotencyKey, changeSteps(r2.Steps)[0].IdempotencyKey)
}

// keyless is steps without their idempotency keys, as a Plan before the
// first Run shows them.
func keyless(steps []Step) []Step {
	out := append([]Step(nil), steps...)
	for i := range out {
		out[i].IdempotencyKey = ""
	}
	return out
}

// assertKeyed checks that every change step carries a key.
func assertKeyed(t *testing.T, steps []Step) {
	t.Helper()
	for _, s := range changeSteps(steps) {
		assert.Regexp(t, `^act_[0-9a-f]{32}$`, s.IdempotencyKey, s.Name)
	}
}

func TestFailedStepResumes(t *testing.T) {
	f, codes := newFake(), &fixedCodes{}
	store := NewMemoryStore()
	f.failNext("CreateWorkspace", &apierror.Error{HTTPStatus: 503})
	build := func() *Activation {
		return base(f, codes).WithStore(store).BindBillingAccount("ada", "ada@example.com").CreateWorkspace(createInfo())
	}
	_, err := build().Run(context.Background())
	var se *StepError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, StepCreateWorkspace, se.Step)
	assert.NotEmpty(t, se.IdempotencyKey)

	plan, err := build().Plan(context.Background())
	require.NoError(t, err)
	assert.True(t, plan.Resuming)
	res, err := build().Run(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "wksp_new", res.WorkspaceID)
	assert.Equal(t, se.IdempotencyKey, f.keys["CreateWorkspace"], "the retry reused the key")
	assert.Len(t, f.sub.Workspaces, 1)
}

func TestCancelledContext(t *testing.T) {
	f := newFake()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := base(f, &fixedCodes{}).Register(registerInfo()).Run(ctx)
	assert.ErrorIs(t, err, context.Canceled)
}

func TestLoggingRedactsSecrets(t *testing.T) {
	var buf bytes.Buffer
	f := newFake()
	f.failNext("CreateWorkspace", &apierror.Error{HTTPStatus: 401, ErrorCode: apierror.CodeTokenExpired})
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	_, err := base(f, &fixedCodes{}).WithLogger(logger).BindBillingAccount("ada", "ada@example.com").
		RegisterAndCreateWorkspace(newAccountInfo()).Run(context.Background())
	require.NoError(t, err)
	out := buf.String()
	assert.Contains(t, out, "activation step finished")
	for _, s := range []string{goodCode, "S3cret-pass", "tok-1", "tok-2"} {
		assert.NotContains(t, out, s)
	}
}

// check is a builder wired to fakes with no branch, no site and no codes.
func check(f *fakeServices) *Activation {
	return NewActivation().withFakes(f).WithClock(sleepClock{t: f.now()})
}

func TestCheckOnlyValidation(t *testing.T) {
	f := newFake()
	require.NoError(t, check(f).Validate(), "no branch, no site, no codes: a check")
	assert.Equal(t, BranchCheck, check(f).branch())
	assert.Contains(t, check(f).String(), "branch: check")

	err := check(f).WithSite("mars1").WithHuaweiAccountID("ABC").Validate()
	var ve *apierror.ValidationError
	require.ErrorAs(t, err, &ve)
	fields := map[string]bool{}
	for _, p := range ve.Problems {
		fields[p.Field] = true
	}
	assert.Equal(t, map[string]bool{"site": true, "huaweiAccountId": true}, fields, "a given site and ID are still checked")

	// Contradictions are refused as before; a branch still needs its inputs.
	assert.ErrorIs(t, check(f).Register(registerInfo()).BindBillingAccount("ada", "ada@example.com").Validate(), apierror.ErrValidation)
	assert.ErrorIs(t, check(f).CreateWorkspace(createInfo()).Validate(), apierror.ErrValidation)
	err = check(f).Register(registerInfo()).Validate()
	require.ErrorAs(t, err, &ve)
	assert.Len(t, ve.Problems, 2)
	assert.Equal(t, "site", ve.Problems[0].Field)
	assert.Equal(t, "codes", ve.Problems[1].Field)
	assert.Empty(t, f.callList())
}

func TestCheckOnly(t *testing.T) {
	t.Run("activated", func(t *testing.T) {
		f := newFake()
		f.sub.Bound, f.sub.BillingAccountID, f.sub.BillingUsername = true, "bcac_9", "someone"
		f.sub.Workspaces = []billing.BoundWorkspace{{ID: "wksp_eu", Name: "eu", Site: SiteEU1}, {ID: "wksp_us", Name: "us", Site: SiteUS1}}
		f.sub.LoginURL = "https://login/eu1"
		store := NewMemoryStore()
		var events []Event
		a := check(f).WithStore(store).WithEvents(func(e Event) { events = append(events, e) })

		plan, err := a.Plan(context.Background())
		require.NoError(t, err)
		assert.Equal(t, BranchCheck, plan.Branch)
		assert.True(t, plan.AlreadyActivated)
		assert.Equal(t, SiteEU1, plan.Site, "the first settled workspace's site, none being chosen")
		assert.Empty(t, plan.ChangeSteps())
		for _, s := range plan.Steps {
			assert.Equal(t, ActionRead, s.Action, "no skipped change steps: a check has none")
		}
		assert.Contains(t, plan.String(), "site eu1, branch check (no branch chosen: read only)")
		assert.NotContains(t, strings.Join(plan.Notes, "\n"), "not the chosen")

		res, err := a.Run(context.Background())
		require.NoError(t, err)
		assert.Equal(t, BranchCheck, res.Branch)
		assert.True(t, res.AlreadyActivated)
		assert.Equal(t, billing.BillingAccount{ID: "bcac_9", Username: "someone"}, res.BillingAccount)
		assert.Equal(t, "wksp_eu", res.WorkspaceID)
		assert.Equal(t, f.sub.Workspaces, res.Workspaces)
		assert.Equal(t, "https://login/eu1", res.LoginURL)
		assert.Equal(t, plan.Steps, res.Steps)
		assert.Zero(t, countEvents(events, StepSkipped))
		assert.Equal(t, 3, countEvents(events, StepFinished), "the three reads")
		cp, err := store.Load(context.Background(), res.ActivationID)
		require.NoError(t, err)
		assert.Nil(t, cp, "a check saves no checkpoint")

		// A chosen site picks the workspace on it.
		res, err = check(f).WithSite(SiteUS1).Run(context.Background())
		require.NoError(t, err)
		assert.Equal(t, "wksp_us", res.WorkspaceID)
		assert.Equal(t, SiteUS1, res.Site)
	})
	t.Run("nothing bound", func(t *testing.T) {
		f := newFake()
		for _, run := range []func(*Activation) error{
			func(a *Activation) error { _, err := a.Plan(context.Background()); return err },
			func(a *Activation) error { _, err := a.Run(context.Background()); return err },
		} {
			err := run(check(f))
			assert.ErrorIs(t, err, ErrNeedsBranch)
			var se *StepError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, StepCheckSubscription, se.Step)
			var nb *NeedsBranchError
			require.ErrorAs(t, err, &nb)
			assert.Equal(t, []Branch{BranchRegister, BranchBindWorkspace, BranchCreateWorkspace, BranchRegisterAndCreate}, nb.Branches)
			assert.Equal(t, testInstanceID, nb.Subscription.InstanceID)
			assert.Contains(t, err.Error(), "no Billing Center account is bound; choose Register")
			assert.Contains(t, err.Error(), "BindBillingAccount")
		}
		assert.Equal(t, []string{"AccountID", "ActiveTrueWatchPurchase", "GetSubscription",
			"AccountID", "ActiveTrueWatchPurchase", "GetSubscription"}, f.callList(), "only reads")
	})
	t.Run("account bound, no workspace", func(t *testing.T) {
		f := newFake()
		f.sub.Bound, f.sub.BillingAccountID, f.sub.BillingUsername = true, "bcac_1", "ada"
		_, err := check(f).Run(context.Background())
		var nb *NeedsBranchError
		require.ErrorAs(t, err, &nb)
		assert.Equal(t, []Branch{BranchBindWorkspace, BranchCreateWorkspace, BranchRegisterAndCreate}, nb.Branches)
		assert.Contains(t, err.Error(), `Billing Center account "ada" is bound but no workspace is settled; finish with BindBillingAccount("ada", email)`)
		assert.NotContains(t, err.Error(), "Register to")
		assert.Equal(t, []string{"AccountID", "ActiveTrueWatchPurchase", "GetSubscription"}, f.callList())
	})
	t.Run("inactive", func(t *testing.T) {
		f := newFake()
		f.sub.Active, f.sub.Status = false, billing.StatusExpired
		_, err := check(f).Run(context.Background())
		assert.ErrorIs(t, err, ErrSubscriptionInactive)
		assert.NotErrorIs(t, err, ErrNeedsBranch)
	})
}

func TestNeedsBranchErrorWithoutSubscription(t *testing.T) {
	err := &NeedsBranchError{}
	assert.Equal(t, ErrNeedsBranch.Error(), err.Error())
	assert.ErrorIs(t, err, ErrNeedsBranch)
}

// TestBranchedBuildersAreIndependent: every With… and branch method returns
// a new builder and leaves its receiver as it was, so activations branched
// from one base never see each other's settings, problems or workspace
// choices, also when branched from several goroutines at once.
func TestBranchedBuildersAreIndependent(t *testing.T) {
	f := newFake()
	root := base(f, &fixedCodes{}).WithHuaweiAccountID(testAccountID).WithInstanceID(testInstanceID)
	us := root.Register(registerInfo())
	eu := root.WithSite(SiteEU1).BindBillingAccount("ada", "ada@example.com").CreateWorkspace(createInfo())
	bad := root.WithStore(nil).WithMaxCodeAttempts(0)

	identity := func(a *Activation) Identity {
		t.Helper()
		id, err := a.Identity()
		require.NoError(t, err)
		return id
	}
	assert.Equal(t, BranchCheck, identity(root).Branch, "the base has no branch")
	assert.Equal(t, SiteUS1, identity(root).Site)
	assert.Equal(t, Identity{ActivationID: activationID(testAccountID, testInstanceID, SiteUS1, BranchRegister),
		HuaweiAccountID: testAccountID, InstanceID: testInstanceID, Site: SiteUS1, Branch: BranchRegister}, identity(us))
	assert.Equal(t, SiteEU1, identity(eu).Site)
	assert.Equal(t, BranchCreateWorkspace, identity(eu).Branch)
	require.Error(t, bad.Validate())
	assert.NoError(t, root.Validate(), "a branch's problems are its own")
	assert.NoError(t, us.Validate())
	assert.NoError(t, eu.Validate())

	// Workspace choices appended from one base do not overwrite each other.
	bound := root.BindBillingAccount("ada", "ada@example.com")
	byID, byName := bound.BindWorkspaceByID("wksp_1"), bound.BindWorkspaceByName("prod")
	assert.NoError(t, byID.Validate())
	assert.NoError(t, byName.Validate())
	assert.Error(t, bound.Validate(), "the base still lacks a workspace choice")
	assert.Error(t, byID.BindWorkspaceByName("prod").Validate(), "a contradiction is still seen")

	// Runs of the branches change only what each was given.
	res, err := eu.Run(context.Background())
	require.NoError(t, err)
	assert.Equal(t, SiteEU1, res.Site)
	assert.Equal(t, 1, count(f.callList(), "CreateWorkspace"))
	assert.Zero(t, count(f.callList(), "Register"))

	var wg sync.WaitGroup
	sites := []Site{SiteUS1, SiteEU1, SiteAP1, SiteZA1, SiteID1}
	got := make([]Site, 40)
	for i := range got {
		wg.Go(func() {
			a := root.WithSite(sites[i%len(sites)]).Register(registerInfo())
			if id, err := a.Identity(); err == nil {
				got[i] = id.Site
			}
		})
	}
	wg.Wait()
	for i, s := range got {
		assert.Equal(t, sites[i%len(sites)], s)
	}
	assert.Equal(t, SiteUS1, identity(root).Site)
}

// TestStalePlanIsRefused: a plan whose subscription changed since, so that
// running it would make a change it does not list, changes nothing and
// returns the plan as it stands now, which runs; a change the plan lists
// that was made meanwhile is found done.
func TestStalePlanIsRefused(t *testing.T) {
	f := newFake()
	f.sub.Bound, f.sub.BillingAccountID, f.sub.BillingUsername = true, "bcac_9", "ada"
	f.sub.Workspaces = []billing.BoundWorkspace{{ID: "wksp_us", Name: "prod", Site: SiteUS1}}
	var events []Event
	a := base(f, &fixedCodes{}).Register(registerInfo()).WithEvents(func(e Event) { events = append(events, e) })
	plan, err := a.Plan(context.Background())
	require.NoError(t, err)
	require.True(t, plan.AlreadyActivated)
	require.Empty(t, plan.ChangeSteps())

	// The workspace and the account are unbound (released, bought again).
	f.sub.Bound, f.sub.BillingAccountID, f.sub.BillingUsername, f.sub.Workspaces = false, "", "", nil
	plan.Steps = nil // what the plan runs is what was planned, not what its holder edits
	calls := len(f.callList())
	_, err = plan.Run(context.Background())
	var stale *StalePlanError
	require.ErrorAs(t, err, &stale)
	assert.ErrorIs(t, err, ErrStalePlan)
	var se *StepError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, StepCheckSubscription, se.Step)
	assert.Equal(t, []StepName{StepRegister}, stale.Unplanned)
	assert.Contains(t, err.Error(), "register")
	assert.Equal(t, []string{"GetSubscription"}, f.callList()[calls:], "only the subscription was read")
	assert.Equal(t, StepFailed, events[len(events)-1].Type)
	require.Len(t, stale.Plan.ChangeSteps(), 1)
	assert.Empty(t, stale.Plan.ChangeSteps()[0].IdempotencyKey, "no key before the secret is saved")

	res, err := stale.Plan.Run(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "wksp_reg", res.WorkspaceID)
	assert.Equal(t, 1, count(f.callList(), "Register"))
	assertKeyed(t, res.Steps)

	// Running a plan whose change was made meanwhile skips it.
	f2 := newFake()
	a2 := base(f2, &fixedCodes{}).Register(registerInfo())
	plan2, err := a2.Plan(context.Background())
	require.NoError(t, err)
	_, err = a2.Run(context.Background())
	require.NoError(t, err)
	res2, err := plan2.Run(context.Background())
	require.NoError(t, err)
	assert.True(t, res2.AlreadyActivated)
	assert.Equal(t, 1, count(f2.callList(), "Register"))
	assert.Equal(t, 2, count(f2.callList(), "AccountID"), "Plan and Run looked up; Plan.Run did not")

	_, err = (&Plan{ActivationID: plan.ActivationID}).Run(context.Background())
	assert.ErrorIs(t, err, ErrPlanNotRunnable)
	var nilPlan *Plan
	_, err = nilPlan.Run(context.Background())
	assert.ErrorIs(t, err, ErrPlanNotRunnable)
	var nilCtx context.Context
	_, err = plan2.Run(nilCtx)
	assert.ErrorIs(t, err, ErrNilContext)
}

// TestFailedRebindFailsItsStep: when the bind that renews a refused token
// gets no valid code, the step fails with that bind's *CodeError, not as
// if the step's own code had been wrong.
func TestFailedRebindFailsItsStep(t *testing.T) {
	f, codes := newFake(), &fixedCodes{codes: []string{goodCode, goodCode, "000001", "000002"}}
	f.failNext("CreateWorkspace", &apierror.Error{HTTPStatus: 401, ErrorCode: apierror.CodeTokenExpired})
	_, err := base(f, codes).WithMaxCodeAttempts(2).BindBillingAccount("ada", "ada@example.com").
		CreateWorkspace(createInfo()).Run(context.Background())
	var se *StepError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, StepCreateWorkspace, se.Step)
	var ce *CodeError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, billing.PurposeBindBillingAccount, ce.Purpose)
	assert.Equal(t, 1, count(f.callList(), "CreateWorkspace"), "the step's call is not made again without a token")
	assert.Len(t, codes.reqs, 4, "one code for the bind, one for the step, two for the rebind")
}

// TestDerivedBuildersShareTheirClients: a builder makes its clients once
// (Plan and Run do not make them again), and a builder derived from it
// keeps those its change does not touch: tenants derived from one base
// share its TrueWatch clients, each with a Huawei client of its own
// credentials.
func TestDerivedBuildersShareTheirClients(t *testing.T) {
	base := NewActivation().WithBillingURL("http://bc.example").WithHuaweiCredentials("AK1", "sk-1")
	clients := func(a *Activation) apis {
		t.Helper()
		var p apierror.Problems
		c := a.clients(&p)
		require.Empty(t, p)
		require.NotNil(t, c.bc)
		return c
	}
	c := clients(base)
	assert.Equal(t, c, clients(base), "made once")

	tenant := clients(base.WithSite(SiteEU1).Register(registerInfo()).WithInstanceID(testInstanceID))
	assert.Equal(t, c, tenant, "identity and branch change no client")
	other := clients(base.WithHuaweiCredentials("AK2", "sk-2"))
	assert.Equal(t, c.bc, other.bc)
	assert.Equal(t, c.ws, other.ws)
	assert.NotEqual(t, c.hw, other.hw, "other credentials, another Huawei client")
	assert.NotEqual(t, c.hw, clients(base.WithHuaweiAccountID(testAccountID)).hw, "the account ID is the Huawei client's domain")
	moved := clients(base.WithBillingURL("http://bc2.example"))
	assert.NotEqual(t, c.bc, moved.bc)
	assert.Equal(t, c.hw, moved.hw)
	logged := clients(base.WithLogger(slog.New(slog.DiscardHandler)))
	assert.NotEqual(t, c.bc, logged.bc, "the logger is every client's")
	assert.NotEqual(t, c.ws, logged.ws)
	assert.NotEqual(t, c.hw, logged.hw)
}
