package truewatch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/internal/rules"
)

// A runner is a state machine. Each state does one thing and names the
// next; the table below is the whole of it. Plan runs identify and check;
// Run runs them all; Plan.Run starts at lease, with the plan's identity.
//
//	state     does                                            next
//	identify  look up the account and instance IDs            lease, check
//	lease     claim the activation's lease (a branch's Run)   check
//	check     checkpoint, subscription, the steps to take     next (Run), done (Plan)
//	next      the next planned step; reads and skips pass     begin, finish
//	begin     step started, lease renewed, secret saved       code, call
//	code      the call's code: a spare, or sent and asked     call, code
//	call      the call, with its code and token               record, code, rebind, rekey
//	rebind    token refused: bind the account again, once     code (the bind's)
//	rekey     bind key refused, or its token expired: next    code
//	record    the step checkpointed, finished                 next
//	finish    the outcome, the checkpoint completed           done
//
// A state that fails returns the error, already reported (a step's
// StepFailed, its *StepError); a step that cannot go on gives up
// (giveUp), which records it when a twin run made the change first.
type state uint8

const (
	sIdentify state = iota
	sLease
	sCheck
	sNext
	sBegin
	sCode
	sCall
	sRebind
	sRekey
	sRecord
	sFinish
	sDone
)

var machine = [...]func(*runner, context.Context) (state, error){
	sIdentify: (*runner).identify,
	sLease:    (*runner).claim,
	sCheck:    (*runner).checkStep,
	sNext:     (*runner).nextStep,
	sBegin:    (*runner).begin,
	sCode:     (*runner).code,
	sCall:     (*runner).call,
	sRebind:   (*runner).rebind,
	sRekey:    (*runner).rekey,
	sRecord:   (*runner).record,
	sFinish:   (*runner).finish,
}

// drive runs the machine from s until done or an error. Once the lease is
// claimed, the states run under its context, which ends when it is lost.
func (r *runner) drive(ctx context.Context, s state) error {
	for s != sDone {
		var err error
		if s, err = machine[s](r, ctx); err != nil {
			return err
		}
		if r.lease != nil {
			ctx = r.lease.ctx
		}
	}
	return nil
}

// identify resolves the activation's identity: the Huawei account and
// instance IDs (looked up when not given) and the activation ID.
func (r *runner) identify(ctx context.Context) (state, error) {
	plan := &Plan{Site: r.a.site, Branch: r.branchName}
	lookups := []struct {
		step StepName
		id   *string
		find func(context.Context) (string, error)
		why  string
	}{
		{StepResolveAccountID, &r.accountID, func(ctx context.Context) (string, error) { return r.hw.accountID(ctx) },
			"Huawei account ID not given: looked up through IAM: "},
		{StepResolveInstanceID, &r.instanceID, func(ctx context.Context) (string, error) { return r.hw.instanceID(ctx) },
			"instance ID not given: the one active TrueWatch purchase is "},
	}
	for _, l := range lookups {
		if *l.id != "" {
			continue
		}
		r.started(ctx, l.step, "")
		id, err := l.find(r.stepContext(ctx, l.step))
		if err != nil {
			return sDone, r.failed(ctx, l.step, "", err)
		}
		*l.id = id
		plan.Steps = append(plan.Steps, Step{Name: l.step, Action: ActionRead, Reason: l.why + id})
		r.finished(ctx, l.step, "", false)
	}
	plan.HuaweiAccountID, plan.InstanceID = r.accountID, r.instanceID
	r.id = activationID(r.accountID, r.instanceID, r.a.site, r.branchName)
	plan.ActivationID = r.id
	r.plan = plan
	return sLease, nil
}

// claim claims the lease of a Run with a branch; a Plan and a check need
// none.
func (r *runner) claim(ctx context.Context) (state, error) {
	if !r.live || r.branchName == BranchCheck {
		return sCheck, nil
	}
	if err := r.claimLease(ctx); err != nil {
		return sDone, r.failed(ctx, StepCheckSubscription, "", err)
	}
	return sCheck, nil
}

