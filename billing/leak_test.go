package billing_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"testing"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/internal/oteltest"
	"github.com/truewatch-labs/marketplace-go/internal/testkit"
	"github.com/truewatch-labs/marketplace-go/secret"
	"github.com/truewatch-labs/marketplace-go/site"
	"github.com/truewatch-labs/marketplace-go/truewatch"
	"github.com/truewatch-labs/marketplace-go/twapi"
	"github.com/truewatch-labs/marketplace-go/workspace"
)

// Secrets distinct per field, so that a leak names the field.
const (
	leakPassword = "Pw-LEAK-password-1a!"
	leakConfirm  = "Pw-LEAK-confirm-2b!"
	leakCode     = "918273"
	leakToken    = "bctk_LEAK_token_0123456789"
)

var leaks = []string{leakPassword, leakConfirm, leakCode, leakToken}

// secretHolders is every public request and result type of the module that
// holds a secret, with its secrets set.
func secretHolders() map[string]any {
	return map[string]any{
		"billing.RegisterRequest": billing.RegisterRequest{Site: site.EU1, Username: "ada", Password: leakPassword,
			Email: "ada@example.com", EmailCode: leakCode, Company: billing.Company{Name: "A"}},
		"billing.BindAccountRequest": billing.BindAccountRequest{Username: "ada", Email: "ada@example.com", EmailCode: leakCode},
		"billing.BindAccountResult":  billing.BindAccountResult{BillingAccount: billing.BillingAccount{ID: "bcac_1"}, Token: leakToken},
		"workspace.CreateWorkspaceRequest": workspace.CreateWorkspaceRequest{Name: "w", Email: "ada@example.com",
			EmailCode: leakCode},
		"workspace.RegisterAndCreateRequest": workspace.RegisterAndCreateRequest{Name: "w", Username: "ada",
			Password: leakPassword, PasswordConfirm: leakConfirm, EmailCode: leakCode},
		"truewatch.RegisterInfo":   truewatch.RegisterInfo{Username: "ada", Password: leakPassword, PasswordConfirm: leakConfirm},
		"truewatch.NewAccountInfo": truewatch.NewAccountInfo{Username: "ada", Password: leakPassword, PasswordConfirm: leakConfirm},
	}
}

// logValuer is a caller's type that logs a request through LogValue.
type logValuer struct{ v any }

func (l logValuer) LogValue() slog.Value { return slog.AnyValue(l.v) }

// nestings puts v where callers put values: directly, by pointer, in a
// struct (by value and pointer), a slice, a map, an interface map.
func nestings(v any) map[string]any {
	type wrapper struct {
		Name  string
		Value any
		Inner struct{ Deep any }
	}
	w := wrapper{Name: "outer", Value: v}
	w.Inner.Deep = v
	return map[string]any{
		"value": v, "pointer": &v, "struct": w, "struct pointer": &w, "slice": []any{v, v},
		"map": map[string]any{"k": v}, "nested map": map[string]map[string]any{"a": {"b": []any{w}}},
	}
}

func assertNoLeak(t *testing.T, what, out string) {
	t.Helper()
	for _, s := range leaks {
		assert.NotContains(t, out, s, "%s", what)
	}
}

func TestNoPublicTypeWritesASecret(t *testing.T) {
	for typ, v := range secretHolders() {
		for nest, x := range nestings(v) {
			t.Run(typ+"/"+nest, func(t *testing.T) {
				b, err := json.Marshal(x)
				require.NoError(t, err)
				assertNoLeak(t, "json.Marshal", string(b))
				assert.Contains(t, string(b), secret.Redacted)
				b, err = json.MarshalIndent(x, "", "  ")
				require.NoError(t, err)
				assertNoLeak(t, "json.MarshalIndent", string(b))
				var enc bytes.Buffer
				e := json.NewEncoder(&enc)
				e.SetEscapeHTML(false)
				require.NoError(t, e.Encode(x))
				assertNoLeak(t, "json.Encoder", enc.String())

				for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
					assertNoLeak(t, "fmt "+verb, fmt.Sprintf(verb, x))
				}
				assertNoLeak(t, "an error", fmt.Errorf("failed with %v: %w", x, assert.AnError).Error())

				var logs bytes.Buffer
				for _, h := range []slog.Handler{slog.NewJSONHandler(&logs, nil), slog.NewTextHandler(&logs, nil)} {
					l := slog.New(h)
					l.Info("attr", slog.Any("req", x), "kv", x)
					l.Info("group", slog.Group("g", slog.Any("req", x), slog.Group("h", "req", x)))
					l.With("req", x).WithGroup("call").Info("with", "req", x)
					l.Info("valuer", slog.Any("req", logValuer{x}), slog.Any("grouped", slog.GroupValue(slog.Any("req", x))))
					l.LogAttrs(context.Background(), slog.LevelInfo, "attrs", slog.Any("req", x))
				}
				require.NotZero(t, logs.Len())
				assertNoLeak(t, "slog", logs.String())
			})
		}
	}
}

