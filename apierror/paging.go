package apierror

import "fmt"

// PagingError is the cause of an *Error (HTTPStatus 0) when a listing
// stopped because the service broke its paging: it answered with another
// page than the one asked for, or with a page that holds only items earlier
// pages already had. Going on would repeat the same requests for ever. It
// matches ErrPaging.
type PagingError struct {
	// Unit names what Asked counts: "page" (TrueWatch's pageIndex, from 1)
	// or "offset" (Huawei BSS, from 0).
	Unit string
	// Asked is the page index or offset asked for.
	Asked int
	// Got is the page index the service answered with instead; 0 when the
	// problem is a repeat.
	Got int
	// Items is how many items the repeated page held (all seen before).
	Items int
}

func (e *PagingError) Error() string {
	if e.Got != 0 {
		return fmt.Sprintf("inconsistent paging: asked for %s %d, got %s %d", e.Unit, e.Asked, e.Unit, e.Got)
	}
	return fmt.Sprintf("inconsistent paging: %s %d repeats earlier pages (%d items, none new)", e.Unit, e.Asked, e.Items)
}

// Is makes errors.Is(err, ErrPaging) true.
func (e *PagingError) Is(target error) bool { return target == ErrPaging }
