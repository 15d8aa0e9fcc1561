package mockserver_test

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/mockserver"
)

// Without a listener there is no connection to drop: HTTPClient reports a
// DropConnection fault as a response that never came, and the server keeps
// serving.
func TestDropConnectionWithoutListener(t *testing.T) {
	srv := mockserver.Start(t, mockserver.WithoutListener())
	path := "/billing-center/api/v1/subscription/get"
	_, err := srv.InjectFault(mockserver.Fault{Path: path, DropConnection: true})
	require.NoError(t, err)
	hc := srv.HTTPClient()

	_, err = hc.Get(srv.URL() + path)
	require.Error(t, err)
	assert.True(t, errors.Is(err, io.ErrUnexpectedEOF), "got %v", err)

	resp, err := hc.Get(srv.URL() + "/_mock/health")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}

type closeRecorder struct {
	io.Reader
	closed bool
}

func (c *closeRecorder) Close() error { c.closed = true; return nil }

// The in-process HTTPClient closes request bodies, as every RoundTripper
// must (connection pools and io.Pipe writers wait for it).
func TestInProcessClientClosesRequestBodies(t *testing.T) {
	srv := mockserver.Start(t, mockserver.WithoutListener())
	body := &closeRecorder{Reader: strings.NewReader(`{"email":"ada@example.com","purpose":"register"}`)}
	req, err := http.NewRequest(http.MethodPost, srv.BillingURL()+"/api/v1/verification_code/send", body)
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	resp, err := srv.HTTPClient().Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.True(t, body.closed)
}
