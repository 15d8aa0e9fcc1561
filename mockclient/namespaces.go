package mockclient

import (
	"context"
	"net/http"

	"github.com/truewatch-labs/marketplace-go/mockserver"
)

// NamespaceHeader is the header that names the namespace a request acts on
// (mockserver.NamespaceHeader).
const NamespaceHeader = "X-Mock-Namespace"

// InNamespace returns a client like c whose every call acts on the
// namespace name (sent as NamespaceHeader): its own state, IDs, outbox,
// faults, clock, journal and reset. The namespace is made on its first
// use unless the mock was started with -explicit-namespaces (then
// CreateNamespace it first; an unknown one is a 404 *Error). A name the
// mock refuses is a 400 *Error at the first call. The namespaces' own
// methods (Namespaces, CreateNamespace, ...) are the default namespace's:
// call them on the client InNamespace was called on.
func (c *Client) InNamespace(name string) *Client {
	cp := *c
	cp.ns = name
	return &cp
}

// NamespaceName is the namespace the client acts on ("" for the default,
// unless InNamespace named it).
func (c *Client) NamespaceName() string { return c.ns }

// Namespaces lists the mock's namespaces, the default first.
func (c *Client) Namespaces(ctx context.Context) ([]mockserver.NamespaceInfo, error) {
	var out []mockserver.NamespaceInfo
	return out, c.get(ctx, "/_mock/namespaces", nil, &out)
}

// CreateNamespace creates a namespace and returns it, with the demo keys
// the Huawei SDK reaches it by; a name taken is a 409 *Error, one past the
// mock's limit a 429.
func (c *Client) CreateNamespace(ctx context.Context, req mockserver.NamespaceRequest) (mockserver.NamespaceInfo, error) {
	var out mockserver.NamespaceInfo
	return out, c.do(ctx, http.MethodPost, "/_mock/namespaces", nil, req, &out, http.StatusCreated)
}

// Namespace describes one namespace; an unknown one is a 404 *Error.
func (c *Client) Namespace(ctx context.Context, name string) (mockserver.NamespaceInfo, error) {
	var out mockserver.NamespaceInfo
	return out, c.get(ctx, "/_mock/namespaces/"+seg(name), nil, &out)
}

// DeleteNamespace deletes a namespace, its state and its keys; the
// default one cannot be deleted (400; Reset it).
func (c *Client) DeleteNamespace(ctx context.Context, name string) error {
	return c.do(ctx, http.MethodDelete, "/_mock/namespaces/"+seg(name), nil, nil, nil, http.StatusOK)
}
