package mockserver

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/internal/httpcore"
	"github.com/truewatch-labs/marketplace-go/internal/routes"
)

// TestHugePageIndex: a page far beyond the end is an empty page, whatever
// pageIndex*pageSize would overflow to.
func TestHugePageIndex(t *testing.T) {
	sc := newListScenario(t)
	for _, q := range []string{"?pageIndex=9223372036854775807&pageSize=100", "?pageIndex=4611686018427387904&pageSize=2",
		"?pageIndex=9223372036854775807"} {
		items, r := sc.list(q)
		require.Equal(t, http.StatusOK, r.status, "%s: %s", q, r.raw)
		assert.Empty(t, items)
		assert.Equal(t, 0, r.env.PageInfo.Count)
		assert.Equal(t, 9, r.env.PageInfo.TotalCount)
	}
}

// TestPanicInOperationReleasesState: an operation that panics (the router
// answers 500) does not leave the state locked, which would hang every
// later request.
func TestPanicInOperationReleasesState(t *testing.T) {
	h := newHarness(t)
	req := httptest.NewRequest(http.MethodGet, bcPath(routes.GetSubscription), nil)
	require.Panics(t, func() {
		h.srv.serveOp(httptest.NewRecorder(), req, false, func(*call) (any, *httpcore.PageInfo, *twError) { panic("boom") })
	})
	require.True(t, h.srv.mu.TryLock(), "the state lock is released")
	h.srv.mu.Unlock()
}
