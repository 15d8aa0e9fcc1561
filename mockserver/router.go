package mockserver

import (
	"context"
	"fmt"
	"net/http"
	"path"
	"strings"

	"github.com/truewatch-labs/marketplace-go/apierror"
)

type requestIDKey struct{}

// requestIDFrom is the request's ID, sent as X-Request-Id on every answer
// and as request_id in Huawei's error bodies: 32 lower-case hex
// characters, the format Huawei's API gateway documents and answers with
// (deterministic here, derived from the ID seed).
func requestIDFrom(r *http.Request) string {
	if id, ok := r.Context().Value(requestIDKey{}).(string); ok {
		return id
	}
	return "00000000000000000000000000000000"
}

// routes builds the handler: the control plane, the TrueWatch half and the
// Huawei half on one mux, behind request IDs, fault injection, body limits,
// and shape-correct 404/405 answers.
func (s *Server) routes() http.Handler {
	mux := s.buildMux()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := s.ids.hex32("request")
		ctx := context.WithValue(r.Context(), requestIDKey{}, id)
		if s.parent != nil {
			ctx = context.WithValue(ctx, nsServerKey{}, s) // for the shared mux (buildMux)
		}
		if s.cfg.strictness == Lenient {
			ctx = context.WithValue(ctx, lenientKey{}, true)
		}
		r = r.WithContext(ctx)
		w.Header().Set("X-Request-Id", id)
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				writeError(w, r, http.StatusInternalServerError, apierror.CodeInternal, apierror.CodeHuaweiInternal,
					fmt.Sprintf("internal mock error: %v", v))
			}
		}()
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, s.cfg.maxBody)
		}
		if familyOf(r.URL.Path) == familyControl {
			if !s.guardControl(w, r) || controlRefusesFaultHeader(w, r) {
				return
			}
		} else if s.serveFault(w, r, mux) {
			return
		}
		if p := r.URL.Path; p == "" || p[0] != '/' || cleanPath(p) != p {
			// ServeMux would answer an unclean path (//x, /a/../b) with an
			// HTML redirect; the APIs it mocks answer 404 in their shape.
			writeError(w, r, http.StatusNotFound, apierror.CodeRouteNotFound, hwCodeNoRoute,
				fmt.Sprintf("no route for %s %s", r.Method, r.URL.Path))
			return
		}
		if _, pattern := mux.Handler(r); pattern == "" {
			s.notRouted(w, r, mux)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// registrar is where the routes are registered: the server's own
// ServeMux, or a namespace's routeTable.
type registrar interface {
	Handle(pattern string, h http.Handler)
	HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request))
}

// register mounts every route of s on mux.
func (s *Server) register(mux registrar) {
	s.registerControl(mux)
	s.registerTrueWatch(mux)
	s.registerHuawei(mux)
	s.registerVendor(mux)
	s.registerIdP(mux)
	s.registerTrueWatchSSO(mux)
}

// buildMux builds the mux behind s's handler. A namespace's routes are
// the same patterns with handlers bound to it, and a ServeMux's routing
// tree is most of what a server holds (about 70 KB), so a namespace keeps
// only its handlers, in registration order (routeTable), and shares one
// ServeMux with every other namespace of its parent, whose handler for
// the i-th pattern calls the i-th handler of the namespace serving the
// request (nsServerKey, put in the context by routes).
func (s *Server) buildMux() *http.ServeMux {
	if s.parent == nil {
		mux := http.NewServeMux()
		s.register(mux)
		s.mux = mux
		return mux
	}
	var tbl routeTable
	s.register(&tbl)
	s.table = tbl.handlers
	s.mux = s.parent.namespaceMux(tbl.patterns)
	return s.mux
}

// routeTable records routes in the order they are registered.
type routeTable struct {
	patterns []string
	handlers []http.Handler
}

func (t *routeTable) Handle(pattern string, h http.Handler) {
	t.patterns = append(t.patterns, pattern)
	t.handlers = append(t.handlers, h)
}

func (t *routeTable) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	t.Handle(pattern, http.HandlerFunc(h))
}

type nsServerKey struct{}

// namespaceMux is the ServeMux the namespaces of s share, built once from
// the first namespace's patterns: every namespace registers the same
// patterns in the same order.
func (s *Server) namespaceMux(patterns []string) *http.ServeMux {
	s.ns.muxOnce.Do(func() {
		mux := http.NewServeMux()
		for i, p := range patterns {
			mux.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) {
				ns, _ := r.Context().Value(nsServerKey{}).(*Server)
				if ns == nil || i >= len(ns.table) {
					writeError(w, r, http.StatusNotFound, apierror.CodeRouteNotFound, hwCodeNoRoute,
						fmt.Sprintf("no route for %s %s", r.Method, r.URL.Path))
					return
				}
				ns.table[i].ServeHTTP(w, r)
			})
		}
		s.ns.mux = mux
	})
	return s.ns.mux
}

// notRouted answers a Huawei call the mock does not serve with 501
// (notImplemented); elsewhere 405 when the path exists for another
// method, else 404, in the path's error shape.
func (s *Server) notRouted(w http.ResponseWriter, r *http.Request, mux *http.ServeMux) {
	if familyOf(r.URL.Path) == familyHuawei {
		notImplemented(w, r)
		return
	}
	var allowed []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete} {
		if m == r.Method {
			continue
		}
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, p := mux.Handler(probe); p != "" {
			allowed = append(allowed, m)
		}
	}
	if len(allowed) > 0 {
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		writeError(w, r, http.StatusMethodNotAllowed, apierror.CodeMethodNotAllowed, hwCodeNoRoute,
			fmt.Sprintf("method %s not allowed for %s", r.Method, r.URL.Path))
		return
	}
	writeError(w, r, http.StatusNotFound, apierror.CodeRouteNotFound, hwCodeNoRoute,
		fmt.Sprintf("no route for %s %s", r.Method, r.URL.Path))
}

// cleanPath is path.Clean keeping a trailing slash, as ServeMux cleans.
func cleanPath(p string) string {
	np := path.Clean(p)
	if strings.HasSuffix(p, "/") && np != "/" {
		np += "/"
	}
	return np
}
