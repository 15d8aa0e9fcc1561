package billing_test

import (
	"context"
	"fmt"
	"iter"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/internal/httpcore"
	"github.com/truewatch-labs/marketplace-go/internal/testkit"
	"github.com/truewatch-labs/marketplace-go/twapi"
)

// pages returns one reply per page of total workspaces served size at a
// time, in the content.data shape on even pages and bare on odd ones.
func pages(total, size int, withTotal bool) []testkit.Reply {
	var out []testkit.Reply
	for start, index := 0, 1; ; start, index = start+size, index+1 {
		var items []map[string]any
		for i := start; i < min(start+size, total); i++ {
			items = append(items, map[string]any{"uuid": fmt.Sprintf("wksp_%d", i), "name": fmt.Sprint(i), "site": "us1", "bindable": true})
		}
		pi := httpcore.PageInfo{Count: len(items), PageIndex: index, PageSize: size}
		if withTotal {
			pi.TotalCount = total
		}
		var content any = items
		if items == nil {
			content = []any{}
		}
		if index%2 == 0 {
			content = map[string]any{"data": content}
		}
		out = append(out, testkit.Page(content, pi))
		if start+size > total {
			return out
		}
	}
}

func ids(t *testing.T, seq func(func(billing.BindableWorkspace, error) bool)) []string {
	t.Helper()
	var out []string
	for ws, err := range seq {
		require.NoError(t, err)
		out = append(out, ws.ID)
	}
	return out
}

func pageIndexes(e env) []string {
	var out []string
	for _, r := range e.rec.Requests() {
		out = append(out, r.Query.Get("pageIndex"))
	}
	return out
}

func TestAllBindableWorkspaces_Pages(t *testing.T) {
	tests := []struct {
		name      string
		total     int
		withTotal bool
		requests  []string
	}{
		{"short last page", 7, false, []string{"1", "2", "3"}},
		{"exact multiple stops at an empty page", 9, false, []string{"1", "2", "3", "4"}},
		{"exact multiple stops at totalCount", 9, true, []string{"1", "2", "3"}},
		{"empty", 0, true, []string{"1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := setup(t, pages(tt.total, 3, tt.withTotal)...)
			got := ids(t, e.c.AllBindableWorkspaces(context.Background(), token, &billing.ListOptions{PageSize: 3}))
			require.Len(t, got, tt.total)
			for i, id := range got {
				assert.Equal(t, fmt.Sprintf("wksp_%d", i), id)
			}
			assert.Equal(t, tt.requests, pageIndexes(e))
			for _, r := range e.rec.Requests() {
				assert.Equal(t, "3", r.Query.Get("pageSize"))
				assert.Equal(t, "Bearer "+token.Reveal(), r.Header.Get("Authorization"))
			}
		})
	}
}

func TestAllBindableWorkspaces_StartsAtPageIndexAndKeepsFilter(t *testing.T) {
	replies := pages(9, 3, true)[1:]
	e := setup(t, replies...)
	opts := &billing.ListOptions{PageIndex: 2, PageSize: 3, Site: "za1"}
	got := ids(t, e.c.AllBindableWorkspaces(context.Background(), token, opts))
	assert.Equal(t, []string{"wksp_3", "wksp_4", "wksp_5", "wksp_6", "wksp_7", "wksp_8"}, got)
	assert.Equal(t, []string{"2", "3"}, pageIndexes(e))
	assert.Equal(t, url.Values{"pageIndex": {"3"}, "pageSize": {"3"}, "site": {"za1"}}, e.rec.Requests()[1].Query)
	assert.Equal(t, &billing.ListOptions{PageIndex: 2, PageSize: 3, Site: "za1"}, opts, "the caller's options are not changed")
}

func TestAllBindableWorkspaces_ServerPageSizeWins(t *testing.T) {
	// Asked for 5 a page, the service serves 3: a page of 3 is not short.
	e := setup(t, pages(7, 3, false)...)
	got := ids(t, e.c.AllBindableWorkspaces(context.Background(), token, &billing.ListOptions{PageSize: 5}))
	assert.Len(t, got, 7)
	assert.Equal(t, []string{"1", "2", "3"}, pageIndexes(e))
}

