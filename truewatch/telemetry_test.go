package truewatch_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/internal/oteltest"
	"github.com/truewatch-labs/marketplace-go/internal/telemetry"
	"github.com/truewatch-labs/marketplace-go/mockserver"
	"github.com/truewatch-labs/marketplace-go/truewatch"
)

// tracedEnv is an env whose mock and activations report to one harness.
func tracedEnv(t *testing.T) (*env, *oteltest.Harness) {
	h := oteltest.New(t)
	return newEnv(t, mockserver.WithTracerProvider(h.Tracer), mockserver.WithMeterProvider(h.Meter)), h
}

func traced(a *truewatch.Activation, h *oteltest.Harness) *truewatch.Activation {
	return a.WithTracerProvider(h.Tracer).WithMeterProvider(h.Meter)
}

// shape renders the tree under span: each span's name, c or s for a
// client or server span, and its operation, one a line, indented.
func shape(h *oteltest.Harness, span sdktrace.ReadOnlySpan) string {
	var b strings.Builder
	var walk func(s sdktrace.ReadOnlySpan, depth int)
	walk = func(s sdktrace.ReadOnlySpan, depth int) {
		b.WriteString(strings.Repeat("  ", depth) + s.Name())
		switch s.SpanKind() {
		case trace.SpanKindClient:
			b.WriteString(" c")
		case trace.SpanKindServer:
			b.WriteString(" s")
		}
		if op := oteltest.Str(s, telemetry.Operation); op != "" && s.SpanKind() == trace.SpanKindClient {
			b.WriteString(" " + op)
		}
		b.WriteByte('\n')
		for _, c := range h.Children(s) {
			walk(c, depth+1)
		}
	}
	walk(span, 0)
	return b.String()
}

// The trees of the calls, as the mock's server spans nest under the
// clients' attempts (a proof of ownership is checked through the mock's
// own STS, so that server span nests under the Billing Center's).
const (
	treeDiscover = `  truewatch.step.resolve_account_id
    GET c KeystoneListAuthDomains
      GET /v3/auth/domains s
  truewatch.step.resolve_instance_id
    POST c ListPayPerUseCustomerResources
      POST /v2/orders/suscriptions/resources/query s
  truewatch.step.check_subscription
    GET c GetSubscription
      GET /billing-center/api/v1/subscription/get s
        GET /v5/caller-identity s
`
	treeSendCode = `    POST c SendVerificationCode
      POST /billing-center/api/v1/verification_code/send s
`
	treeBindAccount = `  truewatch.step.bind_billing_account
` + treeSendCode + `    POST c BindBillingAccount
      POST /billing-center/api/v1/billing_account/bind s
        GET /v5/caller-identity s
`
	treeBindWorkspace = `  truewatch.step.bind_workspace
    GET c ListBindableWorkspaces
      GET /billing-center/api/v1/billing_account/workspace/list s
    POST c BindWorkspace
      POST /billing-center/api/v1/billing_account/workspace/bind s
`
)

// branchTrees are the change steps' trees of each branch, by name.
var branchTrees = map[string]string{
	"register": `  truewatch.step.register
` + treeSendCode + `    POST c Register
      POST /billing-center/api/v1/account/register s
        GET /v5/caller-identity s
`,
	"bind account, create workspace": treeBindAccount + `  truewatch.step.create_workspace
` + treeSendCode + `    POST c CreateWorkspace
      POST /sites/{site}/console-api/api/v1/workspace/create s
`,
	"bind account, register and create workspace": treeBindAccount + `  truewatch.step.register_and_create_workspace
` + treeSendCode + `    POST c RegisterAndCreate
      POST /sites/{site}/console-api/api/v1/workspace/register_and_create s
`,
	"bind account, bind workspace by ID":   treeBindAccount + treeBindWorkspace,
	"bind account, bind workspace by name": treeBindAccount + treeBindWorkspace,
}

