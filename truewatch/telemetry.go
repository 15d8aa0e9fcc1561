package truewatch

import (
	"context"
	"errors"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/huawei"
	"github.com/truewatch-labs/marketplace-go/internal/telemetry"
	"github.com/truewatch-labs/marketplace-go/workspace"
)

// The spans of an activation (names and attributes are in
// docs/observability.md):
//
//	truewatch.activation.run (or .plan)      one per Run or Plan: activation ID, branch, site
//	  truewatch.step.check_subscription      one per step, read or change
//	    GET                                  one CLIENT span per HTTP attempt (billing, workspace, huawei)
//	    POST                                 a retry is a sibling, with http.request.resend_count
//	  truewatch.step.register
//	    ...
//
// A run that resumes a checkpoint links to the run that saved it
// (Checkpoint.LastRun). Retries, waits, code requests and skipped steps
// are span events. No span or event carries a secret, the KeySecret or an
// idempotency key.

// Span names.
const (
	spanRun        = "truewatch.activation.run"
	spanPlan       = "truewatch.activation.plan"
	spanStepPrefix = "truewatch.step."
)

// WithTracerProvider traces Plan and Run: a span per activation and per
// step, under which the clients the builder makes (billing, workspace,
// huawei) trace each HTTP attempt; given clients (WithBillingClient, ...)
// keep their own provider, and their attempts still nest under the step,
// through the context. Default: the global provider, a no-op until the
// application sets one.
func (a *Activation) WithTracerProvider(tp trace.TracerProvider) *Activation {
	if tp == nil {
		return a.problem("tracerProvider", "is nil")
	}
	return a.with(func(c *Activation) { c.telemetry.Tracer = tp })
}

// WithMeterProvider measures Run (activations started, completed and
// failed by branch and error code, step durations, verification codes
// requested) and, for the clients the builder makes, every HTTP attempt
// and retry. Default: the global provider, a no-op until the application
// sets one.
func (a *Activation) WithMeterProvider(mp metric.MeterProvider) *Activation {
	if mp == nil {
		return a.problem("meterProvider", "is nil")
	}
	return a.with(func(c *Activation) { c.telemetry.Meter = mp })
}

// billingTelemetry, workspaceTelemetry and huaweiTelemetry hand the
// builder's providers to the clients it makes.
func (a *Activation) billingTelemetry() []billing.Option {
	var o []billing.Option
	if a.telemetry.Tracer != nil {
		o = append(o, billing.WithTracerProvider(a.telemetry.Tracer))
	}
	if a.telemetry.Meter != nil {
		o = append(o, billing.WithMeterProvider(a.telemetry.Meter))
	}
	return o
}

func (a *Activation) workspaceTelemetry() []workspace.Option {
	var o []workspace.Option
	if a.telemetry.Tracer != nil {
		o = append(o, workspace.WithTracerProvider(a.telemetry.Tracer))
	}
	if a.telemetry.Meter != nil {
		o = append(o, workspace.WithMeterProvider(a.telemetry.Meter))
	}
	return o
}

func (a *Activation) huaweiTelemetry() []huawei.Option {
	var o []huawei.Option
	if a.telemetry.Tracer != nil {
		o = append(o, huawei.WithTracerProvider(a.telemetry.Tracer))
	}
	if a.telemetry.Meter != nil {
		o = append(o, huawei.WithMeterProvider(a.telemetry.Meter))
	}
	return o
}

// TraceRef identifies, for tracing only, the run that saved a checkpoint:
// the W3C trace and span IDs (lower-case hex) of its activation span. It
// is not a secret. A later run links its span to it, so that a trace
// viewer leads from a resumed run to the one it resumes.
type TraceRef struct {
	TraceID string `json:"traceId"`
	SpanID  string `json:"spanId"`
}

// spanContext is the ref as a remote span context, invalid when the ref
// is empty or malformed.
func (t TraceRef) spanContext() trace.SpanContext {
	tid, err1 := trace.TraceIDFromHex(t.TraceID)
	sid, err2 := trace.SpanIDFromHex(t.SpanID)
	if err1 != nil || err2 != nil {
		return trace.SpanContext{}
	}
	return trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, Remote: true})
}

