// Package site holds the TrueWatch sites as data: each site's code, name,
// cloud provider and the hosts of its services, with overrides so that tests
// and private deployments can point any service anywhere.
//
// A site is chosen once per workspace and can never change. An unknown site
// code is always an error; nothing falls back silently to a default site.
package site

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// Code is a TrueWatch site code such as "us1".
type Code string

// The TrueWatch sites documented at docs.truewatch.com.
const (
	US1 Code = "us1" // Americas 1 (Oregon), AWS
	EU1 Code = "eu1" // Europe 1 (Frankfurt), AWS
	AP1 Code = "ap1" // Asia-Pacific 1 (Singapore), AWS
	ZA1 Code = "za1" // Africa 1 (South Africa), Huawei Cloud
	ID1 Code = "id1" // Indonesia 1 (Jakarta), Tencent Cloud
)

// Service names one of a site's hosts: https://{site}-{service}.truewatch.com.
type Service string

// The services every site has.
const (
	Console    Service = "console"     // the web console
	ConsoleAPI Service = "console-api" // the console's API; serves the workspace contract
	OpenAPI    Service = "openapi"     // the public, workspace-scoped OpenAPI
	Auth       Service = "auth"        // the login pages
)

// Services lists every Service in a stable order.
func Services() []Service { return []Service{Console, ConsoleAPI, OpenAPI, Auth} }

// Site describes one TrueWatch site.
type Site struct {
	Code     Code   // site code, e.g. "us1"
	Name     string // human-readable name
	Provider string // the cloud the site runs on
}

var known = []Site{
	{US1, "Americas 1 (Oregon)", "AWS"},
	{EU1, "Europe 1 (Frankfurt)", "AWS"},
	{AP1, "Asia-Pacific 1 (Singapore)", "AWS"},
	{ZA1, "Africa 1 (South Africa)", "Huawei Cloud"},
	{ID1, "Indonesia 1 (Jakarta)", "Tencent Cloud"},
}

// All returns the known sites in a stable order. The slice is a copy.
func All() []Site { return slices.Clone(known) }

// Codes returns the known site codes in a stable order.
func Codes() []Code {
	out := make([]Code, len(known))
	for i, s := range known {
		out[i] = s.Code
	}
	return out
}

// Lookup returns the site with the given code (case-insensitive), or an
// *UnknownError.
func Lookup(code Code) (Site, error) {
	c := Code(strings.ToLower(strings.TrimSpace(string(code))))
	for _, s := range known {
		if s.Code == c {
			return s, nil
		}
	}
	return Site{}, &UnknownError{Code: code}
}

// Valid reports whether code is a known site code (exact, lower-case).
func (c Code) Valid() bool {
	for _, s := range known {
		if s.Code == c {
			return true
		}
	}
	return false
}

// String returns the code.
func (c Code) String() string { return string(c) }

// UnknownError is returned for a site code that is not one of All().
type UnknownError struct{ Code Code }

func (e *UnknownError) Error() string {
	return fmt.Sprintf("unknown TrueWatch site %q (known: %s)", e.Code, joinCodes())
}

func joinCodes() string {
	cs := Codes()
	s := make([]string, len(cs))
	for i, c := range cs {
		s[i] = string(c)
	}
	return strings.Join(s, ", ")
}

// DefaultURL returns the public URL of a service of a site:
// https://{site}-{service}.truewatch.com.
func DefaultURL(code Code, svc Service) (string, error) {
	s, err := lookupService(code, svc)
	if err != nil {
		return "", err
	}
	return "https://" + string(s.Code) + "-" + string(svc) + ".truewatch.com", nil
}

// lookupService returns the site of code, as Lookup does (so the site's
// canonical lower-case code), after checking that svc is one of Services().
func lookupService(code Code, svc Service) (Site, error) {
	s, err := Lookup(code)
	if err != nil {
		return s, err
	}
	if svcs := Services(); !slices.Contains(svcs, svc) {
		return s, fmt.Errorf("site: unknown service %q (known: %v)", string(svc), svcs)
	}
	return s, nil
}

// Endpoints resolves the base URL of every service of every site, with
// overrides. The zero value resolves to the public defaults. Endpoints is a
// value type: With returns a modified copy, so one Endpoints can be shared by
// goroutines.
type Endpoints struct {
	overrides map[key]string
	// base, when set, serves every site and service under
	// {base}/sites/{site}/{service} (the mock server's layout).
	base string
}

type key struct {
	site Code
	svc  Service
}

// With returns a copy of e in which the given service of the given site
// resolves to rawURL. The URL must be absolute http or https; the site code
// is matched as Lookup matches it, and the service must be one of
// Services().
func (e Endpoints) With(code Code, svc Service, rawURL string) (Endpoints, error) {
	s, err := lookupService(code, svc)
	if err != nil {
		return e, err
	}
	u, err := parseBase(rawURL)
	if err != nil {
		return e, err
	}
	out := Endpoints{base: e.base, overrides: make(map[key]string, len(e.overrides)+1)}
	for k, v := range e.overrides {
		out.overrides[k] = v
	}
	out.overrides[key{s.Code, svc}] = u
	return out, nil
}

// UnderBase returns Endpoints that serve every site and service from one
// server, at {base}/sites/{site}/{service}; this is how the mock server lays
// them out. Per-service overrides made with With still win.
func UnderBase(base string) (Endpoints, error) {
	u, err := parseBase(base)
	if err != nil {
		return Endpoints{}, err
	}
	return Endpoints{base: u}, nil
}

// URL returns the base URL (no trailing slash) of a service of a site. The
// site code is matched as Lookup matches it; an unknown site or service is
// an error.
func (e Endpoints) URL(code Code, svc Service) (string, error) {
	s, err := lookupService(code, svc)
	if err != nil {
		return "", err
	}
	if u, ok := e.overrides[key{s.Code, svc}]; ok {
		return u, nil
	}
	if e.base != "" {
		return e.base + "/sites/" + string(s.Code) + "/" + string(svc), nil
	}
	return DefaultURL(s.Code, svc)
}

// LoginURL returns the page where users of a site log in.
func (e Endpoints) LoginURL(code Code) (string, error) {
	u, err := e.URL(code, Auth)
	if err != nil {
		return "", err
	}
	return u + "/login/pwd", nil
}

func parseBase(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return "", fmt.Errorf("site: invalid URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return "", fmt.Errorf("site: URL %q must be absolute http or https", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("site: URL %q must not have a query or fragment", raw)
	}
	return strings.TrimRight(u.String(), "/"), nil
}
