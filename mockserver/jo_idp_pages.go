package mockserver

import (
	"html/template"
	"net/http"
	"net/url"
	"strings"
)

// The identity provider's pages, as small as a browser test needs: no
// script, no external resource. Every page says its kind and error in
// data- attributes, which the Go login helper (LogInMember) reads.

var idpPages = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="referrer" content="no-referrer">
<title>{{.Title}}</title></head>
<body data-page="{{.Page}}">
<h1>{{.Title}}</h1>
{{if .Error}}<p id="error" role="alert" data-error="{{.Error}}">{{.Message}}</p>{{end}}
{{if eq .Page "login"}}<p>Sign in to <strong>{{.App}}</strong> with your enterprise account (domain {{.Domain}}).</p>
<form id="login" method="post" action="{{.Action}}">
<input type="hidden" name="login_id" value="{{.LoginID}}">
<input type="hidden" name="csrf_token" value="{{.CSRF}}">
<p><label>Enterprise <input id="tenant" name="tenant" autocomplete="organization" required value="{{.Tenant}}"></label></p>
<p><label>Account <input id="account" name="account" autocomplete="username" required value="{{.Account}}"></label></p>
<p><label>Password <input id="password" name="password" type="password" autocomplete="current-password" required></label></p>
<p><button id="submit" type="submit">Log in</button></p>
</form>
{{else if eq .Page "password"}}<p>This is your first login: choose a new password for <strong>{{.Account}}</strong>
(8 to 64 characters, at least 3 of lower case, upper case, digits and symbols, not containing your account).</p>
<form id="password-change" method="post" action="{{.Action}}">
<input type="hidden" name="login_id" value="{{.LoginID}}">
<input type="hidden" name="csrf_token" value="{{.CSRF}}">
<p><label>New password <input id="new_password" name="new_password" type="password" autocomplete="new-password" required></label></p>
<p><label>Confirm <input id="confirm_password" name="confirm_password" type="password" autocomplete="new-password" required></label></p>
<p><button id="submit" type="submit">Change password</button></p>
</form>
{{else if eq .Page "logged-out"}}<p>You have signed out of the unified login.</p>
{{end}}<p><small>Huawei Cloud KooGallery unified login (TrueWatch mock server)</small></p>
</body></html>
`))

// idpPage is what a page shows.
type idpPage struct {
	Page, Title     string
	Error, Message  string
	App, Domain     string
	Action          string
	LoginID, CSRF   string
	Tenant, Account string
}

// writePage writes an HTML page with headers that keep it from being
// framed, cached, or sending its form anywhere but formAction's origins
// (the page's own, and the application's, where the answer redirects).
func writePage(w http.ResponseWriter, status int, p idpPage, formOrigins ...string) {
	setPageHeaders(w, formOrigins...)
	if p.Title == "" {
		p.Title = "Unified login"
	}
	w.WriteHeader(status)
	_ = idpPages.Execute(w, p)
}

// setPageHeaders sets the headers of an HTML page: not framed, not
// cached, no referrer, no script or external resource, forms sent only to
// the page's own origin and formOrigins.
func setPageHeaders(w http.ResponseWriter, formOrigins ...string) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action "+
		strings.Join(append([]string{"'self'"}, formOrigins...), " "))
}

// originOf is scheme://host of an absolute URL, for a CSP source.
func originOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// idpErrorPage answers a request that cannot go back to the application
// (an unknown enterprise, client or redirect URI, a form that expired or
// failed its CSRF check): an HTML page with the RFC 6749 error code.
func idpErrorPage(w http.ResponseWriter, status int, code, msg string) {
	writePage(w, status, idpPage{Page: "error", Title: "Unified login: error", Error: code, Message: msg})
}
