package mockserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/internal/httpcore"
	"github.com/truewatch-labs/marketplace-go/internal/routes"
	"github.com/truewatch-labs/marketplace-go/site"
)

// twError is a failed TrueWatch call: an HTTP status, an ft. error code, a
// message (never containing a secret) and optional content.
type twError struct {
	status     int
	code       string
	msg        string
	detail     any
	retryAfter time.Duration
	challenge  string // WWW-Authenticate of a 401, when not the Bearer one
}

func (e *twError) Error() string { return e.code + ": " + e.msg }

func twErr(status int, code, format string, args ...any) *twError {
	return &twError{status: status, code: code, msg: fmt.Sprintf(format, args...)}
}

// validationErr turns a *apierror.ValidationError into HTTP 400
// ft.ValidationFailed with content {"problems": [...]}.
func validationErr(problems []apierror.Problem) *twError {
	ve := &apierror.ValidationError{Problems: problems}
	return &twError{status: http.StatusBadRequest, code: apierror.CodeValidation, msg: ve.Error(),
		detail: map[string]any{"problems": problems}}
}

func problem(field, format string, args ...any) *twError {
	var p apierror.Problems
	p.Add(field, format, args...)
	return validationErr(p)
}

func writeTWErr(w http.ResponseWriter, r *http.Request, e *twError) {
	if e.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((e.retryAfter+time.Second-1)/time.Second)))
	}
	switch {
	case e.status == http.StatusUnauthorized && e.challenge != "":
		w.Header().Set("WWW-Authenticate", e.challenge)
	case e.status == http.StatusUnauthorized && e.code != apierror.CodeAkRateLimited:
		w.Header().Set("WWW-Authenticate", `Bearer realm="truewatch-billing-center"`)
	}
	writeTWError(w, r, e.status, e.code, e.msg, e.detail)
}

// validator is a request type with the client-side rules (billing and
// workspace types), which the mock enforces exactly.
type validator interface{ Validate() error }

// readBody reads the whole request body within the server's limit.
func readBody(r *http.Request) ([]byte, *twError) {
	if r.Body == nil {
		return nil, nil
	}
	b, err := readRequestBody(r)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, twErr(http.StatusRequestEntityTooLarge, apierror.CodeBodyTooLarge,
				"request body is larger than %d bytes", tooBig.Limit)
		}
		return nil, twErr(http.StatusBadRequest, apierror.CodeInvalidJSON, "could not read request body")
	}
	return b, nil
}

// decodeRequest decodes a JSON body strictly (no unknown fields, no
// trailing data) into v and runs v's Validate; keys is what scanning the
// body found wrong with its keys (keyProblem), "" when nothing. Messages
// name fields and types but never echo values, which may be secrets.
func decodeRequest(body []byte, keys string, v validator, lenient bool) *twError {
	if len(bytes.TrimSpace(body)) == 0 {
		return twErr(http.StatusBadRequest, apierror.CodeInvalidJSON, "request body must be a JSON object")
	}
	if !utf8.Valid(body) {
		// encoding/json would turn the bad bytes into U+FFFD and accept a
		// value the clients refuse.
		return twErr(http.StatusBadRequest, apierror.CodeInvalidJSON, "request body must be UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if !lenient {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		return decodeErr(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return twErr(http.StatusBadRequest, apierror.CodeInvalidJSON, "request body must hold exactly one JSON object")
	}
	if keys != "" {
		return twErr(http.StatusBadRequest, apierror.CodeInvalidJSON, "%s", keys)
	}
	if err := v.Validate(); err != nil {
		var ve *apierror.ValidationError
		if errors.As(err, &ve) {
			return validationErr(ve.Problems)
		}
		return twErr(http.StatusBadRequest, apierror.CodeValidation, "invalid request")
	}
	return nil
}

func decodeErr(err error) *twError {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return twErr(http.StatusBadRequest, apierror.CodeInvalidJSON, "malformed JSON at byte offset %d", syn.Offset)
	case errors.As(err, &typ):
		if typ.Field == "" {
			return twErr(http.StatusBadRequest, apierror.CodeInvalidJSON, "request body must be a JSON object")
		}
		return twErr(http.StatusBadRequest, apierror.CodeInvalidJSON, "field %q must be %s", typ.Field, jsonKind(typ.Type.Kind().String()))
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return twErr(http.StatusBadRequest, apierror.CodeInvalidJSON, "malformed JSON: unexpected end of input")
	}
	if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return twErr(http.StatusBadRequest, apierror.CodeInvalidJSON, "unknown field %s", f)
	}
	return twErr(http.StatusBadRequest, apierror.CodeInvalidJSON, "malformed JSON")
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "struct", "map":
		return "an object"
	case "slice", "array":
		return "an array"
	}
	return "a number"
}

