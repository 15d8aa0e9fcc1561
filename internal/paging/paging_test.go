package paging_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/internal/paging"
)

func page(g *paging.Guard, asked int, keys ...string) error {
	for _, k := range keys {
		g.See(k)
	}
	return g.EndPage("offset", asked)
}

func TestGuard(t *testing.T) {
	var g paging.Guard
	require.NoError(t, page(&g, 0, "a", "b"))
	require.NoError(t, page(&g, 2, "b", "c"), "a shifted page is no repeat")
	require.NoError(t, page(&g, 4, "c"), "nor is a shifted tail of items all seen before")
	require.NoError(t, page(&g, 5), "an empty page is not a repeat")
	require.NoError(t, page(&g, 5, "ab"), "keys are not run together")
	err := page(&g, 6, "a", "b")
	var pe *apierror.PagingError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, apierror.PagingError{Unit: "offset", Asked: 6, Items: 2}, *pe)
	assert.ErrorIs(t, err, apierror.ErrPaging)
	require.NoError(t, page(&g, 8, "d"), "each page is judged on its own")
	require.Error(t, page(&g, 9, "b", "c"), "a repeat of any earlier page, not only the last")
}
