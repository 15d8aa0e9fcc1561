package mockserver

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/apierror"
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

// TestResetIsAtomic: concurrent Resets all succeed, and no reader ever sees
// the state between "dropped" and "demo fixture seeded again".
func TestResetIsAtomic(t *testing.T) {
	h := newHarness(t)
	stop := make(chan struct{})
	var readers sync.WaitGroup
	var emptySeen atomic.Int32
	for range 4 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, ok := h.srv.Subscription(DemoHuaweiAccountID, DemoInstanceID); !ok {
					emptySeen.Add(1)
				}
			}
		}()
	}
	var resets sync.WaitGroup
	for range 8 {
		resets.Add(1)
		go func() {
			defer resets.Done()
			for range 50 {
				assert.NoError(t, h.srv.Reset())
			}
		}()
	}
	resets.Wait()
	close(stop)
	readers.Wait()
	assert.Zero(t, emptySeen.Load(), "a reader saw the server without its demo fixture")
	assert.Len(t, h.srv.Purchases(), 1)
}

// TestQueryStrictness: a parameter given twice, or a query string Go
// cannot parse (whose pairs url.URL.Query would silently drop), is refused.
func TestQueryStrictness(t *testing.T) {
	sc := newListScenario(t)
	for _, q := range []string{"?pageIndex=1&pageIndex=2", "?site=ap1&site=eu1", "?pageSize=5&x=%zz", "?pageSize=5;x"} {
		_, r := sc.list(q)
		requireErr(t, r, http.StatusBadRequest, apierror.CodeValidation)
	}
	sub := bcPath(routes.GetSubscription) + "?huaweiAccountId=" + DemoHuaweiAccountID + "&instanceId=" + DemoInstanceID
	sc.h.requireOK(sc.h.do(http.MethodGet, sub, nil), nil)
	r := sc.h.do(http.MethodGet, sub+"&instanceId=other", nil)
	requireErr(t, r, http.StatusBadRequest, apierror.CodeValidation)
	assert.Equal(t, []string{"instanceId"}, r.problems(t))
}
