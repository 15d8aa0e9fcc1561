package site_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/site"
)

func TestKnownSites(t *testing.T) {
	assert.Equal(t, []site.Code{site.US1, site.EU1, site.AP1, site.ZA1, site.ID1}, site.Codes())
	all := site.All()
	require.Len(t, all, 5)
	all[0].Name = "changed"
	assert.NotEqual(t, "changed", site.All()[0].Name, "All returns a copy")

	s, err := site.Lookup(" ZA1 ")
	require.NoError(t, err)
	assert.Equal(t, site.Site{Code: site.ZA1, Name: "Africa 1 (South Africa)", Provider: "Huawei Cloud"}, s)
	assert.Equal(t, []site.Service{site.Console, site.ConsoleAPI, site.OpenAPI, site.Auth}, site.Services())
}

func TestUnknownSiteIsAnError(t *testing.T) {
	for _, c := range []site.Code{"", "us2", "cn1", "us-1"} {
		_, err := site.Lookup(c)
		var ue *site.UnknownError
		require.True(t, errors.As(err, &ue), "%q", c)
		assert.Equal(t, c, ue.Code)
		assert.Contains(t, err.Error(), "known: us1, eu1, ap1, za1, id1")
		assert.False(t, c.Valid())

		_, err = site.DefaultURL(c, site.Console)
		assert.Error(t, err)
		_, err = site.Endpoints{}.URL(c, site.ConsoleAPI)
		assert.Error(t, err)
		_, err = site.Endpoints{}.LoginURL(c)
		assert.Error(t, err)
		_, err = site.Endpoints{}.With(c, site.Auth, "https://x.test")
		assert.Error(t, err)
	}
	assert.False(t, site.Code("US1").Valid(), "Valid is exact")
	assert.True(t, site.US1.Valid())
	assert.Equal(t, "eu1", site.EU1.String())
}

func TestDefaultEndpoints(t *testing.T) {
	var e site.Endpoints
	for _, tt := range []struct {
		code site.Code
		svc  site.Service
		want string
	}{
		{site.US1, site.Console, "https://us1-console.truewatch.com"},
		{site.EU1, site.ConsoleAPI, "https://eu1-console-api.truewatch.com"},
		{site.ID1, site.OpenAPI, "https://id1-openapi.truewatch.com"},
		{site.ZA1, site.Auth, "https://za1-auth.truewatch.com"},
	} {
		got, err := e.URL(tt.code, tt.svc)
		require.NoError(t, err)
		assert.Equal(t, tt.want, got)
	}
	login, err := e.LoginURL(site.AP1)
	require.NoError(t, err)
	assert.Equal(t, "https://ap1-auth.truewatch.com/login/pwd", login)
}

func TestOverrides(t *testing.T) {
	var base site.Endpoints
	e, err := base.With(site.EU1, site.ConsoleAPI, " https://eu.private.test/api/ ")
	require.NoError(t, err)
	got, _ := e.URL(site.EU1, site.ConsoleAPI)
	assert.Equal(t, "https://eu.private.test/api", got)
	got, _ = e.URL(site.EU1, site.Console)
	assert.Equal(t, "https://eu1-console.truewatch.com", got, "other services keep their defaults")
	got, _ = base.URL(site.EU1, site.ConsoleAPI)
	assert.Equal(t, "https://eu1-console-api.truewatch.com", got, "With returns a copy")

	e2, err := e.With(site.EU1, site.Auth, "http://auth.test")
	require.NoError(t, err)
	login, _ := e2.LoginURL(site.EU1)
	assert.Equal(t, "http://auth.test/login/pwd", login)
	_, err = e.LoginURL(site.EU1)
	require.NoError(t, err)
	got, _ = e.URL(site.EU1, site.Auth)
	assert.Equal(t, "https://eu1-auth.truewatch.com", got, "the earlier value is not changed")

	for _, bad := range []string{"", "eu.test", "ftp://eu.test", "https://", "https://eu.test/?q=1", "https://eu.test/#f", "http://[::1"} {
		_, err := base.With(site.EU1, site.Console, bad)
		assert.Error(t, err, bad)
	}
}

func TestUnderBase(t *testing.T) {
	e, err := site.UnderBase("http://127.0.0.1:8080/")
	require.NoError(t, err)
	got, _ := e.URL(site.ZA1, site.ConsoleAPI)
	assert.Equal(t, "http://127.0.0.1:8080/sites/za1/console-api", got)
	login, _ := e.LoginURL(site.US1)
	assert.Equal(t, "http://127.0.0.1:8080/sites/us1/auth/login/pwd", login)

	e, err = e.With(site.ZA1, site.ConsoleAPI, "https://override.test")
	require.NoError(t, err)
	got, _ = e.URL(site.ZA1, site.ConsoleAPI)
	assert.Equal(t, "https://override.test", got, "overrides win over the base")
	got, _ = e.URL(site.ZA1, site.OpenAPI)
	assert.Equal(t, "http://127.0.0.1:8080/sites/za1/openapi", got, "the base survives With")

	for _, bad := range []string{"", "localhost:8080", "http://x.test?a=b"} {
		_, err := site.UnderBase(bad)
		assert.Error(t, err, bad)
	}
}

func TestSiteCodesAreCaseInsensitiveEverywhere(t *testing.T) {
	// Lookup accepts any case; an override made with one spelling must be
	// the one used for every spelling, never a silent fall-back to the
	// public host.
	e, err := site.Endpoints{}.With(site.Code("EU1"), site.ConsoleAPI, "http://mock.test/eu")
	require.NoError(t, err)
	for _, c := range []site.Code{"eu1", "EU1", " Eu1 "} {
		got, err := e.URL(c, site.ConsoleAPI)
		require.NoError(t, err)
		assert.Equal(t, "http://mock.test/eu", got, "%q", c)
	}
	u, err := site.UnderBase("http://mock.test")
	require.NoError(t, err)
	got, err := u.URL("ZA1", site.Auth)
	require.NoError(t, err)
	assert.Equal(t, "http://mock.test/sites/za1/auth", got)
	got, err = site.DefaultURL("US1", site.Console)
	require.NoError(t, err)
	assert.Equal(t, "https://us1-console.truewatch.com", got)
}

func TestUnknownServiceIsAnError(t *testing.T) {
	// A misspelt service would otherwise leave the real one pointing at
	// the public host.
	_, err := site.Endpoints{}.With(site.EU1, site.Service("consle-api"), "http://mock.test")
	assert.ErrorContains(t, err, `unknown service "consle-api"`)
	_, err = site.Endpoints{}.URL(site.EU1, site.Service("db"))
	assert.Error(t, err)
	_, err = site.DefaultURL(site.EU1, site.Service(""))
	assert.Error(t, err)
	for _, svc := range site.Services() {
		_, err := site.Endpoints{}.URL(site.EU1, svc)
		assert.NoError(t, err, svc)
	}
}
