package mockserver

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/internal/routes"
	"github.com/truewatch-labs/marketplace-go/twapi"
)

// TestSettlementMonthBoundaries: "at most once per calendar month" is the
// UTC calendar month, at month and year ends and whatever zone the clock or
// the seeded change time is in.
func TestSettlementMonthBoundaries(t *testing.T) {
	utc := func(y int, m time.Month, d, hh, mm, ss int) time.Time {
		return time.Date(y, m, d, hh, mm, ss, 0, time.UTC)
	}
	east := time.FixedZone("UTC+8", 8*3600)
	west := time.FixedZone("UTC-5", -5*3600)
	tests := []struct {
		name      string
		changedAt time.Time
		now       time.Time
		refused   bool
	}{
		{"same month, first and last second", utc(2026, 3, 1, 0, 0, 0), utc(2026, 3, 31, 23, 59, 59), true},
		{"previous month's last second", utc(2026, 2, 28, 23, 59, 59), utc(2026, 3, 1, 0, 0, 0), false},
		{"year end", utc(2026, 12, 31, 23, 59, 59), utc(2027, 1, 1, 0, 0, 0), false},
		{"same month a year later", utc(2026, 1, 15, 0, 0, 0), utc(2027, 1, 15, 0, 0, 0), false},
		{"same month a year earlier", utc(2027, 1, 15, 0, 0, 0), utc(2026, 1, 20, 0, 0, 0), false},
		{"leap day", utc(2028, 2, 29, 12, 0, 0), utc(2028, 2, 29, 23, 59, 59), true},
		// 2026-03-31 20:00 in UTC-5 is April 1 in UTC.
		{"change time in another zone", time.Date(2026, 3, 31, 20, 0, 0, 0, west), utc(2026, 4, 30, 23, 0, 0), true},
		// The clock reads April 1 07:59:59 in UTC+8: still March 31 in UTC.
		{"clock in another zone", utc(2026, 3, 2, 0, 0, 0), time.Date(2026, 4, 1, 7, 59, 59, 0, east), true},
		{"clock in another zone, next UTC month", utc(2026, 3, 31, 0, 0, 0), time.Date(2026, 4, 1, 8, 0, 0, 0, east), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.clock.Set(tc.now)
			e := h.seedExisting("ada", "ada@example.com")
			w := h.seedWorkspace(e, "prod", twapi.Settlement{Method: twapi.SettlementBillingCenter,
				ChangedAt: twapi.Timestamp{Time: tc.changedAt}})
			tok := h.bind("ada", "ada@example.com", DemoHuaweiAccountID, DemoInstanceID).Token

			var list []billing.BindableWorkspace
			h.requireOK(h.do(http.MethodGet, bcPath(routes.ListWorkspaces), nil, withToken(tok)), &list)
			require.Len(t, list, 1)
			assert.Equal(t, !tc.refused, list[0].Bindable)

			bind := func() *wireResp {
				return h.do(http.MethodPost, bcPath(routes.BindWorkspace), billing.BindWorkspaceRequest{WorkspaceID: w.ID}, withToken(tok))
			}
			if tc.refused {
				assert.Equal(t, reasonMonthlyLimit, list[0].Reason)
				h.requireUnchanged(func() {
					requireErr(t, bind(), http.StatusConflict, apierror.CodeSettlementChangeLimit)
				})
				return
			}
			var res billing.BindWorkspaceResult
			h.requireOK(bind(), &res)
			assert.True(t, res.Changed)
			assert.Equal(t, tc.now.UTC().Truncate(time.Second), res.Workspace.Settlement.ChangedAt.Time)
		})
	}
}