// bearerToken returns the token of an "Authorization: Bearer" header.
func bearerToken(r *http.Request) string {
	h := strings.TrimSpace(r.Header.Get("Authorization"))
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(tok)
}

// authLocked checks the request's Billing Center token: known, not
// expired, and still backed by its binding (a token outlives neither the
// release of its subscription nor, after one, a binding of the
// subscription to another account), on every token route, reads
// included. Caller holds s.mu.
func (s *Server) authLocked(r *http.Request) (*tokenRec, *twError) {
	tok := bearerToken(r)
	if tok == "" {
		return nil, twErr(http.StatusUnauthorized, apierror.CodeUnauthorized,
			"missing token: send Authorization: Bearer <token> from BindBillingAccount")
	}
	rec, ok := s.st.tw.tokens[tok]
	if !ok {
		return nil, twErr(http.StatusUnauthorized, apierror.CodeUnauthorized, "invalid token")
	}
	if !s.cfg.clock.Now().Before(rec.expiresAt) {
		return nil, twErr(http.StatusUnauthorized, apierror.CodeTokenExpired,
			"token expired; bind the Billing Center account again for a new one")
	}
	if b := s.st.tw.bindings[rec.sub]; b == nil || b.billingAccountID != rec.billingAccountID {
		return nil, twErr(http.StatusUnauthorized, apierror.CodeUnauthorized,
			"the token's binding no longer exists (the subscription was released); bind the Billing Center account again")
	}
	return rec, nil
}

func (s *Server) authenticate(r *http.Request) (*tokenRec, *twError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.authLocked(r)
}

// rateWindow counts one client's requests in one clock minute.
type rateWindow struct {
	start time.Time
	count int
}

// rateLimit applies WithRateLimit: more than n requests per clock minute
// from one client address get HTTP 401 ft.TriggerApiAkCurrentLimiting, as
// TrueWatch answers.
func (s *Server) rateLimit(r *http.Request) *twError {
	if s.cfg.rateLimit <= 0 {
		return nil
	}
	client, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		client = r.RemoteAddr
	}
	now := s.cfg.clock.Now()
	start := now.Truncate(time.Minute)
	s.mu.Lock()
	defer s.mu.Unlock()
	win := s.st.tw.windows[client]
	if win == nil || !win.start.Equal(start) {
		win = &rateWindow{start: start}
		s.st.tw.windows[client] = win
	}
	if win.count >= s.cfg.rateLimit {
		e := twErr(http.StatusUnauthorized, apierror.CodeAkRateLimited,
			"rate limit of %d requests per minute exceeded", s.cfg.rateLimit)
		e.retryAfter = max(start.Add(time.Minute).Sub(now), time.Second)
		return e
	}
	win.count++
	return nil
}

// call is one decoded TrueWatch API call as an operation sees it.
type call struct {
	r      *http.Request
	site   site.Code    // from the path, for site routes
	token  *tokenRec    // for token routes
	proven provenCaller // who the ownership proof proved, for owner routes
}

// twHandler is a TrueWatch API operation ready to serve, and who may call
// it: a GET (serve), or a POST (post) whose JSON body decodes into reqType.
type twHandler struct {
	access  access
	serve   http.HandlerFunc
	post    func(w http.ResponseWriter, r *http.Request, body []byte, keys string)
	reqType reflect.Type
}