// TestTraceEveryBranch: a Plan and a Run of every branch, then a run of
// the activated subscription, each as one trace: a span per activation,
// one per step, one CLIENT span per HTTP attempt under its step (IAM and
// BSS through the official SDK included), each joined by the mock's
// SERVER span; the second run links to the first; and the metrics count
// what happened.
func TestTraceEveryBranch(t *testing.T) {
	for _, b := range branches {
		t.Run(b.name, func(t *testing.T) {
			e, h := tracedEnv(t)
			wsID := b.seed(e)
			_, err := traced(b.build(e.builder(), wsID), h).Plan(context.Background())
			require.NoError(t, err)
			plan := h.One(t, "truewatch.activation.plan")
			assert.Equal(t, "truewatch.activation.plan\n"+treeDiscover, shape(h, plan), "a Plan traces its reads")

			res, err := traced(b.build(e.builder(), wsID), h).Run(context.Background())
			require.NoError(t, err)
			run := h.One(t, "truewatch.activation.run")
			assert.Equal(t, "truewatch.activation.run\n"+treeDiscover+branchTrees[b.name], shape(h, run))
			assert.Equal(t, res.ActivationID, oteltest.Str(run, telemetry.ActivationID))
			assert.Equal(t, string(res.Branch), oteltest.Str(run, telemetry.ActivationBranch))
			assert.Equal(t, "us1", oteltest.Str(run, telemetry.ActivationSite))
			assert.Equal(t, "false", oteltest.Str(run, telemetry.ActivationAlreadyActivated))
			assert.Equal(t, "false", oteltest.Str(run, telemetry.ActivationResumed))
			assert.Equal(t, codes.Unset, run.Status().Code)
			assert.Empty(t, run.Links(), "the first run links to nothing")
			assert.NotEqual(t, plan.SpanContext().TraceID(), run.SpanContext().TraceID(), "Plan and Run are separate traces")
			for _, s := range h.Spans() {
				if s.SpanContext().TraceID() == run.SpanContext().TraceID() {
					assert.NotEqual(t, codes.Error, s.Status().Code, "%s failed", oteltest.Line(s))
				}
			}
			for _, st := range h.Children(run) {
				require.True(t, strings.HasPrefix(st.Name(), "truewatch.step."), st.Name())
				name := strings.TrimPrefix(st.Name(), "truewatch.step.")
				assert.Equal(t, name, oteltest.Str(st, telemetry.Step))
				for _, step := range res.Steps {
					if string(step.Name) == name {
						assert.Equal(t, string(step.Action), oteltest.Str(st, telemetry.StepAction), name)
					}
				}
			}

			// Already activated: the checks only, the change steps as
			// skip events, and a link to the run that saved the checkpoint.
			again, err := traced(b.build(e.builder(), wsID), h).Run(context.Background())
			require.NoError(t, err)
			require.True(t, again.AlreadyActivated)
			runs := h.Named("truewatch.activation.run")
			require.Len(t, runs, 2)
			second := runs[1]
			assert.Equal(t, "truewatch.activation.run\n"+treeDiscover, shape(h, second))
			assert.Equal(t, "true", oteltest.Str(second, telemetry.ActivationAlreadyActivated))
			require.Len(t, second.Links(), 1)
			assert.Equal(t, run.SpanContext().TraceID(), second.Links()[0].SpanContext.TraceID())
			assert.Equal(t, run.SpanContext().SpanID(), second.Links()[0].SpanContext.SpanID())
			assert.Contains(t, second.Links()[0].Attributes, telemetry.LinkType.String("previous_run"))
			var skipped []string
			for _, ev := range second.Events() {
				if ev.Name == "step_skipped" {
					for _, kv := range ev.Attributes {
						if kv.Key == telemetry.Step {
							skipped = append(skipped, kv.Value.AsString())
						}
					}
				}
			}
			assert.Len(t, skipped, len(changeSteps(res.Steps)), "each change step is a skip event")

			rm := h.Collect(t)
			branch := telemetry.ActivationBranch.String(string(res.Branch))
			assert.Equal(t, 2.0, oteltest.Sum(rm, "marketplace.activation.started", branch), "Plan is not an activation")
			assert.Equal(t, 2.0, oteltest.Sum(rm, "marketplace.activation.completed", branch))
			assert.Equal(t, 1.0, oteltest.Sum(rm, "marketplace.activation.completed", branch, telemetry.ActivationAlreadyActivated.Bool(true)))
			assert.Zero(t, oteltest.Sum(rm, "marketplace.activation.failed"))
			for _, step := range changeSteps(res.Steps) {
				assert.Equal(t, 1.0, oteltest.Sum(rm, "marketplace.activation.step.duration", branch,
					telemetry.Step.String(string(step.Name)), attribute.String("marketplace.step.outcome", "ok")), step.Name)
			}
			assert.Equal(t, 2.0, oteltest.Sum(rm, "marketplace.activation.step.duration", telemetry.Step.String("check_subscription")))
			codeSteps := strings.Count(branchTrees[b.name], "SendVerificationCode")
			assert.Equal(t, float64(codeSteps), oteltest.Sum(rm, "marketplace.activation.verification_codes", branch))
			clients, servers := 0, 0
			for _, s := range h.Spans() {
				switch s.SpanKind() {
				case trace.SpanKindClient:
					clients++
				case trace.SpanKindServer:
					servers++
				}
			}
			assert.Equal(t, float64(clients), oteltest.Sum(rm, "http.client.request.duration"))
			assert.Equal(t, float64(servers), oteltest.Sum(rm, "marketplace.mock.requests"))
			assert.Equal(t, float64(servers), oteltest.Sum(rm, "http.server.request.duration"))
			m, ok := oteltest.Metric(rm, "marketplace.activation.step.duration")
			require.True(t, ok)
			assert.Equal(t, "s", m.Unit)
		})
	}
}

