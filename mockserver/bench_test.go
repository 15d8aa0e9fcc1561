// Benchmarks of the mock's hot paths, in-process (no sockets):
//
//	go test -run '^$' -bench . -benchmem ./mockserver/
package mockserver_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/internal/routes"
	"github.com/truewatch-labs/marketplace-go/mockserver"
	"github.com/truewatch-labs/marketplace-go/workspace"
)

func serve(b *testing.B, h http.Handler, method, path string, body any) *httptest.ResponseRecorder {
	b.Helper()
	var rd *bytes.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			b.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	} else {
		rd = bytes.NewReader(nil)
	}
	req := httptest.NewRequest(method, path, rd)
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Fatalf("%s %s: HTTP %d %s", method, path, rec.Code, rec.Body.String())
	}
	return rec
}

// BenchmarkGetSubscription measures the read every activation starts with.
func BenchmarkGetSubscription(b *testing.B) {
	srv, err := mockserver.New(mockserver.WithoutListener())
	if err != nil {
		b.Fatal(err)
	}
	path := routes.MockBillingPrefix + routes.GetSubscription + "?huaweiAccountId=" + mockserver.DemoHuaweiAccountID +
		"&instanceId=" + mockserver.DemoInstanceID
	h := srv.Handler()
	b.ReportAllocs()
	for b.Loop() {
		serve(b, h, http.MethodGet, path, nil)
	}
}

// BenchmarkRegister measures a complete registration (code sent, account,
// Billing Center account, workspace and binding created) per iteration.
func BenchmarkRegister(b *testing.B) {
	srv, err := mockserver.New(mockserver.WithoutListener(), mockserver.WithoutDemoFixture())
	if err != nil {
		b.Fatal(err)
	}
	h := srv.Handler()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		b.StopTimer()
		acct := fmt.Sprintf("%032x", i)
		inst := fmt.Sprintf("bench-%d", i)
		if err := srv.AddHuaweiAccount(mockserver.HuaweiAccount{ID: acct, Keys: []mockserver.AccessKey{{AK: "BENCHAK" + inst, SK: "sk"}}}); err != nil {
			b.Fatal(err)
		}
		if _, err := srv.AddPurchase(mockserver.Purchase{AccountID: acct, InstanceID: inst}); err != nil {
			b.Fatal(err)
		}
		email := fmt.Sprintf("user%d@example.com", i)
		b.StartTimer()
		serve(b, h, http.MethodPost, routes.MockBillingPrefix+routes.SendCode,
			billing.SendCodeRequest{Email: email, Purpose: billing.PurposeRegister})
		code, _ := srv.LatestCode(email, billing.PurposeRegister)
		serve(b, h, http.MethodPost, routes.MockBillingPrefix+routes.Register, map[string]any{
			"site": "ap1", "username": fmt.Sprintf("user%d", i), "password": "Bench-Pass-1", "email": email,
			"emailCode": code, "company": map[string]string{"name": "Bench Ltd"}, "workspaceName": "prod",
			"workspaceLanguage": workspace.LanguageEN, "huaweiAccountId": acct, "instanceId": inst, "termsAccepted": true,
		})
	}
}
