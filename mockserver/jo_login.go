package mockserver

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
)

// Logging a member in from Go, for tests: the helpers below drive the
// real HTTP flow a browser follows (the login page, its CSRF-protected
// form, the forced change of the initial password, the redirects and
// cookies), not a backdoor, so what they prove is what a member sees.

// MemberLogin is what a member types on the unified-login page.
type MemberLogin struct {
	// Enterprise is the enterprise's abbreviation.
	Enterprise string
	Account    string
	Password   string
	// NewPassword replaces the initial password when the login page asks
	// for it (the first login); without it such a login fails with
	// LoginError code "password_change_required".
	NewPassword string
}

// LoginError is a login that did not reach the application: refused by
// the identity provider (Code an RFC 6749 error such as access_denied,
// temporarily_unavailable, invalid_request; or a page's: invalid_credentials,
// invalid_password) or by TrueWatch (not_authorized, ...).
type LoginError struct {
	// Stage says where: "authorize", "login", "password" (the identity
	// provider's pages), "redirect" (the error came back to the
	// application's redirect URI) or "truewatch" (TrueWatch's page).
	Stage       string
	HTTPStatus  int
	Code        string
	Description string
}

func (e *LoginError) Error() string {
	return fmt.Sprintf("mockserver: unified login refused at %s (HTTP %d): %s: %s", e.Stage, e.HTTPStatus, e.Code, e.Description)
}

// UnifiedLogin logs a member in on the unified-login page that
// authorizeURL (an application's authorize request, for example
// koogallery.LoginClient.Begin's) opens, and returns the URL the identity
// provider redirects to: the application's redirect URI with code,
// tenant_id and state, for the application's callback
// (koogallery.LoginClient.Finish). A refusal is a *LoginError; one sent
// back to the redirect URI also returns that URL.
func (s *Server) UnifiedLogin(ctx context.Context, authorizeURL string, login MemberLogin) (*url.URL, error) {
	if ctx == nil {
		return nil, errors.New("mockserver: nil context")
	}
	d := s.newDriver(true)
	resp, err := d.get(ctx, authorizeURL)
	if err != nil {
		return nil, err
	}
	return d.login(ctx, resp, login)
}

// TrueWatchLanding is where a member lands in TrueWatch after the unified
// login: the subscription's workspace.
type TrueWatchLanding struct {
	WorkspaceID string
	Site        string
	// PageURL is the "Activation Successful" page; NextURL the site's
	// login page its Confirm link opens, which names the workspace.
	PageURL, NextURL string
	// Body is the "Activation Successful" page.
	Body string
	// Client is the member's browser: its cookies hold the TrueWatch and
	// unified-login sessions.
	Client *http.Client
}

// LogInToTrueWatch signs a member of an enterprise in to TrueWatch through
// the unified login, as a browser does: from the enterprise's
// unified-login link (Enterprise.LoginURL) to TrueWatch's sign-in page,
// the login page (changing the initial password when asked), TrueWatch's
// callback and its "Activation Successful" page. A refusal is a
// *LoginError, TrueWatch's (Stage "truewatch") included.
func (s *Server) LogInToTrueWatch(ctx context.Context, tenantID string, login MemberLogin) (*TrueWatchLanding, error) {
	if ctx == nil {
		return nil, errors.New("mockserver: nil context")
	}
	e, err := s.Enterprise(tenantID)
	if err != nil {
		return nil, err
	}
	d := s.newDriver(false)
	resp, err := d.get(ctx, e.LoginURL)
	if err != nil {
		return nil, err
	}
	if _, err := d.login(ctx, resp, login); err != nil {
		return nil, err
	}
	p := d.last
	if p.kind != "activated" {
		return nil, p.loginError("truewatch")
	}
	l := &TrueWatchLanding{WorkspaceID: attr(p.body, "data-workspace"), Site: attr(p.body, "data-site"),
		PageURL: p.url.String(), Body: p.body, Client: d.hc}
	if href := attr(p.body, `id="confirm" href`); href != "" {
		if u, err := p.url.Parse(href); err == nil {
			l.NextURL = u.String()
		}
	}
	return l, nil
}

// driver is a member's browser: a cookie jar, and redirects followed
// (within the identity provider only, when idpOnly).
type driver struct {
	hc   *http.Client
	last page
}

// page is an HTML answer.
type page struct {
	url    *url.URL
	status int
	body   string
	kind   string // data-page
}

