package mockserver_test

import (
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/truewatch-labs/marketplace-go/mockserver"
	"github.com/truewatch-labs/marketplace-go/secret"
)

// A code replayed (stolen from a log or a Referer after the vendor used
// it) revokes every token it led to (RFC 6749 §4.1.2), those issued by a
// refresh of its refresh token included: before, the access tokens a
// refresh had issued kept working for their two hours after the replay.
func TestUnifiedLogin_CodeReplayRevokesRefreshedTokens(t *testing.T) {
	env := loggedIn(t)
	client, attempt := vendorClient(t, env)
	cb, err := env.srv.UnifiedLogin(env.ctx, client.url, env.creds())
	require.NoError(t, err)
	first, _, err := client.lc.Finish(env.ctx, cb.Query(), attempt)
	require.NoError(t, err)
	refreshed, err := client.lc.Refresh(env.ctx, secret.String(first.RefreshToken))
	require.NoError(t, err)
	_, err = client.lc.UserInfo(env.ctx, refreshed)
	require.NoError(t, err)

	_, err = client.lc.Exchange(env.ctx, cb.Query().Get("code"), oauth2.VerifierOption(attempt.Verifier.Reveal()))
	assertLoginError(t, err, http.StatusBadRequest, "invalid_grant")

	for name, tok := range map[string]*oauth2.Token{"first": first, "refreshed": refreshed} {
		_, err = client.lc.UserInfo(env.ctx, tok)
		assertLoginError(t, err, http.StatusUnauthorized, "invalid_token")
		t.Log(name, "revoked")
	}
	_, err = client.lc.Refresh(env.ctx, secret.String(first.RefreshToken))
	assertLoginError(t, err, http.StatusBadRequest, "invalid_grant")
}

// postLogin opens a login page in a fresh browser and times the POST of
// its form with the login given.
func postLogin(t *testing.T, env *jointEnv, authorizeURL string, l mockserver.MemberLogin) time.Duration {
	t.Helper()
	hc := browser(t, env)
	_, body := get(t, hc, authorizeURL)
	form := url.Values{"tenant": {l.Enterprise}, "account": {l.Account}, "password": {l.Password}}
	for _, m := range hidden.FindAllStringSubmatch(body, -1) {
		form.Set(m[1], m[2])
	}
	require.Len(t, form, 5, "the login page has its login_id and csrf_token")
	start := time.Now()
	resp, err := hc.PostForm(env.ent.IdentityProvider+"/login", form)
	took := time.Since(start)
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	return took
}

// User enumeration by timing: a wrong password for a member costs the
// password hash (PBKDF2, about a millisecond), while an unknown account or
// enterprise was answered at once, so the time of the same 401 page told
// which accounts exist. An unknown account now costs a hash too.
func TestUnifiedLogin_UnknownAccountTakesAsLongAsAWrongPassword(t *testing.T) {
	env := loggedIn(t, mockserver.WithIdPPolicy(mockserver.IdPPolicy{MaxFailedLogins: 1000}))
	client, _ := vendorClient(t, env)
	cases := []mockserver.MemberLogin{
		{Enterprise: "engines", Account: "charles", Password: "Wrong-Pass-0001"}, // the member, a wrong password
		{Enterprise: "engines", Account: "nobody", Password: "Wrong-Pass-0001"},
		{Enterprise: "other", Account: "charles", Password: "Wrong-Pass-0001"},
	}
	const rounds = 31
	times := make([][]time.Duration, len(cases))
	for range rounds { // interleaved, so that load on the machine hits every case alike
		for i, l := range cases {
			times[i] = append(times[i], postLogin(t, env, client.url, l))
		}
	}
	median := func(d []time.Duration) time.Duration { slices.Sort(d); return d[len(d)/2] }
	known := median(times[0])
	for i := 1; i < len(cases); i++ {
		got := median(times[i])
		t.Logf("%+v: median %v, wrong password %v", cases[i], got, known)
		assert.GreaterOrEqual(t, float64(got), 0.6*float64(known),
			"an unknown %s is answered faster than a wrong password (%v vs %v): its existence shows", []string{"", "account", "enterprise"}[i], got, known)
	}
}