// checkStep is StepCheckSubscription: the checkpoint, the subscription and
// the steps that follow (see check), and for Plan.Run whether they are
// still the plan's.
func (r *runner) checkStep(ctx context.Context) (state, error) {
	r.started(ctx, StepCheckSubscription, "")
	sctx := r.stepContext(ctx, StepCheckSubscription)
	err := r.check(sctx, r.plan)
	if err == nil && r.planned != nil {
		err = r.stale()
	}
	if err != nil {
		return sDone, r.failed(ctx, StepCheckSubscription, "", err)
	}
	r.finished(ctx, StepCheckSubscription, "", false)
	if !r.live {
		return sDone, nil
	}
	// The outcome starts from the checkpoint's: the one source of both the
	// Result and every checkpoint saved from now on (see save).
	r.out = outcome{site: r.plan.Site, workspaceID: r.cp.WorkspaceID, loginURL: r.cp.LoginURL}
	if r.cp.BillingAccountID != "" {
		r.out.account = billingAccount(r.cp.BillingAccountID, r.cp.BillingUsername)
	}
	r.notes = r.plan.Notes
	return sNext, nil
}

// nextStep takes the plan's next step: a read is done already, a skip is
// reported, a change begins.
func (r *runner) nextStep(ctx context.Context) (state, error) {
	for ; r.next < len(r.plan.Steps); r.next++ {
		st := r.plan.Steps[r.next]
		switch st.Action {
		case ActionSkip:
			r.log.LogAttrs(ctx, slog.LevelInfo, "activation step skipped", slog.String("activation", r.id),
				slog.String("step", string(st.Name)), slog.String("reason", st.Reason))
			r.emit(Event{Type: StepSkipped, Step: st.Name, Reason: st.Reason})
		case ActionChange:
			r.next++
			r.st, r.replayed = st, false
			return sBegin, nil
		}
		r.steps = append(r.steps, st)
	}
	return sFinish, nil
}

// begin starts a change step: its event, the lease proven, and the key
// secret in the store before the first key is sent, so that a run after a
// crash sends the same keys. The save comes after the lease is proven and
// names the revision loaded: a run that lost the activation to another
// never replaces its secret.
func (r *runner) begin(ctx context.Context) (state, error) {
	r.started(ctx, r.st.Name, r.st.IdempotencyKey)
	if err := r.holdLease(ctx); err != nil {
		return sDone, r.failed(ctx, r.st.Name, r.st.IdempotencyKey, err)
	}
	if !r.saved {
		if err := r.save(ctx); err != nil {
			return sDone, r.failed(ctx, r.st.Name, r.st.IdempotencyKey, err)
		}
	}
	r.op = r.newOp(r.st.Name, false)
	if r.op.purpose == "" {
		return sCall, nil
	}
	return sCode, nil
}

// code gets the code for the call: first a spare (a code sent with a call
// the server did not do), else one sent now, and asks the provider for it;
// a malformed code, or one already refused, is asked for again. After
// WithMaxCodeAttempts codes, a *CodeError.
func (r *runner) code(ctx context.Context) (state, error) {
	o, sctx := r.op, r.stepContext(ctx, r.st.Name)
	if !o.begun {
		o.begun = true
		if code, ok := r.spare[codeKey(o.email, o.purpose)]; ok {
			delete(r.spare, codeKey(o.email, o.purpose))
			if err := r.holdLease(sctx); err != nil {
				return r.giveUp(ctx, err)
			}
			o.code, o.spare = code, true
			return sCall, nil
		}
	}
	if !o.sent {
		// cur.earlier: the code in the inbox predates this run; a new one
		// was refused because one was sent moments ago.
		cur, err := r.sendCode(sctx, o.email, o.purpose, false)
		if err != nil {
			return r.giveUp(ctx, err)
		}
		o.sent, o.cur = true, cur
		if cur.earlier {
			o.reason = fmt.Sprintf("no new code was sent: the %s code sent to %s less than a minute ago, before this run, is still valid",
				o.purpose, o.email)
			if !cur.expiresAt.IsZero() {
				o.reason += " until " + cur.expiresAt.UTC().Format("15:04:05 UTC")
			}
			o.reason += "; enter that one"
		}
	}
	if o.attempt >= r.attempts {
		return r.giveUp(ctx, &CodeError{Email: o.email, Purpose: o.purpose, Attempts: r.attempts, Err: o.last})
	}
	o.attempt++
	req := CodeRequest{Email: o.email, Purpose: o.purpose, Attempt: o.attempt, Reason: o.reason,
		Earlier: o.cur.earlier, ExpiresAt: o.cur.expiresAt}
	r.emit(Event{Type: CodeRequested, Step: r.st.Name, Attempt: o.attempt, Reason: o.reason})
	r.log.LogAttrs(ctx, slog.LevelInfo, "verification code requested", slog.String("step", string(r.st.Name)),
		slog.String("purpose", string(o.purpose)), slog.Int("attempt", o.attempt))
	code, err := r.a.codes(sctx, req)
	if err != nil {
		return r.giveUp(ctx, fmt.Errorf("verification code for %s: %w", o.email, err))
	}
	var p apierror.Problems
	rules.Code(&p, "emailCode", code.Reveal())
	if err := p.Err("VerificationCode"); err != nil {
		o.last, o.reason = err, fmt.Sprintf("the code must be %d digits", rules.CodeLength)
		return sCode, nil
	}
	if slices.Contains(o.refused, code) {
		// The provider gave a code already refused (a mailbox whose latest
		// code was used up meanwhile, by another run of this activation):
		// only a new code can work.
		o.reason = "that code was already refused; a new one was sent"
		return r.resend(ctx)
	}
	// Waiting for a code may take long: prove the lease again before the change.
	if err := r.holdLease(sctx); err != nil {
		return r.giveUp(ctx, err)
	}
	o.code = code
	return sCall, nil
}

