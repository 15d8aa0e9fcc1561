package mockserver

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestTraceIDIsTheRequestIDUpperCasedAsAUUID holds traceID's stack-built
// form of a request ID to its definition: TRACE- and the ID upper-cased,
// split 8-4-4-4-12, the same as the general path builds for other IDs.
func TestTraceIDIsTheRequestIDUpperCasedAsAUUID(t *testing.T) {
	ids := []string{"0123456789abcdef0123456789abcdef", "ffffffffffffffffffffffffffffffff",
		"00000000000000000000000000000000", "a1b2c3d4e5f60718293a4b5c6d7e8f90"}
	for _, id := range ids {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r = r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id))
		h := strings.ToUpper(id)
		assert.Equal(t, "TRACE-"+h[0:8]+"-"+h[8:12]+"-"+h[12:16]+"-"+h[16:20]+"-"+h[20:32], traceID(r))
	}
	// Not a request ID: padded with zeros, by the general path.
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r = r.WithContext(context.WithValue(r.Context(), requestIDKey{}, "abc"))
	assert.Equal(t, "TRACE-ABC00000-0000-0000-0000-000000000000", traceID(r))
}
