package browsertest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/mockserver"
	"github.com/truewatch-labs/marketplace-go/truewatch"
	"github.com/truewatch-labs/marketplace-go/truewatch/truewatchtest"
)

// chromium finds the browser, or skips (fails when
// MARKETPLACE_REQUIRE_CHROMIUM=1).
func chromium(t *testing.T) string {
	t.Helper()
	name := os.Getenv("CHROMIUM")
	if name == "" {
		name = "chromium"
	}
	path, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("MARKETPLACE_REQUIRE_CHROMIUM") == "1" {
			t.Fatalf("MARKETPLACE_REQUIRE_CHROMIUM=1 but %s is not found: apt-get install -y chromium", name)
		}
		t.Skipf("no %s (apt-get install -y chromium; MARKETPLACE_REQUIRE_CHROMIUM=1 makes this a failure)", name)
	}
	return path
}

// artifactDir is where screenshots are kept.
func artifactDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("MARKETPLACE_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "marketplace-artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// browser starts headless Chromium with flags that work on a machine
// without a network: no sandbox (root in CI), no GPU, no QUIC, no
// background connections, a fresh profile.
func browser(t *testing.T) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{chromedp.ExecPath(chromium(t)), chromedp.Headless, chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1000, 800)}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() {
		cancelTimeout()
		cancel()
		cancelAlloc()
	})
	return ctx
}

// A member logs in on the mock's unified-login page in Chromium: the
// enterprise's unified-login link, TrueWatch's sign-in, a wrong password
// first (the page says so), then the right one, the forced change of the
// initial password, TrueWatch's "Activation Successful" naming the
// workspace, and the site's login page naming it too.
func TestBrowserUnifiedLogin(t *testing.T) {
	ctx := browser(t)
	srv := mockserver.Start(t) // on 127.0.0.1: the browser needs a real port
	bg := context.Background()
	ent, err := srv.CreateEnterprise(bg, mockserver.EnterpriseRequest{HuaweiAccountID: mockserver.DemoHuaweiAccountID,
		InstanceID: mockserver.DemoInstanceID, Name: "Analytical Engines", Domain: "engines.example", Abbreviation: "engines"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.AdvanceClock(bg, mockserver.DefaultEnterpriseActivation); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.AddMember(bg, ent.TenantID, mockserver.MemberRequest{UserName: "charles", Name: "Charles Babbage",
		InitialPassword: "Init-Pass-0001"}); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.AuthorizeMembers(bg, ent.TenantID, mockserver.AuthorizationRequest{UserNames: []string{"charles"},
		AgreementAccepted: true}); err != nil {
		t.Fatal(err)
	}
	res, err := truewatchtest.Activation(srv).WithSite(truewatch.SiteAP1).
		Register(truewatch.RegisterInfo{Username: "ada", Password: "Str0ng-Passw0rd!", PasswordConfirm: "Str0ng-Passw0rd!",
			Email: "ada@example.com", Company: billing.Company{Name: "Analytical Engines Ltd"},
			WorkspaceName: "production", WorkspaceLanguage: truewatch.LanguageEN, TermsAccepted: true}).
		Run(bg)
	if err != nil {
		t.Fatal(err)
	}

	var errText, heading, landing, site, url string
	var shot1, shot2 []byte
	text := func(sel chromedp.CSS, dst *string) chromedp.Action[chromedp.Void] {
		return into(chromedp.Text(sel), dst)
	}
	shot := func(dst *[]byte) chromedp.Action[chromedp.Void] { return into(chromedp.FullScreenshot(100), dst) }
	err = chromedp.Do(ctx,
		chromedp.Navigate(srv.Enterprises()[0].LoginURL),
		chromedp.WaitVisible(chromedp.CSS(`#tenant`)),
		chromedp.SendKeys(chromedp.CSS(`#tenant`), "engines"),
		chromedp.SendKeys(chromedp.CSS(`#account`), "charles"),
		chromedp.SendKeys(chromedp.CSS(`#password`), "Wrong-Pass-0001"),
		chromedp.Click(chromedp.CSS(`#submit`)),
		chromedp.WaitVisible(chromedp.CSS(`#error`)),
		text(`#error`, &errText),
		chromedp.SetValue(chromedp.CSS(`#tenant`), "engines"),
		chromedp.SendKeys(chromedp.CSS(`#password`), "Init-Pass-0001"),
		chromedp.Click(chromedp.CSS(`#submit`)),
		chromedp.WaitVisible(chromedp.CSS(`#new_password`)),
		chromedp.SendKeys(chromedp.CSS(`#new_password`), "Br1ght-Morning-42"),
		chromedp.SendKeys(chromedp.CSS(`#confirm_password`), "Br1ght-Morning-42"),
		chromedp.Click(chromedp.CSS(`#submit`)),
		chromedp.WaitVisible(chromedp.CSS(`#confirm`)),
		text(`h1`, &heading),
		text(`#workspace`, &landing),
		shot(&shot1),
		chromedp.Click(chromedp.CSS(`#confirm`)),
		chromedp.WaitVisible(chromedp.CSS(`#workspace`)),
		text(`#workspace`, &site),
		into(chromedp.Location(), &url),
		shot(&shot2),
	)
	dir := artifactDir(t)
	for name, b := range map[string][]byte{"unified-login-activation-successful.png": shot1, "unified-login-site-login.png": shot2} {
		if len(b) > 0 {
			p := filepath.Join(dir, name)
			if werr := os.WriteFile(p, b, 0o644); werr != nil {
				t.Error(werr)
			}
			t.Logf("screenshot: %s", p)
		}
	}
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	if !strings.Contains(errText, "wrong") {
		t.Errorf("the wrong password's page says %q", errText)
	}
	if heading != "Activation Successful" {
		t.Errorf("landing heading %q", heading)
	}
	for _, want := range []string{"production", res.WorkspaceID, "charles"} {
		if !strings.Contains(landing, want) {
			t.Errorf("the landing page %q does not name %q", landing, want)
		}
		if !strings.Contains(site, want) {
			t.Errorf("the site's login page %q does not name %q", site, want)
		}
	}
	if !strings.HasSuffix(url, "/sites/ap1/auth/login/pwd") {
		t.Errorf("ended at %s", url)
	}
	ms, _ := srv.Members(ent.TenantID)
	if ms[0].MustChangePassword {
		t.Error("the initial password was not changed")
	}
}

// into runs an action that answers a value and keeps it in dst.
func into[T any](a chromedp.Action[T], dst *T) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		v, err := a(ctx, t)
		*dst = v
		return chromedp.Void{}, err
	}
}
