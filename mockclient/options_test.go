package mockclient_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/mockclient"
	"github.com/truewatch-labs/marketplace-go/mockserver"
	"github.com/truewatch-labs/marketplace-go/secret"
)

func TestNewRefusesBadOptions(t *testing.T) {
	for _, u := range []string{"", "127.0.0.1:8080", "ftp://h", "http://", "http://h/?q=1", "http://h/#f", "http://u:p@h", "://"} {
		_, err := mockclient.New(u)
		assert.Error(t, err, "%q", u)
	}
	_, err := mockclient.New("http://127.0.0.1:1", mockclient.WithHTTPClient(nil))
	assert.ErrorContains(t, err, "nil HTTP client")
	for _, tok := range []secret.String{"", "with space"} {
		_, err = mockclient.New("http://127.0.0.1:1", mockclient.WithControlToken(tok))
		assert.Error(t, err, "%q", tok.Reveal())
	}
	c, err := mockclient.New("http://127.0.0.1:1/prefix/")
	require.NoError(t, err)
	assert.Equal(t, "http://127.0.0.1:1/prefix", c.BaseURL())
}

// The token goes to the mock on every call and nowhere else: not in the
// client's %v, %+v or %#v, nor in an error.
func TestControlToken(t *testing.T) {
	const token = "tok-0123456789abcdef-secret"
	e := newEnv(t, token)
	_, err := e.mc.State(e.ctx)
	require.NoError(t, err)
	require.NoError(t, e.mc.Reset(e.ctx))
	for _, f := range []string{"%v", "%+v", "%#v", "%s"} {
		assert.NotContains(t, fmt.Sprintf(f, e.mc), token, f)
	}

	without, err := mockclient.New(e.srv.URL(), mockclient.WithHTTPClient(e.hc))
	require.NoError(t, err)
	_, err = without.Health(e.ctx)
	require.NoError(t, err, "the health check needs no token")
	_, err = without.State(e.ctx)
	status(t, http.StatusUnauthorized, err)
	wrong, err := mockclient.New(e.srv.URL(), mockclient.WithHTTPClient(e.hc), mockclient.WithControlToken("tok-0123456789abcdef-wrong"))
	require.NoError(t, err)
	err = wrong.Reset(e.ctx)
	status(t, http.StatusUnauthorized, err)
	assert.NotContains(t, err.Error(), token)
	assert.NotContains(t, err.Error(), "wrong")
	e.noProblems()
}

func TestErrors(t *testing.T) {
	e := newEnv(t, "")
	_, err := e.mc.Order(e.ctx, "no-such-order")
	var me *mockclient.Error
	require.True(t, errors.As(err, &me))
	assert.Equal(t, http.StatusNotFound, me.StatusCode)
	assert.Equal(t, http.MethodGet, me.Method)
	assert.Equal(t, "/_mock/marketplace/orders/no-such-order", me.Path)
	assert.Contains(t, me.Message, "no-such-order")
	assert.Contains(t, err.Error(), "404 Not Found")
	assert.True(t, mockclient.IsStatus(err, http.StatusNotFound))
	assert.False(t, mockclient.IsStatus(err, http.StatusConflict))
	assert.False(t, mockclient.IsStatus(errors.New("x"), http.StatusNotFound))

	// Path segments are escaped: a slash in an ID stays in its segment.
	_, err = e.mc.Order(e.ctx, "a/b")
	require.True(t, errors.As(err, &me))
	assert.Equal(t, http.StatusNotFound, me.StatusCode)
	assert.Contains(t, me.Message, `"a/b"`)

	//lint:ignore SA1012 a nil context is what is tested
	_, err = e.mc.State(nil)
	assert.ErrorContains(t, err, "nil context")

	ctx, cancel := context.WithCancel(e.ctx)
	cancel()
	_, err = e.mc.State(ctx)
	assert.ErrorIs(t, err, context.Canceled)
	e.noProblems()

	// An answer that is not the mock's: not JSON, or an unexpected status.
	odd := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/_mock/state" {
			w.WriteHeader(http.StatusTeapot)
			_, _ = w.Write([]byte("  short and stout  "))
			return
		}
		if r.URL.Path == "/_mock/clock" {
			_, _ = w.Write([]byte("{not json"))
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	defer odd.Close()
	c, err := mockclient.New(odd.URL)
	require.NoError(t, err)
	_, err = c.State(e.ctx)
	require.True(t, errors.As(err, &me))
	assert.Equal(t, "short and stout", me.Message)
	_, err = c.Clock(e.ctx)
	assert.ErrorContains(t, err, "decode the answer")
	err = c.Reset(e.ctx)
	assert.ErrorContains(t, err, "unexpected status 202")
	assert.False(t, mockclient.IsStatus(err, http.StatusAccepted))
}

// Every request carries X-Mock-Control: 1, and a body only as JSON.
func TestHeaders(t *testing.T) {
	var seen []string
	srv := mockserver.Start(t)
	mc, err := mockclient.New(srv.URL(), mockclient.WithHTTPClient(&http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		seen = append(seen, strings.Join([]string{r.Method, r.Header.Get(mockclient.ControlHeader), r.Header.Get("Content-Type")}, " "))
		return http.DefaultTransport.RoundTrip(r)
	})}))
	require.NoError(t, err)
	ctx := context.Background()
	_, err = mc.State(ctx)
	require.NoError(t, err)
	_, err = mc.InjectFault(ctx, mockserver.Fault{Path: "/v3/auth/domains"})
	require.NoError(t, err)
	require.NoError(t, mc.ClearFaults(ctx))
	assert.Equal(t, []string{"GET 1 ", "POST 1 application/json", "DELETE 1 "}, seen)
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
