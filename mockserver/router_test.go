package mockserver_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/mockserver"
)

// Unclean paths get a 404 in the shape of the API family the path names,
// never ServeMux's HTML redirect.
func TestUncleanPathsAre404InTheRightShape(t *testing.T) {
	srv := mockserver.Start(t)
	hc := srv.HTTPClient()
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	tests := []struct {
		path      string
		truewatch bool
	}{
		{"//x", false},
		{"/v3/auth/../auth/domains", false},
		{"/billing-center//api/v1/subscription/get", true},
		{"/sites/us1/console-api/api/v1/./workspace/create", true},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, srv.URL(), nil)
			require.NoError(t, err)
			req.URL.Path = tt.path
			req.URL.RawPath = ""
			resp, err := hc.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			assert.Equal(t, http.StatusNotFound, resp.StatusCode)
			var body map[string]any
			require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
			if tt.truewatch {
				assert.Equal(t, "ft.RouteNotFound", body["errorCode"])
				assert.Equal(t, false, body["success"])
			} else {
				assert.NotEmpty(t, body["error_code"])
				assert.NotEmpty(t, body["error_msg"])
			}
		})
	}
}