// TestTraceCheck: a check of an activated subscription completes; of one
// that is not, fails with its error type, on the step and the activation.
func TestTraceCheck(t *testing.T) {
	e, h := tracedEnv(t)
	_, err := traced(e.checker(), h).Run(context.Background())
	require.ErrorIs(t, err, truewatch.ErrNeedsBranch)
	run := h.One(t, "truewatch.activation.run")
	assert.Equal(t, "truewatch.activation.run\n"+treeDiscover, shape(h, run))
	assert.Equal(t, codes.Error, run.Status().Code)
	assert.Equal(t, "check", oteltest.Str(run, telemetry.ActivationBranch))
	check := h.One(t, "truewatch.step.check_subscription")
	assert.Equal(t, codes.Error, check.Status().Code)
	require.NotEmpty(t, check.Events())
	assert.Equal(t, "exception", check.Events()[0].Name)
	errType := oteltest.Str(run, semconv.ErrorTypeKey)
	assert.NotEmpty(t, errType)
	rm := h.Collect(t)
	assert.Equal(t, 1.0, oteltest.Sum(rm, "marketplace.activation.failed", telemetry.ActivationBranch.String("check"),
		semconv.ErrorTypeKey.String(errType)))

	_, err = traced(branches[0].build(e.builder(), ""), h).Run(context.Background())
	require.NoError(t, err)
	res, err := traced(e.checker(), h).Run(context.Background())
	require.NoError(t, err)
	require.True(t, res.AlreadyActivated)
	runs := h.Named("truewatch.activation.run")
	last := runs[len(runs)-1]
	assert.Equal(t, codes.Unset, last.Status().Code)
	assert.Equal(t, "true", oteltest.Str(last, telemetry.ActivationAlreadyActivated))
	assert.Equal(t, 1.0, oteltest.Sum(h.Collect(t), "marketplace.activation.completed", telemetry.ActivationBranch.String("check")))
}

// TestTraceRetriesAndALostResponse: the registration is refused once
// before the work (503), then its answer is lost after the work (502),
// then replayed: three CLIENT spans under the register step, the retries
// numbered, each with the mock's span and its status, the step marked
// replayed and its retries as events; the retries are counted by reason.
func TestTraceRetriesAndALostResponse(t *testing.T) {
	e, h := tracedEnv(t)
	_, err := e.srv.InjectFault(mockserver.Fault{Path: registerPath, Status: http.StatusServiceUnavailable})
	require.NoError(t, err)
	_, err = e.srv.InjectFault(mockserver.Fault{Path: registerPath, Status: http.StatusBadGateway, AfterHandler: true})
	require.NoError(t, err)
	res, err := traced(branches[0].build(e.builder(), ""), h).Run(context.Background())
	require.NoError(t, err)
	require.True(t, changeSteps(res.Steps)[0].Replayed)

	step := h.One(t, "truewatch.step.register")
	assert.Equal(t, `  truewatch.step.register
`+treeSendCode+`    POST c Register
      POST /billing-center/api/v1/account/register s
    POST c Register
      POST /billing-center/api/v1/account/register s
        GET /v5/caller-identity s
    POST c Register
      POST /billing-center/api/v1/account/register s
        GET /v5/caller-identity s
`, "  "+strings.ReplaceAll(strings.TrimSuffix(shape(h, step), "\n"), "\n", "\n  ")+"\n", "the refused attempt never reached the handler; the lost one did")
	assert.Equal(t, "true", oteltest.Str(step, telemetry.StepReplayed))
	assert.Equal(t, codes.Unset, step.Status().Code, "the step succeeded")
	attempts := h.Children(step)[1:]
	for i, want := range []struct{ status, resend, code string }{{"503", "", "ft.InjectedFault"}, {"502", "1", "ft.InjectedFault"}, {"200", "2", ""}} {
		a := attempts[i]
		assert.Equal(t, want.status, oteltest.Str(a, semconv.HTTPResponseStatusCodeKey), "attempt %d", i+1)
		assert.Equal(t, want.resend, oteltest.Str(a, semconv.HTTPRequestResendCountKey), "attempt %d", i+1)
		assert.Equal(t, want.code, oteltest.Str(a, telemetry.ErrorCode), "attempt %d", i+1)
		server := h.Children(a)[0]
		assert.Equal(t, want.status, oteltest.Str(server, semconv.HTTPResponseStatusCodeKey))
		assert.Equal(t, oteltest.Str(a, telemetry.RequestID), oteltest.Str(server, telemetry.RequestID))
	}
	retries := 0
	for _, ev := range step.Events() {
		if ev.Name == "retry" {
			retries++
		}
	}
	assert.Equal(t, 2, retries, "each retry is an event on the step")
	assert.Equal(t, 2.0, oteltest.Sum(h.Collect(t), "marketplace.client.retries", telemetry.Operation.String("Register"),
		telemetry.RetryReason.String("server_error")))

	journal := e.srv.Requests(mockserver.RequestFilter{Operation: "billing.Register"})
	require.Len(t, journal, 3)
	for i, j := range journal {
		assert.Equal(t, attempts[i].SpanContext().SpanID().String(), j.SpanID, "the journal names each attempt")
		assert.Equal(t, changeSteps(res.Steps)[0].IdempotencyKey, j.IdempotencyKey, "one key for every attempt")
	}
}

