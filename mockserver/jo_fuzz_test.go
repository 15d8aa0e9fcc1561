package mockserver

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// jointFuzzServer is a mock with an active enterprise, an authorized
// member and a vendor-registered application, for the fuzz targets.
func jointFuzzServer(f *testing.F) (*Server, Enterprise, Application) {
	srv, err := New(WithoutListener(), WithMaxBodyBytes(4096), WithClock(NewManualClock(testStart)),
		WithEnterpriseActivation(0), WithDeliveryPolicy(DeliveryPolicy{Attempts: 2}))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(srv.Close)
	ctx := context.Background()
	ent, err := srv.CreateEnterprise(ctx, EnterpriseRequest{HuaweiAccountID: DemoHuaweiAccountID, InstanceID: DemoInstanceID,
		Name: "Fuzz", Domain: "fuzz.example", Abbreviation: "fuzz"})
	if err != nil {
		f.Fatal(err)
	}
	if _, err := srv.AddMember(ctx, ent.TenantID, MemberRequest{UserName: "ada", Name: "Ada", InitialPassword: "Init-Pass-0001"}); err != nil {
		f.Fatal(err)
	}
	if _, err := srv.AuthorizeMembers(ctx, ent.TenantID, AuthorizationRequest{UserNames: []string{"ada"}, AgreementAccepted: true}); err != nil {
		f.Fatal(err)
	}
	app, _ := srv.EnterpriseApplication(ent.TenantID)
	return srv, ent, app
}

// FuzzEnterpriseControl sends arbitrary bodies to the joint service's
// control routes and requires a 2xx or 4xx answer in the control plane's
// shape, never a 5xx or a crash. Plain `go test` runs the seed corpus.
func FuzzEnterpriseControl(f *testing.F) {
	srv, ent, _ := jointFuzzServer(f)
	t := "/_mock/enterprises/" + ent.TenantID
	routes := []struct{ method, path string }{{http.MethodPost, "/_mock/enterprises"}, {http.MethodPost, t},
		{http.MethodPost, t + "/members"}, {http.MethodPost, t + "/members/ada"}, {http.MethodPost, t + "/members/ada/password"},
		{http.MethodPost, t + "/authorizations"}, {http.MethodPost, t + "/deauthorizations"}, {http.MethodPost, t + "/departments"},
		{http.MethodPost, t + "/departments/root"}, {http.MethodDelete, t + "/departments/x"}, {http.MethodPost, t + "/org-sync"},
		{http.MethodPost, t + "/application/rotate-secret"}, {http.MethodDelete, t + "/members/nobody"}}
	for i, body := range []string{
		`{"huaweiAccountId":"` + DemoHuaweiAccountID + `","instanceId":"` + DemoInstanceID + `","name":"n","domain":"d.example","abbreviation":"ab"}`,
		`{"domain":"new.example"}`, `{"userName":"bob","name":"Bob"}`, `{"enabled":false}`, `{"initialPassword":"x"}`,
		`{"userNames":["ada"],"agreementAccepted":true}`, `{"userNames":["ada","ADA"]}`, `{"orgCode":"eng","name":"E"}`,
		`{"parentCode":"root"}`, ``, `{}`, `null`, `[]`, `{"name":"\u0000"}`, `{"userNames":[]}`, `{"domain":"` + strings.Repeat("a.", 200) + `"}`,
	} {
		f.Add(uint8(i), []byte(body))
	}
	hc := srv.HTTPClient()
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		r := routes[int(route)%len(routes)]
		req, err := http.NewRequest(r.method, srv.URL()+r.path, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode >= 500 {
			t.Fatalf("%s %s %q: HTTP %d %s", r.method, r.path, body, resp.StatusCode, raw)
		}
		if resp.StatusCode >= 400 {
			var e controlErr
			if err := json.Unmarshal(raw, &e); err != nil || e.Error == "" {
				t.Fatalf("%s %s: HTTP %d without an error body: %s", r.method, r.path, resp.StatusCode, raw)
			}
		}
	})
}

// FuzzIdP sends arbitrary queries, forms, headers and content types to
// the unified login's endpoints and requires a 2xx, 3xx or 4xx answer,
// never a 5xx or a crash; a redirect never leaves for anywhere but the
// application's registered redirect URI.
func FuzzIdP(f *testing.F) {
	srv, ent, app := jointFuzzServer(f)
	base := ent.IdentityProvider
	routes := []struct{ method, path string }{{http.MethodGet, "/api/v1/oauth2/authorize"}, {http.MethodPost, "/login"},
		{http.MethodPost, "/password"}, {http.MethodPost, "/api/v1/oauth2/token"}, {http.MethodGet, "/api/v1/oauth2/userinfo"},
		{http.MethodGet, "/orgid/openapi/v1/oauth2/userinfo"}, {http.MethodGet, "/api/v1/logout"}, {http.MethodGet, "/portal"},
		{http.MethodGet, "/.well-known/oauth-authorization-server"}}
	good := url.Values{"response_type": {"code"}, "client_id": {app.ClientID}, "redirect_uri": {app.RedirectURIs[0]}, "state": {"s"}}.Encode()
	for i, q := range []string{good, good + "&code_challenge=x&code_challenge_method=S256", "client_id=" + app.ClientID,
		"redirect_url=https://evil.example", "appId=x", "%zz", "grant_type=authorization_code&code=x&client_id=" + app.ClientID +
			"&client_secret=" + app.ClientSecret, "login_id=x&csrf_token=y&tenant=fuzz&account=ada&password=p", "a=1&a=2", ""} {
		f.Add(uint8(i), q, "application/x-www-form-urlencoded", "Bearer x")
	}
	hc := &http.Client{Transport: srv.HTTPClient().Transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	f.Fuzz(func(t *testing.T, route uint8, q, contentType, auth string) {
		r := routes[int(route)%len(routes)]
		target := base + r.path
		var body io.Reader
		if r.method == http.MethodGet {
			target += "?" + q
		} else {
			body = strings.NewReader(q)
		}
		req, err := http.NewRequest(r.method, target, body)
		if err != nil {
			return // not a request a client can send
		}
		req.Header.Set("Content-Type", contentType)
		req.Header.Set("Authorization", auth)
		req.Header.Set("X-OrgID-Authorization", auth)
		resp, err := hc.Do(req)
		if err != nil {
			return // a header value net/http refuses to send
		}
		raw, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode >= 500 {
			t.Fatalf("%s %s: HTTP %d %s", r.method, target, resp.StatusCode, raw)
		}
		if loc := resp.Header.Get("Location"); loc != "" && !strings.HasPrefix(loc, app.RedirectURIs[0]) &&
			!strings.HasPrefix(loc, app.SignInURL) && !strings.HasPrefix(loc, srv.URL()) {
			t.Fatalf("%s %s: redirected to %s", r.method, target, loc)
		}
	})
}