// twRoute wraps every TrueWatch API handler: rate limiting, the path's site,
// the token (token routes) or the ownership proof (routes keyed by a Huawei
// account), then idempotency for POSTs. The credential is checked before
// idempotency so that a key never stands in for it, and keys are scoped to
// who the credential proves: the token's Billing Center account, or the
// proof's Huawei account.
func (s *Server) twRoute(h twHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if e := s.rateLimit(r); e != nil {
			writeTWErr(w, r, e)
			return
		}
		if raw := r.PathValue("site"); raw != "" && !site.Code(raw).Valid() {
			writeTWErr(w, r, twErr(http.StatusNotFound, apierror.CodeUnknownSite, "%s", (&site.UnknownError{Code: site.Code(raw)}).Error()))
			return
		}
		principal := ""
		switch h.access {
		case tokenHolder:
			tok, e := s.authenticate(r)
			if e != nil {
				writeTWErr(w, r, e)
				return
			}
			principal = "billing-account:" + tok.billingAccountID
		case owner, ownerForDetail:
			who, e := s.checkProof(r, h.access)
			if e != nil {
				writeTWErr(w, r, e)
				return
			}
			if who.account != "" {
				principal = "huawei-account:" + who.account
				r = r.WithContext(context.WithValue(r.Context(), provenKey{}, who))
			}
		}
		if h.post != nil {
			s.idempotent(w, r, principal, h)
			return
		}
		h.serve(w, r)
	}
}

// postOp builds the handler of a JSON POST operation: strict decoding and
// validation of the body idempotent read, then op under s.mu (after the
// token check, for token routes). op checks every precondition before
// changing anything.
func postOp[T any, PT interface {
	*T
	validator
}](s *Server, who access, op func(c *call, req PT) (any, *twError)) twHandler {
	return twHandler{access: who, reqType: reflect.TypeFor[T](), post: func(w http.ResponseWriter, r *http.Request, body []byte, keys string) {
		req := PT(new(T))
		if e := decodeRequest(body, keys, req, lenientFor(r)); e != nil {
			writeTWErr(w, r, e)
			return
		}
		s.serveOp(w, r, who == tokenHolder, func(c *call) (any, *httpcore.PageInfo, *twError) {
			out, e := op(c, req)
			return out, nil, e
		})
	}}
}

// getOp builds the handler of a GET operation; op checks the query itself.
func getOp(s *Server, who access, op func(c *call, q url.Values) (any, *httpcore.PageInfo, *twError)) twHandler {
	return twHandler{access: who, serve: func(w http.ResponseWriter, r *http.Request) {
		// r.URL.Query would drop pairs it cannot parse.
		q, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil {
			writeTWErr(w, r, twErr(http.StatusBadRequest, apierror.CodeValidation, "malformed query string"))
			return
		}
		s.serveOp(w, r, who == tokenHolder, func(c *call) (any, *httpcore.PageInfo, *twError) { return op(c, q) })
	}}
}

// serveOp runs op under s.mu (after checking the token again, under the
// same lock, for token routes) and writes its answer.
func (s *Server) serveOp(w http.ResponseWriter, r *http.Request, auth bool, op func(c *call) (any, *httpcore.PageInfo, *twError)) {
	c := &call{r: r, site: site.Code(r.PathValue("site")), proven: provenOf(r)}
	out, page, e := func() (any, *httpcore.PageInfo, *twError) {
		s.mu.Lock()
		defer s.mu.Unlock() // even if op panics: the router answers 500, the server lives on
		s.settleGraceLocked()
		if auth {
			var e *twError
			if c.token, e = s.authLocked(r); e != nil {
				return nil, nil, e
			}
		}
		return op(c)
	}()
	if e != nil {
		writeTWErr(w, r, e)
		return
	}
	writeTWOK(w, r, out, page)
}