// TestTraceResumeLinksToTheRunItResumes: a run fails at its second change
// step (Faults before the handler are checked in order, each request
// triggering one), which the activation, the step and the failed counter
// say with the error code and request ID; the checkpoint keeps the run's
// trace; the next run, resuming, links to it.
func TestTraceResumeLinksToTheRunItResumes(t *testing.T) {
	e, h := tracedEnv(t)
	b := branches[1] // bind account, create workspace
	wsID := b.seed(e)
	e.failRun(traced(b.build(e.builder(), wsID), h), mockserver.Fault{Path: createPath, Status: http.StatusInternalServerError})
	first := h.One(t, "truewatch.activation.run")
	assert.Equal(t, codes.Error, first.Status().Code)
	assert.Equal(t, apierror.CodeInjectedFault, oteltest.Str(first, telemetry.ErrorCode))
	failed := h.One(t, "truewatch.step.create_workspace")
	assert.Equal(t, codes.Error, failed.Status().Code)
	assert.Equal(t, apierror.CodeInjectedFault, oteltest.Str(failed, semconv.ErrorTypeKey))
	assert.Regexp(t, `^[0-9a-f]{32}$`, oteltest.Str(failed, telemetry.RequestID))
	assert.Equal(t, codes.Unset, h.One(t, "truewatch.step.bind_billing_account").Status().Code)
	assert.Equal(t, 1.0, oteltest.Sum(h.Collect(t), "marketplace.activation.failed", telemetry.ActivationBranch.String("create_workspace"),
		telemetry.ErrorCode.String(apierror.CodeInjectedFault)))

	id := oteltest.Str(first, telemetry.ActivationID)
	cp, err := e.store.Load(context.Background(), id)
	require.NoError(t, err)
	assert.Equal(t, truewatch.TraceRef{TraceID: first.SpanContext().TraceID().String(), SpanID: first.SpanContext().SpanID().String()},
		cp.LastRun, "the checkpoint keeps the trace of the run that saved it")

	_, err = traced(b.build(e.builder(), wsID), h).Run(context.Background())
	require.NoError(t, err)
	runs := h.Named("truewatch.activation.run")
	require.Len(t, runs, 2)
	second := runs[1]
	assert.Equal(t, "true", oteltest.Str(second, telemetry.ActivationResumed))
	require.Len(t, second.Links(), 1)
	assert.Equal(t, first.SpanContext().TraceID(), second.Links()[0].SpanContext.TraceID())
	assert.Equal(t, first.SpanContext().SpanID(), second.Links()[0].SpanContext.SpanID())
	assert.NotEqual(t, first.SpanContext().TraceID(), second.SpanContext().TraceID())
	// The token is not checkpointed (a secret): the account is bound again,
	// which changes nothing, before the workspace is created.
	assert.Equal(t, "truewatch.activation.run\n"+treeDiscover+branchTrees[b.name], shape(h, second))
	assert.Equal(t, 1.0, oteltest.Sum(h.Collect(t), "marketplace.activation.completed", telemetry.ActivationBranch.String("create_workspace")))
}

// TestTraceUnderTheApplicationsSpan: the activation's span is a child of
// the span in Run's context, and a bad provider is a builder problem.
func TestTraceUnderTheApplicationsSpan(t *testing.T) {
	e, h := tracedEnv(t)
	ctx, app := h.Tracer.Tracer("app").Start(context.Background(), "provision tenant")
	_, err := traced(branches[0].build(e.builder(), ""), h).Run(ctx)
	require.NoError(t, err)
	app.End()
	run := h.One(t, "truewatch.activation.run")
	assert.Equal(t, app.SpanContext().SpanID(), run.Parent().SpanID())

	_, err = e.builder().WithTracerProvider(nil).WithMeterProvider(nil).Run(context.Background())
	require.ErrorIs(t, err, apierror.ErrValidation)
	assert.Contains(t, err.Error(), "tracerProvider")
	assert.Contains(t, err.Error(), "meterProvider")
}
