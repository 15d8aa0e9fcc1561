package billing

import (
	"context"
	"iter"
	"net/http"
	"net/url"
	"strconv"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/internal/httpcore"
	"github.com/truewatch-labs/marketplace-go/internal/paging"
	"github.com/truewatch-labs/marketplace-go/internal/routes"
	"github.com/truewatch-labs/marketplace-go/internal/rules"
	"github.com/truewatch-labs/marketplace-go/secret"
	"github.com/truewatch-labs/marketplace-go/twapi"
)

// DefaultPageSize is the page size used when ListOptions.PageSize is zero.
const DefaultPageSize = 20

// page returns the page index and size to request, defaults applied.
func (o *ListOptions) page() (index, size int) {
	index, size = 1, DefaultPageSize
	if o != nil && o.PageIndex > 0 {
		index = o.PageIndex
	}
	if o != nil && o.PageSize > 0 {
		size = o.PageSize
	}
	return index, size
}

// validate records every problem with the options (nil options are fine).
func (o *ListOptions) validate(p *apierror.Problems) {
	if o == nil {
		return
	}
	rules.Page(p, o.PageIndex, o.PageSize)
	if o.Site != "" && !o.Site.Valid() {
		p.Add("site", "unknown site %q", string(o.Site))
	}
}

// ListBindableWorkspaces lists one page of the workspaces of the token's
// Billing Center account, each with whether it can be bound to the token's
// subscription. opts may be nil (page 1, DefaultPageSize items, all sites).
// The token comes from BindBillingAccount.
func (c *Client) ListBindableWorkspaces(ctx context.Context, token secret.String, opts *ListOptions, reqOpts ...RequestOption) ([]BindableWorkspace, *twapi.PageInfo, error) {
	const op = "ListBindableWorkspaces"
	var p apierror.Problems
	httpcore.Token(&p, "token", token)
	opts.validate(&p)
	index, size := opts.page()
	q := url.Values{"pageIndex": {strconv.Itoa(index)}, "pageSize": {strconv.Itoa(size)}}
	if opts != nil && opts.Site != "" {
		q.Set("site", string(opts.Site))
	}
	var out []BindableWorkspace
	page, err := c.call(ctx, httpcore.Request{
		Operation: op, Method: http.MethodGet, Path: routes.ListWorkspaces, Query: q, Token: token.Reveal(),
	}, proofNone, p.Err(op), &out, reqOpts)
	if err != nil {
		return nil, nil, err
	}
	if out == nil {
		out = []BindableWorkspace{}
	}
	return out, page, nil
}

// AllBindableWorkspaces iterates over every bindable workspace, requesting
// page after page from opts.PageIndex (default 1). It stops at an empty
// page, after the page that reaches the service's totalCount (or, when the
// service gives no totalCount, after a short page), or as soon as the
// consumer stops ranging. An error is yielded once, and ends the iteration.
// A service that answers with another page than the one asked for, or
// repeats an earlier page, ends it with an *apierror.Error whose cause is
// an *apierror.PagingError (errors.Is(err, apierror.ErrPaging)) instead of
// being asked for pages for ever.
//
// Request options apply to every page request; a CallInfo describes the
// last page requested.
func (c *Client) AllBindableWorkspaces(ctx context.Context, token secret.String, opts *ListOptions, reqOpts ...RequestOption) iter.Seq2[BindableWorkspace, error] {
	return func(yield func(BindableWorkspace, error) bool) {
		var cur ListOptions
		if opts != nil {
			cur = *opts
		}
		cur.PageIndex, cur.PageSize = cur.page()
		var guard paging.Guard
		for {
			items, page, err := c.ListBindableWorkspaces(ctx, token, &cur, reqOpts...)
			if err != nil {
				yield(BindableWorkspace{}, err)
				return
			}
			if err := checkPaging(&guard, cur.PageIndex, page, items); err != nil {
				yield(BindableWorkspace{}, &apierror.Error{Service: serviceName, Operation: "AllBindableWorkspaces", Err: err})
				return
			}
			for _, ws := range items {
				if !yield(ws, nil) {
					return
				}
			}
			if !morePages(cur.PageIndex, cur.PageSize, len(items), page) {
				return
			}
			cur.PageIndex++
		}
	}
}

// checkPaging refuses a page that cannot be the one asked for: the service
// says it is another page, or it repeats an earlier page.
func checkPaging(guard *paging.Guard, asked int, page *twapi.PageInfo, items []BindableWorkspace) error {
	if page != nil && page.PageIndex > 0 && page.PageIndex != asked {
		return &apierror.PagingError{Unit: "page", Asked: asked, Got: page.PageIndex}
	}
	for _, ws := range items {
		guard.See(ws.ID)
	}
	return guard.EndPage("page", asked)
}

// morePages reports whether pages follow the one just read: index and size
// are what was asked for, n how many items came, page the service's paging
// block. The service's own index and size win (it may serve fewer items per
// page than asked for). A positive totalCount decides, since a page may hold
// fewer items than its size while more pages follow; without one, a short
// page is the last. An empty page always is.
func morePages(index, size, n int, page *twapi.PageInfo) bool {
	if n == 0 {
		return false
	}
	if page == nil {
		return n >= size
	}
	if page.PageIndex > 0 {
		index = page.PageIndex
	}
	if page.PageSize > 0 {
		size = page.PageSize
	}
	if page.TotalCount > 0 {
		return index*size < page.TotalCount
	}
	return n >= size
}

// BindWorkspace binds an existing workspace of the token's Billing Center
// account to the token's subscription: its settlement moves to the Huawei
// account and instance. Binding a workspace that is already bound to this
// subscription succeeds with Changed false.
//
// A workspace settled by another active subscription returns an error
// matching apierror.ErrAlreadyBound; a second settlement change in the same
// calendar month, apierror.ErrConflict.
func (c *Client) BindWorkspace(ctx context.Context, token secret.String, req *BindWorkspaceRequest, opts ...RequestOption) (*BindWorkspaceResult, error) {
	const op = "BindWorkspace"
	var p apierror.Problems
	httpcore.Token(&p, "token", token)
	return send[BindWorkspaceResult](ctx, c, httpcore.Request{
		Operation: op, Method: http.MethodPost, Path: routes.BindWorkspace, Body: req, Token: token.Reveal(),
	}, proofNone, httpcore.Check(op, p, req), opts)
}

// GetBinding reads the binding of the token's Billing Center account and
// subscription, with the workspaces the subscription settles.
//
// Like every call with a token, it returns an error matching
// apierror.ErrUnauthorized (ft.Unauthorized) once the token's binding is
// gone, as when the subscription was released: bind the Billing Center
// account again for a new token.
func (c *Client) GetBinding(ctx context.Context, token secret.String, opts ...RequestOption) (*Binding, error) {
	const op = "GetBinding"
	var p apierror.Problems
	httpcore.Token(&p, "token", token)
	return send[Binding](ctx, c, httpcore.Request{
		Operation: op, Method: http.MethodGet, Path: routes.GetBinding, Token: token.Reveal(),
	}, proofNone, p.Err(op), opts)
}