// activationMetrics are the instruments of Run.
type activationMetrics struct {
	started, completed, failed metric.Int64Counter
	codes                      metric.Int64Counter
	stepDuration               metric.Float64Histogram
}

func newActivationMetrics(m metric.Meter) activationMetrics {
	return activationMetrics{
		started:   telemetry.Counter(m, "marketplace.activation.started", "{activation}", "Activation runs started, by branch."),
		completed: telemetry.Counter(m, "marketplace.activation.completed", "{activation}", "Activation runs completed, by branch."),
		failed:    telemetry.Counter(m, "marketplace.activation.failed", "{activation}", "Activation runs failed, by branch and error code."),
		codes: telemetry.Counter(m, "marketplace.activation.verification_codes", "{code}",
			"Verification codes the activation asked its CodeProvider for, by branch and step."),
		stepDuration: telemetry.Seconds(m, "marketplace.activation.step.duration",
			"Duration of activation steps, by branch, step, action and outcome."),
	}
}

// runTelemetry is the spans and instruments of one Plan or Run. The runner
// is single-threaded, so it keeps the open step as plain fields.
type runTelemetry struct {
	tracer  trace.Tracer
	m       activationMetrics
	live    bool // Run: metrics too
	branch  Branch
	root    trace.Span
	rootCtx context.Context

	step      trace.Span // the open step, or nil
	stepName  StepName
	stepCtx   context.Context
	stepStart time.Time
	linked    bool
}

func newRunTelemetry(p telemetry.Providers, live bool, branch Branch) *runTelemetry {
	t := &runTelemetry{tracer: p.NewTracer(), live: live, branch: branch}
	if live {
		t.m = newActivationMetrics(p.NewMeter())
	}
	return t
}

func (t *runTelemetry) branchAttr() attribute.KeyValue {
	return telemetry.ActivationBranch.String(string(t.branch))
}

// begin starts the activation's span and counts the run as started.
func (t *runTelemetry) begin(ctx context.Context, site Site) context.Context {
	name := spanPlan
	if t.live {
		name = spanRun
	}
	attrs := []attribute.KeyValue{t.branchAttr()}
	if site != "" {
		attrs = append(attrs, telemetry.ActivationSite.String(string(site)))
	}
	t.rootCtx, t.root = t.tracer.Start(ctx, name, trace.WithAttributes(attrs...))
	if t.live {
		t.m.started.Add(t.rootCtx, 1, metric.WithAttributes(t.branchAttr()))
	}
	return t.rootCtx
}

// end ends the activation's span with what the run found (the plan, the
// result, either nil), and counts the run as completed or failed.
func (t *runTelemetry) end(r *runner, plan *Plan, res *Result, err error) {
	site, resumed, already := r.a.site, false, false
	if plan != nil {
		site, resumed, already = plan.Site, plan.Resuming, plan.AlreadyActivated
	}
	if res != nil && res.Site != "" {
		site = res.Site
	}
	if r.id != "" {
		t.root.SetAttributes(telemetry.ActivationID.String(r.id))
	}
	if site != "" {
		t.root.SetAttributes(telemetry.ActivationSite.String(string(site)))
	}
	t.root.SetAttributes(telemetry.ActivationResumed.Bool(resumed), telemetry.ActivationAlreadyActivated.Bool(already))
	if t.step != nil {
		t.endStep(t.stepName, err, false)
	}
	if t.live {
		if err != nil {
			attrs := []attribute.KeyValue{t.branchAttr()}
			attrs = append(attrs, telemetry.ErrorAttributes(err)[:1]...) // error.type only: bounded
			if code := errorCode(err); code != "" {
				attrs = append(attrs, telemetry.ErrorCode.String(code))
			}
			t.m.failed.Add(t.rootCtx, 1, metric.WithAttributes(attrs...))
		} else {
			t.m.completed.Add(t.rootCtx, 1, metric.WithAttributes(t.branchAttr(),
				telemetry.ActivationAlreadyActivated.Bool(already)))
		}
	}
	telemetry.RecordError(t.root, err)
	t.root.End()
}