func TestAllBindableWorkspaces_EarlyBreak(t *testing.T) {
	e := setup(t, pages(30, 3, true)...)
	var got []string
	for ws, err := range e.c.AllBindableWorkspaces(context.Background(), token, &billing.ListOptions{PageSize: 3}) {
		require.NoError(t, err)
		got = append(got, ws.ID)
		if len(got) == 4 {
			break
		}
	}
	assert.Equal(t, []string{"wksp_0", "wksp_1", "wksp_2", "wksp_3"}, got)
	assert.Equal(t, 2, e.mt.GetTotalCallCount(), "no page is fetched after the break")
}

func TestAllBindableWorkspaces_ErrorYieldedOnceAndStops(t *testing.T) {
	replies := append(pages(9, 3, true)[:1], testkit.Fail(401, apierror.CodeTokenExpired, "token expired"))
	e := setup(t, replies...)
	var got []string
	var errs []error
	for ws, err := range e.c.AllBindableWorkspaces(context.Background(), token, &billing.ListOptions{PageSize: 3}) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		got = append(got, ws.ID)
	}
	assert.Equal(t, []string{"wksp_0", "wksp_1", "wksp_2"}, got)
	require.Len(t, errs, 1)
	assert.ErrorIs(t, errs[0], apierror.ErrUnauthorized)
	assert.Equal(t, 2, e.mt.GetTotalCallCount())
}

func TestAllBindableWorkspaces_CallInfoDescribesLastPage(t *testing.T) {
	e := setup(t, pages(4, 3, true)...)
	var info twapi.CallInfo
	n := 0
	for _, err := range e.c.AllBindableWorkspaces(context.Background(), token, &billing.ListOptions{PageSize: 3}, billing.WithCallInfo(&info)) {
		require.NoError(t, err)
		n++
	}
	assert.Equal(t, 4, n)
	assert.Equal(t, 200, info.HTTPStatus)
	assert.Equal(t, 1, info.Attempts)
	assert.Equal(t, 2, e.mt.GetTotalCallCount())
}

// listPage replies with the given workspace IDs and paging block.
func listPage(index, size, total int, ids ...string) testkit.Reply {
	items := []map[string]any{}
	for _, id := range ids {
		items = append(items, map[string]any{"uuid": id, "name": id, "site": "us1", "bindable": true})
	}
	return testkit.Page(items, httpcore.PageInfo{Count: len(items), PageIndex: index, PageSize: size, TotalCount: total})
}

func TestAllBindableWorkspaces_ShortPageBeforeTotalCountGoesOn(t *testing.T) {
	// A page can hold fewer items than its size while more pages follow
	// (the service filtered some out); totalCount, when given, decides.
	e := setup(t,
		listPage(1, 3, 8, "a", "b"),
		listPage(2, 3, 8, "c", "d", "e"),
		listPage(3, 3, 8, "f", "g"),
	)
	got := ids(t, e.c.AllBindableWorkspaces(context.Background(), token, &billing.ListOptions{PageSize: 3}))
	assert.Equal(t, []string{"a", "b", "c", "d", "e", "f", "g"}, got)
	assert.Equal(t, []string{"1", "2", "3"}, pageIndexes(e), "page 3 covers items 7 to 9 of 8: the last")
}

func TestAllBindableWorkspaces_EmptyPageStopsEvenBelowTotalCount(t *testing.T) {
	// A totalCount that overstates the list must not make the iterator
	// request pages forever.
	e := setup(t, listPage(1, 3, 50, "a", "b", "c"), listPage(2, 3, 50))
	got := ids(t, e.c.AllBindableWorkspaces(context.Background(), token, &billing.ListOptions{PageSize: 3}))
	assert.Equal(t, []string{"a", "b", "c"}, got)
	assert.Equal(t, []string{"1", "2"}, pageIndexes(e))
}

