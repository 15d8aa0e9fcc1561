package truewatch_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/internal/oteltest"
	"github.com/truewatch-labs/marketplace-go/mockserver"
	"github.com/truewatch-labs/marketplace-go/secret"
	"github.com/truewatch-labs/marketplace-go/truewatch"
)

// tokenTap records every bearer token and ownership proof sent, so tests
// can look for them where they must not be.
type tokenTap struct {
	next   http.RoundTripper
	mu     sync.Mutex
	tokens map[string]bool
	proofs map[string]bool
	keys   map[string]bool // Idempotency-Keys
}

func (t *tokenTap) RoundTrip(req *http.Request) (*http.Response, error) {
	t.mu.Lock()
	if h := req.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
		t.tokens[strings.TrimPrefix(h, "Bearer ")] = true
	}
	if p := req.Header.Get(billing.ProofHeader); p != "" {
		t.proofs[p] = true
	}
	if k := req.Header.Get("Idempotency-Key"); k != "" && t.keys != nil {
		t.keys[k] = true
	}
	t.mu.Unlock()
	return t.next.RoundTrip(req)
}

// keySecretOf reads the key secret of an activation's checkpoint from its
// JSON encoding, the one place it is in clear.
func keySecretOf(t *testing.T, store truewatch.Store, id string) string {
	t.Helper()
	cp, err := store.Load(context.Background(), id)
	require.NoError(t, err)
	require.NotNil(t, cp)
	raw, err := json.Marshal(cp)
	require.NoError(t, err)
	var enc struct {
		KeySecret string `json:"keySecret"`
	}
	require.NoError(t, json.Unmarshal(raw, &enc))
	require.Regexp(t, `^[0-9a-f]{64}$`, enc.KeySecret)
	return enc.KeySecret
}

