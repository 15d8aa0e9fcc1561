// Package paging guards the listings of every client against a service
// that repeats or ignores paging: a page identical to one already read
// means that asking for the next page would never end (a BSS that answered
// every offset with the same page once made a listing send 189,000
// requests in 3 seconds).
package paging

import (
	"crypto/sha256"
	"hash"

	"github.com/truewatch-labs/marketplace-go/apierror"
)

// Guard tracks the pages of one listing. The zero value is ready; a Guard
// is used by one listing at a time.
//
// A page counts as a repeat when it holds the same items, in the same
// order, as an earlier page. Items shifting between pages (one made or
// removed while the pages are read) do not make a repeat: the shifted page
// starts or ends differently, even when all its items were seen before.
type Guard struct {
	pages map[[sha256.Size]byte]struct{}
	cur   hash.Hash
	items int
}

// See records an item of the current page by a key that identifies it
// (its ID).
func (g *Guard) See(key string) {
	if g.cur == nil {
		g.cur = sha256.New()
	}
	g.items++
	g.cur.Write([]byte(key))
	g.cur.Write([]byte{0})
}

// EndPage closes the current page, asked for as unit asked ("page" 3,
// "offset" 200). It returns a *apierror.PagingError when the page repeats
// an earlier one; an empty page is never a repeat (it ends a listing
// anyway).
func (g *Guard) EndPage(unit string, asked int) error {
	items := g.items
	g.items = 0
	if items == 0 {
		return nil
	}
	var sum [sha256.Size]byte
	g.cur.Sum(sum[:0])
	g.cur.Reset()
	if _, ok := g.pages[sum]; ok {
		return &apierror.PagingError{Unit: unit, Asked: asked, Items: items}
	}
	if g.pages == nil {
		g.pages = make(map[[sha256.Size]byte]struct{})
	}
	g.pages[sum] = struct{}{}
	return nil
}