func TestSecretsStillReachTheWire(t *testing.T) {
	// What no public type writes, the requests still send: the recorded
	// bodies carry every secret in clear, in its field.
	ok := testkit.OK(map[string]any{})
	e := setup(t, ok)
	ctx := context.Background()
	_, err := e.c.Register(ctx, &billing.RegisterRequest{Site: site.EU1, Username: "acme_admin", Password: leakPassword,
		Email: "ops@acme.example", EmailCode: leakCode, Company: billing.Company{Name: "Acme"}, WorkspaceName: "production",
		WorkspaceLanguage: twapi.LanguageEN, HuaweiAccountID: accountID, InstanceID: instanceID, TermsAccepted: true})
	require.NoError(t, err)
	_, err = e.c.BindBillingAccount(ctx, &billing.BindAccountRequest{Username: "acme", Email: "ops@acme.example",
		EmailCode: leakCode, HuaweiAccountID: accountID, InstanceID: instanceID})
	require.NoError(t, err)

	wrec := testkit.NewRecorder(ok)
	e.mt.RegisterNoResponder(wrec.Respond)
	wc, err := workspace.NewClient(workspace.WithHTTPClient(&http.Client{Transport: e.mt}))
	require.NoError(t, err)
	_, err = wc.CreateWorkspace(ctx, leakToken, &workspace.CreateWorkspaceRequest{Name: "staging", Language: twapi.LanguageEN,
		Site: site.EU1, Email: "ops@acme.example", EmailCode: leakCode, TermsAccepted: true})
	require.NoError(t, err)
	_, err = wc.RegisterAndCreate(ctx, leakToken, &workspace.RegisterAndCreateRequest{Name: "staging", Language: twapi.LanguageEN,
		Site: site.EU1, Username: "acme_ops", Password: leakPassword, PasswordConfirm: leakPassword, Email: "ops@acme.example",
		EmailCode: leakCode, TermsAccepted: true})
	require.NoError(t, err)

	bodies := append(e.rec.Requests(), wrec.Requests()...)
	require.Len(t, bodies, 4)
	want := []map[string]any{
		{"password": leakPassword, "emailCode": leakCode},
		{"emailCode": leakCode},
		{"emailCode": leakCode},
		{"password": leakPassword, "passwordConfirm": leakPassword, "emailCode": leakCode},
	}
	for i, r := range bodies {
		got := r.JSON()
		for k, v := range want[i] {
			assert.Equal(t, v, got[k], "request %d field %s", i, k)
		}
		for k := range got {
			assert.NotContains(t, k, "plain", "the wire form adds no field")
		}
	}
	assert.Equal(t, "Bearer "+leakToken, wrec.Requests()[0].Header.Get("Authorization"))

	// A result decodes the token from the wire, and keeps it for calls.
	var res billing.BindAccountResult
	require.NoError(t, json.Unmarshal([]byte(`{"token":"`+leakToken+`"}`), &res))
	assert.Equal(t, leakToken, res.Token.Reveal())
}

// TestNoSecretInTelemetry: the calls that carry a password, a code, a
// token, a proof of ownership and an idempotency key, succeeding, retried
// and refused, leave none of them in any exported span, event, attribute
// or metric, of the billing or the workspace client.
func TestNoSecretInTelemetry(t *testing.T) {
	const key = "idem-LEAK-key-0123456789"
	h := oteltest.New(t)
	mt := httpmock.NewMockTransport()
	rec := testkit.NewRecorder(testkit.Fail(503, "", "busy"), testkit.OK(map[string]any{}),
		testkit.Fail(400, "ft.InvalidVerificationCode", "wrong code"), testkit.OK(map[string]any{}))
	mt.RegisterNoResponder(rec.Respond)
	var waits testkit.Waits
	prover := &countingProver{name: "proof-LEAK"}
	c, err := billing.NewClient(billing.WithBaseURL(baseURL), billing.WithHTTPClient(&http.Client{Transport: mt}),
		billing.WithRetryPolicy(waits.Policy(3)), billing.WithOwnershipProver(prover),
		billing.WithTracerProvider(h.Tracer), billing.WithMeterProvider(h.Meter))
	require.NoError(t, err)
	ctx := context.Background()
	_, err = c.Register(ctx, &billing.RegisterRequest{Site: site.EU1, Username: "acme_admin", Password: leakPassword,
		Email: "ops@acme.example", EmailCode: leakCode, Company: billing.Company{Name: "Acme"}, WorkspaceName: "production",
		WorkspaceLanguage: twapi.LanguageEN, HuaweiAccountID: accountID, InstanceID: instanceID, TermsAccepted: true},
		billing.WithIdempotencyKey(key))
	require.NoError(t, err)
	_, err = c.BindBillingAccount(ctx, &billing.BindAccountRequest{Username: "acme", Email: "ops@acme.example",
		EmailCode: leakCode, HuaweiAccountID: accountID, InstanceID: instanceID}, billing.WithIdempotencyKey(key+"-2"))
	require.Error(t, err)
	_, err = c.BindWorkspace(ctx, leakToken, &billing.BindWorkspaceRequest{WorkspaceID: "wksp_1"})
	require.NoError(t, err)
	wc, err := workspace.NewClient(workspace.WithHTTPClient(&http.Client{Transport: mt}),
		workspace.WithTracerProvider(h.Tracer), workspace.WithMeterProvider(h.Meter))
	require.NoError(t, err)
	_, err = wc.RegisterAndCreate(ctx, leakToken, &workspace.RegisterAndCreateRequest{Name: "staging", Language: twapi.LanguageEN,
		Site: site.EU1, Username: "acme_ops", Password: leakPassword, PasswordConfirm: leakPassword, Email: "ops@acme.example",
		EmailCode: leakCode, TermsAccepted: true}, workspace.WithIdempotencyKey(key+"-3"))
	require.NoError(t, err)

	require.Len(t, h.Named("POST"), rec.Count(), "one span per attempt")
	secrets := append([]string{key, key + "-2", key + "-3"}, leaks...)
	for _, r := range rec.Requests() {
		secrets = append(secrets, r.Header.Get(billing.ProofHeader), r.Header.Get("Idempotency-Key"))
	}
	h.AssertNoSecrets(t, secrets...)
}