// resend sends a new code, unless the last attempt is used up, and asks
// for it.
func (r *runner) resend(ctx context.Context) (state, error) {
	o := r.op
	if o.attempt < r.attempts {
		cur, err := r.sendCode(r.stepContext(ctx, r.st.Name), o.email, o.purpose, true)
		if err != nil {
			return r.giveUp(ctx, err)
		}
		o.cur = cur
	}
	return sCode, nil
}

// call makes the op's call and decides what its answer means: the token
// refused (rebind, once), the code wrong or expired (another code), the
// bind's key refused or its replayed token expired (rekey), success
// (record, or back to the step after a rebind), anything else (give up).
func (r *runner) call(ctx context.Context) (state, error) {
	o := r.op
	meta, err := calls[o.kind](r, r.stepContext(ctx, r.st.Name), o)
	if o.token && !r.rebound && errors.Is(err, apierror.ErrUnauthorized) {
		return sRebind, nil
	}
	invalid, expired := errors.Is(err, apierror.ErrInvalidCode), errors.Is(err, apierror.ErrCodeExpired)
	switch {
	case o.purpose == "":
	case o.spare:
		// A spare that did not work is replaced by a code sent now.
		o.spare = false
		if invalid || expired {
			return sCode, nil
		}
	case err == nil:
	case expired || o.cur.earlier && invalid:
		if invalid {
			o.refused = append(o.refused, o.code)
		}
		o.last, o.reason = err, "the code expired; a new one was sent"
		return r.resend(ctx)
	case invalid:
		o.refused = append(o.refused, o.code)
		o.last, o.reason = err, "the code was wrong"
		return sCode, nil
	}
	if o.kind == StepBindBillingAccount {
		switch {
		case errors.Is(err, apierror.ErrIdempotencyKeyReused):
			return r.nextKey(ctx, err, "an earlier run sent the previous key with different inputs")
		case err == nil && meta.Replayed && !r.tokenExpires.IsZero() && !r.tokenExpires.After(r.clock.Now()):
			return r.nextKey(ctx, nil, "the token replayed for the previous key has expired")
		}
	}
	if err != nil {
		return r.giveUp(ctx, err)
	}
	if !o.rebind {
		r.replayed = meta.Replayed
		return sRecord, nil
	}
	// The token is renewed: back to the step's own call, with its code.
	reason := tokenRefused
	if len(o.why) > 0 {
		reason += "; " + strings.Join(o.why, "; ")
	}
	r.steps = append(r.steps, Step{Name: StepBindBillingAccount, Action: ActionChange,
		IdempotencyKey: o.key, Reason: reason, Replayed: meta.Replayed})
	if err := r.save(ctx); err != nil {
		return r.giveUp(ctx, err)
	}
	r.op, r.paused = r.paused, nil
	return sCall, nil
}

// nextKey moves the bind to the next key (rekey), or gives up after
// maxBindGenerations keys. Binding an account again changes nothing, so a
// fresh key never binds twice.
func (r *runner) nextKey(ctx context.Context, err error, reason string) (state, error) {
	o := r.op
	if o.tries == maxBindGenerations {
		if err == nil {
			err = fmt.Errorf("%s after %d keys", reason, o.tries)
		}
		return r.giveUp(ctx, err)
	}
	o.why = append(o.why, reason)
	return sRekey, nil
}

