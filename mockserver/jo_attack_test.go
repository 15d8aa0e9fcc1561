package mockserver_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

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