func (s *Server) newDriver(idpOnly bool) *driver {
	jar, _ := cookiejar.New(nil) // never fails without options
	hc := &http.Client{Transport: s.rt, Jar: jar}
	if idpOnly {
		hc.CheckRedirect = func(r *http.Request, via []*http.Request) error {
			if !strings.HasPrefix(r.URL.Path, idpPrefix) || len(via) > 10 {
				return http.ErrUseLastResponse
			}
			return nil
		}
	}
	return &driver{hc: hc}
}

func (d *driver) get(ctx context.Context, target string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, fmt.Errorf("mockserver: login URL: %w", err)
	}
	return d.hc.Do(req)
}

func (d *driver) post(ctx context.Context, target string, form url.Values) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("mockserver: login form: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return d.hc.Do(req)
}

// read reads an answer: a redirect that was not followed comes back as
// its target, a page as d.last.
func (d *driver) read(resp *http.Response) (*url.URL, error) {
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		u, err := resp.Request.URL.Parse(resp.Header.Get("Location"))
		if err != nil {
			return nil, fmt.Errorf("mockserver: redirect: %w", err)
		}
		return u, nil
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	d.last = page{url: resp.Request.URL, status: resp.StatusCode, body: string(b), kind: attr(string(b), "data-page")}
	return nil, nil
}

// login fills the login page (and the password change) that resp shows.
func (d *driver) login(ctx context.Context, resp *http.Response, login MemberLogin) (*url.URL, error) {
	stage := "authorize"
	for range 4 {
		back, err := d.read(resp)
		if err != nil {
			return nil, err
		}
		if back != nil {
			if code := back.Query().Get("error"); code != "" {
				return back, &LoginError{Stage: "redirect", HTTPStatus: resp.StatusCode, Code: code, Description: back.Query().Get("error_description")}
			}
			return back, nil
		}
		p := d.last
		form := url.Values{}
		for _, m := range hiddenInput.FindAllStringSubmatch(p.body, -1) {
			form.Set(html.UnescapeString(m[1]), html.UnescapeString(m[2]))
		}
		action := ""
		if m := formAction.FindStringSubmatch(p.body); m != nil {
			action = html.UnescapeString(m[1])
		}
		switch {
		case p.kind == "login" && stage == "authorize":
			stage = "login"
			form.Set("tenant", login.Enterprise)
			form.Set("account", login.Account)
			form.Set("password", login.Password)
		case p.kind == "password" && stage == "login" && login.NewPassword == "":
			return nil, &LoginError{Stage: "password", HTTPStatus: p.status, Code: "password_change_required",
				Description: "the initial password must be changed: give MemberLogin.NewPassword"}
		case p.kind == "password" && stage == "login":
			stage = "password"
			form.Set("new_password", login.NewPassword)
			form.Set("confirm_password", login.NewPassword)
		case p.kind == "login" || p.kind == "password" || p.kind == "error":
			return nil, p.loginError(stage)
		default:
			return nil, nil // a page of the application: d.last
		}
		target, err := p.url.Parse(action)
		if err != nil || action == "" {
			return nil, fmt.Errorf("mockserver: the login page has no form action")
		}
		if resp, err = d.post(ctx, target.String(), form); err != nil {
			return nil, err
		}
	}
	return nil, errors.New("mockserver: the login did not end")
}

func (p page) loginError(stage string) *LoginError {
	if !strings.HasPrefix(p.url.Path, idpPrefix) {
		stage = "truewatch"
	}
	msg := ""
	if m := errorText.FindStringSubmatch(p.body); m != nil {
		msg = html.UnescapeString(m[1])
	}
	return &LoginError{Stage: stage, HTTPStatus: p.status, Code: cmpOr(attr(p.body, "data-error"), "unexpected_page"), Description: msg}
}

var (
	hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
	formAction  = regexp.MustCompile(`<form id="[^"]*" method="post" action="([^"]*)">`)
	errorText   = regexp.MustCompile(`<p id="error"[^>]*>([^<]*)</p>`)
)

// attr is the value of the first name="..." in an HTML page.
func attr(body, name string) string {
	i := strings.Index(body, name+`="`)
	if i < 0 {
		return ""
	}
	rest := body[i+len(name)+2:]
	j := strings.IndexByte(rest, '"')
	if j < 0 {
		return ""
	}
	return html.UnescapeString(rest[:j])
}