// rekey binds again under the next key, trying the code first.
func (r *runner) rekey(ctx context.Context) (state, error) {
	o := r.op
	r.cp.BindGeneration++
	reason := o.why[len(o.why)-1]
	r.log.LogAttrs(ctx, slog.LevelWarn, "activation binding again under a new key", slog.String("activation", r.id),
		slog.String("step", string(r.st.Name)), slog.String("reason", reason),
		slog.String("idempotencyKey", r.key(StepBindBillingAccount, r.cp.BindGeneration)))
	r.emit(Event{Type: Retrying, Step: r.st.Name, Attempt: o.tries, Reason: reason + "; binding again under a new key"})
	*o = op{kind: o.kind, email: o.email, purpose: o.purpose, rebind: o.rebind, tries: o.tries + 1, why: o.why}
	return sCode, nil
}

// tokenRefused is why a step binds the Billing Center account again.
const tokenRefused = "the Billing Center token was refused; binding the account again for a new one"

// rebind binds the Billing Center account again, under the next key, for
// a new token, once per run (the token expired during a long run, or a
// replayed bind returned one the server no longer accepts); the step's
// call is then made again.
func (r *runner) rebind(ctx context.Context) (state, error) {
	r.rebound = true
	r.cp.BindGeneration++
	r.log.LogAttrs(ctx, slog.LevelWarn, "activation token refused", slog.String("activation", r.id),
		slog.String("step", string(r.st.Name)))
	r.emit(Event{Type: Retrying, Step: r.st.Name, Attempt: 1, Reason: tokenRefused})
	r.paused, r.op = r.op, r.newOp(StepBindBillingAccount, true)
	return sCode, nil
}

// giveUp ends a step that cannot go on: taken as done when a twin run
// made the change first (foundDone), else failed.
func (r *runner) giveUp(ctx context.Context, err error) (state, error) {
	r.keyReasons()
	if r.foundDone(r.stepContext(ctx, r.st.Name), err) {
		r.st.FoundDone, r.replayed = true, false
		r.st.Reason += "; another run of this activation made this change first, and the subscription is as this run wanted it"
		return sRecord, nil
	}
	return sDone, r.failed(ctx, r.st.Name, r.st.IdempotencyKey, err)
}

// keyReasons adds to a bind step's reason why it moved to new keys.
func (r *runner) keyReasons() {
	if o := r.stepOp(); o.kind == StepBindBillingAccount && len(o.why) > 0 {
		r.st.Reason += "; bound under a new key: " + strings.Join(o.why, "; ")
		o.why = nil
	}
}

// stepOp is the step's own op, also while a rebind has paused it.
func (r *runner) stepOp() *op {
	if r.paused != nil {
		return r.paused
	}
	return r.op
}

// record checkpoints a change step.
func (r *runner) record(ctx context.Context) (state, error) {
	r.keyReasons()
	r.st.Replayed = r.replayed
	r.steps = append(r.steps, r.st)
	r.cp.Steps = append(r.cp.Steps, r.st)
	r.cp.Failure = nil
	if err := r.save(ctx); err != nil {
		return sDone, r.failed(ctx, r.st.Name, r.st.IdempotencyKey, err)
	}
	r.finished(ctx, r.st.Name, r.st.IdempotencyKey, r.replayed)
	return sNext, nil
}

// finish completes the outcome (from the subscription, when it was
// activated already) and the checkpoint.
func (r *runner) finish(ctx context.Context) (state, error) {
	if r.plan.AlreadyActivated {
		w := r.settledWorkspace()
		r.out.account = billingAccount(r.sub.BillingAccountID, r.sub.BillingUsername)
		r.out.workspaceID, r.out.site = w.ID, w.Site
		r.out.workspaces = slices.Clone(r.sub.Workspaces)
		if r.sub.LoginURL != "" {
			r.out.loginURL = r.sub.LoginURL
		}
	}
	if r.branchName != BranchCheck {
		r.cp.Completed, r.cp.Failure = true, nil
		if err := r.save(ctx); err != nil {
			return sDone, err
		}
	}
	r.log.LogAttrs(ctx, slog.LevelInfo, "activation finished", slog.String("activation", r.id),
		slog.Bool("alreadyActivated", r.plan.AlreadyActivated), slog.String("workspace", r.out.workspaceID),
		slog.String("site", string(r.out.site)))
	return sDone, nil
}
