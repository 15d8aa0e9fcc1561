package mockserver

import (
	"cmp"
	"net/http"
	"slices"
	"strings"
)

// Operation is an API operation the mock serves, by the name a Fault takes
// (Fault.Operation) instead of a path: the client's service and method for
// the TrueWatch half ("billing.Register", "workspace.CreateWorkspace", as
// in the *apierror.Error of a failed call), and the service and the
// official SDK's operation for the Huawei half
// ("bss.ListPayPerUseCustomerResources", "iam.KeystoneListAuthDomains",
// "sts.GetCallerIdentity").
type Operation struct {
	Name   string `json:"name"`
	Method string `json:"method"`
	// Path is the route's path, with {wildcards} where it has them:
	// "/sites/{site}/console-api/api/v1/workspace/create".
	Path string `json:"path"`
}

// route is the mux pattern the operation is registered under.
func (o Operation) route() string { return o.Method + " " + o.Path }

// isRoute reports whether pattern is o.route(), without building it: it
// is asked for every operation on every request.
func (o Operation) isRoute(pattern string) bool {
	m, p, ok := strings.Cut(pattern, " ")
	return ok && m == o.Method && p == o.Path
}

// handleOp registers h as the operation name: the one table of operations,
// read by the router (the mux) and by faults (Operations, InjectFault).
func (s *Server) handleOp(mux registrar, name, method, path string, h http.HandlerFunc) {
	op := Operation{Name: name, Method: method, Path: path}
	mux.HandleFunc(op.route(), h)
	if s.parent == nil { // a namespace shares its parent's list
		s.ops = append(s.ops, op)
	}
}

// Operations lists the operations the mock serves, sorted by name, each
// with the method and path it is served at. POST /_mock/faults takes the
// same names, and GET /_mock/operations lists them.
func (s *Server) Operations() []Operation {
	out := slices.Clone(s.ops)
	slices.SortFunc(out, func(a, b Operation) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// operation finds an operation by name.
func (s *Server) operation(name string) (Operation, bool) {
	i := slices.IndexFunc(s.ops, func(o Operation) bool { return o.Name == name })
	if i < 0 {
		return Operation{}, false
	}
	return s.ops[i], true
}

// operationNames is every operation's name, sorted, for errors.
func (s *Server) operationNames() string {
	names := make([]string, len(s.ops))
	for i, o := range s.ops {
		names[i] = o.Name
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}