// TestNoSecretInLogsEventsOrErrors runs every branch (and a check, wrong
// codes and lost responses) with debug logging in JSON and text and with
// tracing and metrics (the activation's, the clients' and the mock's), and
// looks for the password, the Huawei secret key, every code sent, every
// token and proof used, the key secret and every idempotency key sent in
// the logs, the events, the errors, and every exported span, event,
// attribute and metric.
func TestNoSecretInLogsEventsOrErrors(t *testing.T) {
	type scenario struct {
		name   string
		branch branch
		setup  func(e *env)
		codes  func(e *env) truewatch.CodeProvider
	}
	var scenarios []scenario
	for _, b := range branches {
		scenarios = append(scenarios, scenario{name: b.name, branch: b})
		scenarios = append(scenarios, scenario{name: b.name + "/lost responses", branch: b, setup: func(e *env) {
			e.loseChangeResponses(b)
		}})
		scenarios = append(scenarios, scenario{name: b.name + "/wrong codes", branch: b,
			codes: func(*env) truewatch.CodeProvider {
				return func(context.Context, truewatch.CodeRequest) (secret.String, error) { return "123456", nil }
			}})
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			h := oteltest.New(t)
			e := newEnv(t, mockserver.WithTracerProvider(h.Tracer), mockserver.WithMeterProvider(h.Meter))
			wsID := sc.branch.seed(e)
			if sc.setup != nil {
				sc.setup(e)
			}
			tap := &tokenTap{next: e.srv.HTTPClient().Transport, tokens: map[string]bool{}, proofs: map[string]bool{}, keys: map[string]bool{}}
			if tap.next == nil {
				tap.next = http.DefaultTransport
			}
			var jsonLog, textLog bytes.Buffer
			log := slog.New(fanout{slog.NewJSONHandler(&jsonLog, &slog.HandlerOptions{Level: slog.LevelDebug}),
				slog.NewTextHandler(&textLog, &slog.HandlerOptions{Level: slog.LevelDebug})})
			var events []truewatch.Event
			build := func() *truewatch.Activation {
				a := sc.branch.build(e.builder(), wsID).WithLogger(log).WithHTTPClient(&http.Client{Transport: tap}).
					WithTracerProvider(h.Tracer).WithMeterProvider(h.Meter).
					WithEvents(func(ev truewatch.Event) { events = append(events, ev) })
				if sc.codes != nil {
					a = a.WithCodes(sc.codes(e))
				}
				return a
			}
			var errs []string
			var activationID string
			for i := 0; i < 2; i++ { // a second run: already activated, or a retry
				plan, err := build().Plan(context.Background())
				if err != nil {
					errs = append(errs, err.Error(), fmt.Sprintf("%+v", err))
				} else {
					errs = append(errs, plan.String())
				}
				res, err := build().Run(context.Background())
				if err != nil {
					errs = append(errs, err.Error(), fmt.Sprintf("%+v", err))
				} else {
					errs = append(errs, fmt.Sprintf("%+v", res))
					activationID = res.ActivationID
					log.Info("result", slog.Any("result", res), slog.Any("plan", plan))
				}
			}
			chk, err := e.checker().WithLogger(log).WithTracerProvider(h.Tracer).WithMeterProvider(h.Meter).Run(context.Background())
			errs = append(errs, fmt.Sprintf("%+v %v", chk, err))
			for _, ev := range events {
				errs = append(errs, fmt.Sprintf("%+v", ev))
				if ev.Err != nil {
					errs = append(errs, ev.Err.Error())
				}
			}

			secrets := []string{password, mockserver.DemoSecretKey, "123456"}
			for _, m := range e.srv.Outbox() {
				secrets = append(secrets, m.Code.Reveal())
			}
			for tok := range tap.tokens {
				secrets = append(secrets, tok)
			}
			require.NotEmpty(t, tap.proofs, "the activation proves ownership")
			for p := range tap.proofs {
				secrets = append(secrets, p)
			}
			// Logs, events and results name the idempotency keys (they
			// identify the steps); telemetry never carries one.
			require.NotEmpty(t, tap.keys, "the activation sends idempotency keys")
			var keys []string
			for k := range tap.keys {
				keys = append(keys, k)
			}
			if activationID != "" {
				// The checkpoint's key secret, which it prints redacted
				// (fmt and slog, JSON handler included).
				ks := keySecretOf(t, e.store, activationID)
				secrets = append(secrets, ks)
				cp, err := e.store.Load(context.Background(), activationID)
				require.NoError(t, err)
				errs = append(errs, fmt.Sprintf("%v %+v %#v %s", cp, cp, cp, cp.KeySecret))
				log.Info("checkpoint", slog.Any("cp", cp), slog.Any("secret", cp.KeySecret), slog.Any("value", *cp))
			}
			require.NotEmpty(t, jsonLog.String())
			if sc.branch.name != branches[0].name && sc.codes == nil {
				require.NotEmpty(t, tap.tokens, "the bind branches use a token")
			}
			all := map[string]string{"JSON log": jsonLog.String(), "text log": textLog.String(), "errors and events": strings.Join(errs, "\n")}
			for where, text := range all {
				for _, s := range secrets {
					assert.NotContains(t, text, s, "a secret in the %s", where)
				}
			}
			require.NotEmpty(t, h.Named("truewatch.activation.run"), "the runs were traced")
			h.AssertNoSecrets(t, append(secrets, keys...)...)
		})
	}
}

// fanout sends every record to several handlers.
type fanout []slog.Handler

func (f fanout) Enabled(ctx context.Context, l slog.Level) bool {
	for _, h := range f {
		if h.Enabled(ctx, l) {
			return true
		}
	}
	return false
}

func (f fanout) Handle(ctx context.Context, r slog.Record) error {
	for _, h := range f {
		if err := h.Handle(ctx, r.Clone()); err != nil {
			return err
		}
	}
	return nil
}

func (f fanout) WithAttrs(attrs []slog.Attr) slog.Handler {
	out := make(fanout, len(f))
	for i, h := range f {
		out[i] = h.WithAttrs(attrs)
	}
	return out
}

func (f fanout) WithGroup(name string) slog.Handler {
	out := make(fanout, len(f))
	for i, h := range f {
		out[i] = h.WithGroup(name)
	}
	return out
}