// checkPost checks what every POST of the contract must be before its
// body is looked at: no query parameters (no POST declares one), and a
// body sent as application/json (parameters such as charset=UTF-8 are
// allowed; JSON is UTF-8 whatever they say). A request with neither body
// nor Content-Type passes, for the body's decoding to refuse.
func checkPost(r *http.Request, body []byte) *twError {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return twErr(http.StatusBadRequest, apierror.CodeValidation, "malformed query string")
	}
	if e := checkQuery(r, q); e != nil {
		return e
	}
	ct := r.Header.Values("Content-Type")
	if len(ct) == 0 && len(body) == 0 {
		return nil
	}
	if len(ct) == 1 {
		if mt, _, err := mime.ParseMediaType(ct[0]); err == nil && mt == "application/json" {
			return nil
		}
	}
	return twErr(http.StatusUnsupportedMediaType, apierror.CodeUnsupportedMediaType,
		"the request body must be sent as Content-Type: application/json")
}

// checkQuery refuses query parameters the operation does not know, as
// DisallowUnknownFields does for bodies, and parameters given more than
// once (which value would count?).
//
// A Lenient server's API halves ignore unknown parameters (lenientFor).
func checkQuery(r *http.Request, q url.Values, known ...string) *twError {
	ok := true
	for name, vs := range q {
		ok = ok && len(vs) <= 1 && slices.Contains(known, name)
	}
	if ok {
		return nil // the usual case, without sorting the names
	}
	var p apierror.Problems
	lenient := lenientFor(r)
	for _, name := range slices.Sorted(maps.Keys(q)) {
		switch {
		case !slices.Contains(known, name):
			if lenient {
				continue
			}
			p.Add(name, "unknown query parameter")
		case len(q[name]) > 1:
			p.Add(name, "must be given at most once")
		}
	}
	if len(p) > 0 {
		return validationErr(p)
	}
	return nil
}

// registerTrueWatch mounts the Billing Center, every site's workspace API
// and every site's login page. Each operation is named as the client names
// it (apierror.Error's Service and Operation), for faults.
func (s *Server) registerTrueWatch(mux registrar) {
	bc := func(op, method, path string, h twHandler) {
		s.handleOp(mux, "billing."+op, method, routes.MockBillingPrefix+path, s.twRoute(h))
	}
	bc("SendVerificationCode", http.MethodPost, routes.SendCode, postOp(s, anyone, s.opSendCode))
	bc("GetSubscription", http.MethodGet, routes.GetSubscription, getOp(s, ownerForDetail, s.opGetSubscription))
	bc("Register", http.MethodPost, routes.Register, postOp(s, owner, s.opRegister))
	bc("BindBillingAccount", http.MethodPost, routes.BindAccount, postOp(s, owner, s.opBindAccount))
	bc("ListBindableWorkspaces", http.MethodGet, routes.ListWorkspaces, getOp(s, tokenHolder, s.opListWorkspaces))
	bc("BindWorkspace", http.MethodPost, routes.BindWorkspace, postOp(s, tokenHolder, s.opBindWorkspace))
	bc("GetBinding", http.MethodGet, routes.GetBinding, getOp(s, tokenHolder, s.opGetBinding))

	api := func(op, method, path string, h twHandler) {
		s.handleOp(mux, "workspace."+op, method, routes.MockSitesPrefix+"{site}/"+string(site.ConsoleAPI)+path, s.twRoute(h))
	}
	api("CreateWorkspace", http.MethodPost, routes.CreateWorkspace, postOp(s, tokenHolder, s.opCreateWorkspace))
	api("RegisterAndCreate", http.MethodPost, routes.RegisterAndCreate, postOp(s, tokenHolder, s.opRegisterAndCreate))
	api("GetWorkspace", http.MethodGet, routes.GetWorkspace("{uuid}"), getOp(s, tokenHolder, s.opGetWorkspace))

	mux.HandleFunc("GET "+routes.MockSitesPrefix+"{site}/"+string(site.Auth)+"/login/pwd", s.loginPage)
	mux.HandleFunc("GET "+routes.MockBillingPrefix+ActivationPath, s.activationPage)
}