func TestAllBindableWorkspaces_TotalCountZeroWithItems(t *testing.T) {
	// totalCount 0 next to items means the service did not count: short
	// pages decide.
	e := setup(t, listPage(1, 2, 0, "a", "b"), listPage(2, 2, 0, "c"))
	got := ids(t, e.c.AllBindableWorkspaces(context.Background(), token, &billing.ListOptions{PageSize: 2}))
	assert.Equal(t, []string{"a", "b", "c"}, got)
	assert.Equal(t, []string{"1", "2"}, pageIndexes(e))
}

func TestAllBindableWorkspaces_StopsWhenTheServiceIgnoresPaging(t *testing.T) {
	t.Run("echoes another page index", func(t *testing.T) {
		// Always page 1, always full, totalCount says there are more.
		e := setup(t, listPage(1, 2, 10, "a", "b"), listPage(1, 2, 10, "a", "b"), listPage(1, 2, 10, "a", "b"))
		var got []string
		var gotErr error
		for ws, err := range e.c.AllBindableWorkspaces(context.Background(), token, &billing.ListOptions{PageSize: 2}) {
			if err != nil {
				gotErr = err
				continue
			}
			got = append(got, ws.ID)
		}
		assert.Equal(t, []string{"a", "b"}, got)
		var apiErr *apierror.Error
		require.ErrorAs(t, gotErr, &apiErr)
		assert.Equal(t, "AllBindableWorkspaces", apiErr.Operation)
		assert.Zero(t, apiErr.HTTPStatus, "a client-side check, not an API error")
		var pe *apierror.PagingError
		require.ErrorAs(t, gotErr, &pe)
		assert.Equal(t, apierror.PagingError{Unit: "page", Asked: 2, Got: 1}, *pe)
		assert.ErrorIs(t, gotErr, apierror.ErrPaging)
		assert.NotErrorIs(t, gotErr, apierror.ErrTransport)
		assert.Contains(t, gotErr.Error(), "inconsistent paging")
		assert.Equal(t, []string{"1", "2"}, pageIndexes(e), "no third request")
	})
	t.Run("echoes the page asked for but cycles through two", func(t *testing.T) {
		e := setup(t, listPage(1, 2, 100, "a", "b"), listPage(2, 2, 100, "c", "d"), listPage(3, 2, 100, "a", "b"), listPage(4, 2, 100, "c", "d"))
		n, gotErr := drain(e.c.AllBindableWorkspaces(context.Background(), token, &billing.ListOptions{PageSize: 2}))
		assert.Equal(t, 4, n)
		var pe *apierror.PagingError
		require.ErrorAs(t, gotErr, &pe)
		assert.Equal(t, 3, pe.Asked)
		assert.Equal(t, []string{"1", "2", "3"}, pageIndexes(e))
	})
	t.Run("repeats the previous page without paging info", func(t *testing.T) {
		same := testkit.OK([]map[string]any{{"uuid": "a", "name": "a", "site": "us1"}, {"uuid": "b", "name": "b", "site": "us1"}})
		e := setup(t, same, same, same)
		n, gotErr := drain(e.c.AllBindableWorkspaces(context.Background(), token, &billing.ListOptions{PageSize: 2}))
		assert.Equal(t, 2, n)
		var pe *apierror.PagingError
		require.ErrorAs(t, gotErr, &pe)
		assert.Equal(t, apierror.PagingError{Unit: "page", Asked: 2, Items: 2}, *pe)
		assert.Contains(t, gotErr.Error(), "page 2 repeats earlier pages")
		assert.Len(t, e.rec.Requests(), 2)
	})
}

// drain ranges over a listing and returns how many items it yielded and
// the error that ended it.
func drain(seq iter.Seq2[billing.BindableWorkspace, error]) (n int, err error) {
	for _, e := range seq {
		if e != nil {
			err = e
			continue
		}
		n++
	}
	return n, err
}
