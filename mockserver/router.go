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
	mux := http.NewServeMux()
	s.mux = mux
	s.registerControl(mux)
	s.registerTrueWatch(mux)
	s.registerHuawei(mux)
	s.registerVendor(mux)
	s.registerIdP(mux)
	s.registerTrueWatchSSO(mux)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := s.ids.hex32("request")
		r = r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id))
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