// link links the activation's span to the run that saved the checkpoint.
func (t *runTelemetry) link(prev TraceRef) {
	sc := prev.spanContext()
	if t.linked || !sc.IsValid() || sc.TraceID() == t.root.SpanContext().TraceID() && sc.SpanID() == t.root.SpanContext().SpanID() {
		return
	}
	t.linked = true
	t.root.AddLink(trace.Link{SpanContext: sc, Attributes: []attribute.KeyValue{telemetry.LinkType.String("previous_run")}})
}

// ref is the activation span's TraceRef, empty without a valid span.
func (t *runTelemetry) ref() TraceRef {
	sc := t.root.SpanContext()
	if !sc.IsValid() {
		return TraceRef{}
	}
	return TraceRef{TraceID: sc.TraceID().String(), SpanID: sc.SpanID().String()}
}

// startStep opens the span of a step, ending one still open.
func (t *runTelemetry) startStep(ctx context.Context, name StepName) {
	if t.step != nil {
		t.endStep(t.stepName, nil, false)
	}
	t.stepName, t.stepStart = name, time.Now()
	t.stepCtx, t.step = t.tracer.Start(ctx, spanStepPrefix+string(name), trace.WithAttributes(
		telemetry.Step.String(string(name)), telemetry.StepAction.String(string(stepAction(name)))))
}

// inStep puts the open step's span in ctx, so that the calls the step
// makes are its children.
func (t *runTelemetry) inStep(ctx context.Context) context.Context {
	if t.step == nil {
		return ctx
	}
	return trace.ContextWithSpan(ctx, t.step)
}

// endStep ends the span of step name, if it is the one open, and records
// its duration.
func (t *runTelemetry) endStep(name StepName, err error, replayed bool) {
	if t.step == nil || t.stepName != name {
		return
	}
	span, ctx := t.step, t.stepCtx
	t.step, t.stepCtx = nil, nil
	if replayed {
		span.SetAttributes(telemetry.StepReplayed.Bool(true))
	}
	telemetry.RecordError(span, err)
	span.End()
	if t.live {
		outcome := "ok"
		if err != nil {
			outcome = "error"
		}
		t.m.stepDuration.Record(ctx, time.Since(t.stepStart).Seconds(), metric.WithAttributes(t.branchAttr(),
			telemetry.Step.String(string(name)), telemetry.StepAction.String(string(stepAction(name))),
			attribute.String("marketplace.step.outcome", outcome)))
	}
}

// event records a runner event on the open step's span (or the
// activation's) and counts code requests. Step starts, ends and failures
// are the spans themselves.
func (t *runTelemetry) event(e Event) {
	span, ctx := t.step, t.stepCtx
	if span == nil || e.Step != t.stepName {
		span, ctx = t.root, t.rootCtx
	}
	if span == nil {
		return
	}
	attrs := []attribute.KeyValue{telemetry.Step.String(string(e.Step))}
	switch e.Type {
	case Retrying:
		attrs = append(attrs, attribute.Int("marketplace.retry.attempt", e.Attempt),
			attribute.String("marketplace.retry.detail", e.Reason), attribute.Float64("marketplace.retry.wait_seconds", e.Wait.Seconds()))
		span.AddEvent("retry", trace.WithAttributes(attrs...))
	case CodeRequested:
		attrs = append(attrs, attribute.Int("marketplace.verification_code.attempt", e.Attempt))
		if e.Reason != "" {
			attrs = append(attrs, attribute.String("marketplace.verification_code.reason", e.Reason))
		}
		span.AddEvent("verification_code_requested", trace.WithAttributes(attrs...))
		if t.live {
			t.m.codes.Add(ctx, 1, metric.WithAttributes(t.branchAttr(), telemetry.Step.String(string(e.Step))))
		}
	case StepSkipped:
		span.AddEvent("step_skipped", trace.WithAttributes(append(attrs, attribute.String("marketplace.step.reason", e.Reason))...))
	}
}

// stepAction is what a step does, for its span: change steps send an
// idempotency key.
func stepAction(name StepName) Action {
	switch name {
	case StepRegister, StepBindBillingAccount, StepBindWorkspace, StepCreateWorkspace, StepRegisterAndCreate:
		return ActionChange
	}
	return ActionRead
}

// errorCode is the service's error code in err, or "".
func errorCode(err error) string {
	var ae *apierror.Error
	if errors.As(err, &ae) {
		return ae.ErrorCode
	}
	return ""
}
