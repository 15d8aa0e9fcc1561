package mockserver

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/truewatch-labs/marketplace-go/apierror"
)

// NamespaceHeader selects the namespace a request is served in, on every
// route: the API halves and the control plane. See the package comment's
// "Namespaces" section.
const NamespaceHeader = "X-Mock-Namespace"

// DefaultMaxNamespaces is how many namespaces (besides the default one) a
// server holds unless WithMaxNamespaces says otherwise.
const DefaultMaxNamespaces = 10000

// nsPathPrefix is the path prefix that selects a namespace: /ns/{name}/...
const nsPathPrefix = "/ns/"

// ErrUnknownNamespace is returned for a namespace that does not exist
// where namespaces are created explicitly (WithExplicitNamespaces), or by
// DeleteNamespace.
var ErrUnknownNamespace = errors.New("mockserver: unknown namespace")

// ErrNamespaceLimit is returned when creating a namespace would exceed
// WithMaxNamespaces.
var ErrNamespaceLimit = errors.New("mockserver: too many namespaces")

// ErrNamespaceExists is returned by CreateNamespace for a name taken.
var ErrNamespaceExists = errors.New("mockserver: the namespace exists")

// ErrInvalidNamespace is returned for a name that is not a namespace's.
var ErrInvalidNamespace = errors.New("mockserver: invalid namespace name")

// WithExplicitNamespaces makes namespaces exist only once created
// (CreateNamespace, POST /_mock/namespaces): a request naming an unknown
// one gets 404 in the shape of the API it addresses and creates nothing.
// By default a namespace is created on its first use.
func WithExplicitNamespaces() Option {
	return func(cfg *config) error { cfg.explicitNS = true; return nil }
}

// WithMaxNamespaces bounds how many namespaces the server holds besides
// the default one (DefaultMaxNamespaces), so that a client creating them
// on first use cannot exhaust the mock's memory; past it, creating one is
// refused with 429 (ErrNamespaceLimit). Deleting one makes room.
func WithMaxNamespaces(n int) Option {
	return func(cfg *config) error {
		if n < 0 {
			return errors.New("mockserver: negative namespace limit")
		}
		cfg.maxNS = n
		return nil
	}
}

// NamespaceOption configures a namespace at its creation (CreateNamespace).
type NamespaceOption func(*nsOptions) error

type nsOptions struct {
	strictness *Strictness
	noFixture  *bool
	seed       string
	fixture    *Fixture
	restore    *savedState // a namespace of the state file (restoreNamespaces)
}

// WithNamespaceStrictness gives the namespace its own strictness; by
// default it has its parent's (WithStrictness).
func WithNamespaceStrictness(st Strictness) NamespaceOption {
	return func(o *nsOptions) error {
		if !st.valid() {
			return fmt.Errorf("mockserver: unknown strictness %q", string(st))
		}
		o.strictness = &st
		return nil
	}
}

// WithNamespaceDemoFixture says whether the namespace starts with its demo
// fixture (the demo Huawei account, with the keys DemoKeysFor gives, and
// its purchase); by default it does when its parent does.
func WithNamespaceDemoFixture(on bool) NamespaceOption {
	return func(o *nsOptions) error { off := !on; o.noFixture = &off; return nil }
}

// WithNamespaceIDSeed sets the namespace's ID seed; by default it is the
// parent's seed + "/" + the namespace's name, so that no two namespaces
// make the same IDs.
func WithNamespaceIDSeed(seed string) NamespaceOption {
	return func(o *nsOptions) error {
		if seed == "" {
			return errors.New("mockserver: empty ID seed")
		}
		o.seed = seed
		return nil
	}
}

// DemoKeysFor returns the access key and secret key of the demo Huawei
// account in the namespace name: DemoAccessKey and DemoSecretKey in the
// default namespace; in any other, the access key is "DEMOAKNS-" and the
// name in upper case (DEMOAKNS-CI-42 for ci-42) and the secret key is
// derived from the name. The Huawei SDK, which sends neither a custom
// header nor an endpoint path of its own, reaches its namespace by its
// access key, and a namespace not yet made is made by it, as by any
// first use. They are demo keys, as public as the name they come from:
// namespaces isolate tests, not tenants.
func DemoKeysFor(name string) (accessKey, secretKey string) {
	if name == "" || name == DefaultNamespace {
		return DemoAccessKey, DemoSecretKey
	}
	sk := sha256.Sum256([]byte("truewatch-mock secret key|" + name))
	return nsAccessKeyPrefix + strings.ToUpper(name), "demo-secret-key-" + hex.EncodeToString(sk[:16])
}

// nsAccessKeyPrefix starts the demo access keys of the namespaces
// (DemoKeysFor): the rest is the namespace's name, upper-cased.
const nsAccessKeyPrefix = "DEMOAKNS-"

// namespaceOfKey is the namespace whose demo access key ak is, if any.
func namespaceOfKey(ak string) (string, bool) {
	rest, ok := strings.CutPrefix(ak, nsAccessKeyPrefix)
	if !ok || strings.ToUpper(rest) != rest {
		return "", false
	}
	name := strings.ToLower(rest)
	return name, validNamespace(name) == nil && name != DefaultNamespace
}

// validNamespace checks a namespace's name: 1 to 63 characters of
// lower-case letters, digits and '-', not starting with '-' (a DNS label,
// so that it fits a path segment, a header and a host name alike).
func validNamespace(name string) error {
	if len(name) == 0 || len(name) > 63 {
		return fmt.Errorf("%w %q: 1 to 63 characters of a-z, 0-9 and '-', not starting with '-'", ErrInvalidNamespace, clip(name, 70))
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' && i > 0) {
			return fmt.Errorf("%w %q: 1 to 63 characters of a-z, 0-9 and '-', not starting with '-'", ErrInvalidNamespace, clip(name, 70))
		}
	}
	return nil
}

// nsRegistry is what the default server keeps of its namespaces.
type nsRegistry struct {
	mu       sync.Mutex
	children map[string]*Server
	// keys maps each access key of every namespace, the default's
	// included, to the server that has it: the Huawei SDK's requests are
	// routed by it, so a key belongs to one namespace only.
	keys  map[string]*Server
	count atomic.Int32 // len(children), read without the lock on every request

	muxOnce sync.Once
	mux     *http.ServeMux // shared by the namespaces (namespaceMux)

	runs sync.WaitGroup // the namespaces' catch-ups the ticker started
}

// root is the server holding the namespaces: s's parent, or s.
func (s *Server) root() *Server {
	if s.parent != nil {
		return s.parent
	}
	return s
}

// NamespaceName is the server's namespace: DefaultNamespace for a server
// built by New, the name for one returned by Namespace or CreateNamespace.
func (s *Server) NamespaceName() string {
	if s.parent == nil {
		return DefaultNamespace
	}
	return s.name
}

// Namespace returns the namespace name of s, creating it (with its
// parent's options) unless it exists or s was built
// WithExplicitNamespaces. DefaultNamespace is s itself. The namespace's
// *Server has every method of s working on its own state, clock, faults,
// outbox, journal and keys; it shares the listener of s and closes with
// it.
func (s *Server) Namespace(name string) (*Server, error) {
	return s.namespace(name, !s.root().cfg.explicitNS)
}

// namespace gets, or when create allows it creates, a namespace.
func (s *Server) namespace(name string, create bool) (*Server, error) {
	if name == DefaultNamespace {
		return s.root(), nil
	}
	if err := validNamespace(name); err != nil {
		return nil, err
	}
	p := s.root()
	p.ns.mu.Lock()
	defer p.ns.mu.Unlock()
	if c := p.ns.children[name]; c != nil {
		return c, nil
	}
	if !create {
		return nil, fmt.Errorf("%w %q: create it first (POST /_mock/namespaces)", ErrUnknownNamespace, name)
	}
	return p.createLocked(name, nsOptions{})
}

// CreateNamespace creates the namespace name with opts and returns it; a
// name taken is ErrNamespaceExists.
func (s *Server) CreateNamespace(name string, opts ...NamespaceOption) (*Server, error) {
	if err := validNamespace(name); err != nil {
		return nil, err
	}
	var o nsOptions
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	p := s.root()
	p.ns.mu.Lock()
	defer p.ns.mu.Unlock()
	if name == DefaultNamespace || p.ns.children[name] != nil {
		return nil, fmt.Errorf("%w: %q", ErrNamespaceExists, name)
	}
	return p.createLocked(name, o)
}

// Namespaces lists the namespaces, sorted, DefaultNamespace first.
func (s *Server) Namespaces() []string {
	p := s.root()
	p.ns.mu.Lock()
	out := make([]string, 0, len(p.ns.children)+1)
	for n := range p.ns.children {
		out = append(out, n)
	}
	p.ns.mu.Unlock()
	slices.Sort(out)
	return append([]string{DefaultNamespace}, out...)
}

// DeleteNamespace drops the namespace name, its state and its keys, and
// closes it; its requests in flight finish. The default namespace cannot
// be deleted (Reset it).
func (s *Server) DeleteNamespace(name string) error {
	if name == DefaultNamespace {
		return errors.New("mockserver: the default namespace cannot be deleted; reset it")
	}
	if err := validNamespace(name); err != nil {
		return err
	}
	p := s.root()
	p.ns.mu.Lock()
	c := p.ns.children[name]
	if c != nil {
		delete(p.ns.children, name)
		p.ns.count.Add(-1)
		p.ns.releaseLocked(c)
	}
	p.ns.mu.Unlock()
	if c == nil {
		return fmt.Errorf("%w %q", ErrUnknownNamespace, name)
	}
	c.Close()
	return nil
}

// createLocked builds the namespace name of p (p.ns.mu held): p's
// configuration with its own seed, demo keys and clock, no listener, no
// ticker (p's catches it up) and no transport of its own (p's, with the
// namespace's header).
func (p *Server) createLocked(name string, o nsOptions) (*Server, error) {
	if len(p.ns.children) >= p.cfg.maxNS {
		return nil, fmt.Errorf("%w: the limit is %d (WithMaxNamespaces, -max-namespaces); delete one first", ErrNamespaceLimit, p.cfg.maxNS)
	}
	cfg := p.cfg
	// A namespace has no listener, no state file of its own (the root's
	// holds every namespace) and not the root's start fixture, whose
	// access keys are the root's.
	cfg.noListener, cfg.publicURL = true, ""
	cfg.stateFile, cfg.fixture, cfg.fixturePath = "", nil, ""
	cfg.seed = p.cfg.seed + "/" + name
	if o.seed != "" {
		cfg.seed = o.seed
	}
	if o.strictness != nil {
		cfg.strictness = *o.strictness
	}
	if o.noFixture != nil {
		cfg.noFixture = *o.noFixture
	}
	cfg.demoAK, cfg.demoSK = DemoKeysFor(name)
	// A clock of its own, so that moving one namespace's never moves
	// another's: a ManualClock base (moved in place) is replaced by a
	// ManualClock of the namespace's own, stopped at the parent's time;
	// any other base is read through an offset of the namespace's own.
	base := p.clock().base
	if _, ok := base.(settableClock); ok {
		base = NewManualClock(p.Now())
	}
	cfg.clock = &movableClock{base: base}
	c := &Server{cfg: cfg, parent: p, name: name, ids: idGen{seed: cfg.seed}, done: make(chan struct{}),
		ticked: make(chan struct{}), journal: newJournal(cfg.journalSize), tel: p.tel, ops: p.ops}
	if o.restore != nil {
		st, ids, err := c.restoreState(o.restore)
		if err != nil {
			return nil, err
		}
		c.st, c.ids.counts, c.fixture = st, ids, o.restore.Fixture
	} else {
		st, ids, _, err := c.buildState(o.fixture)
		if err != nil {
			return nil, err
		}
		c.st, c.ids.counts, c.fixture = st, ids, o.fixture
	}
	st := c.st
	c.faults.seed = faultSeedOf(&cfg)
	c.tls = p.tls
	if err := p.ns.claimLocked(c, nil, st.huawei.keys); err != nil {
		return nil, err
	}
	if err := c.newVendor(); err != nil {
		p.ns.releaseLocked(c)
		return nil, err
	}
	c.url = p.url + nsPathPrefix + name
	c.proofOrigins = p.proofOrigins
	c.transport = noIdle{}
	c.rt = nsTransport{name: name, hosts: p.rt.(controlTransport).hosts, next: p.rt}
	c.handler = c.observe(c.routes())
	if err := c.newKGCaller(); err != nil {
		p.ns.releaseLocked(c)
		return nil, err
	}
	if p.ns.children == nil {
		p.ns.children = map[string]*Server{}
	}
	p.ns.children[name] = c
	p.ns.count.Add(1)
	return c, nil
}

// claimLocked gives owner the access keys of keys, taking back those of
// old it no longer has; all or nothing: a key another server has is a
// conflict and changes nothing.
func (r *nsRegistry) claimLocked(owner *Server, old, keys map[string]*keyRef) error {
	for ak := range keys {
		if o := r.keys[ak]; o != nil && o != owner {
			return conflictf("mockserver: access key %s belongs to the namespace %q", ak, o.NamespaceName())
		}
	}
	for ak := range old {
		if _, keep := keys[ak]; !keep && r.keys[ak] == owner {
			delete(r.keys, ak)
		}
	}
	if r.keys == nil {
		r.keys = map[string]*Server{}
	}
	for ak := range keys {
		r.keys[ak] = owner
	}
	return nil
}

// claimKeys is claimLocked for a server's own change of its keys (s.mu
// held by the caller): it takes the root's registry lock.
func (s *Server) claimKeys(old, keys map[string]*keyRef) error {
	r := &s.root().ns
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.claimLocked(s, old, keys)
}

// claimNewKeys claims access keys being added to s (s.mu held).
func (s *Server) claimNewKeys(aks []string) error {
	r := &s.root().ns
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, ak := range aks {
		if o := r.keys[ak]; o != nil && o != s {
			return conflictf("mockserver: access key %s belongs to the namespace %q", ak, o.NamespaceName())
		}
	}
	if r.keys == nil {
		r.keys = map[string]*Server{}
	}
	for _, ak := range aks {
		r.keys[ak] = s
	}
	return nil
}

// releaseLocked takes back every access key of owner.
func (r *nsRegistry) releaseLocked(owner *Server) {
	for ak, o := range r.keys {
		if o == owner {
			delete(r.keys, ak)
		}
	}
}

// byKey is the server (namespace or default) holding the access key ak;
// nil for none.
func (r *nsRegistry) byKey(ak string) *Server {
	if ak == "" {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.keys[ak]
}

// namespaces is every namespace but the default, for the ticker.
func (r *nsRegistry) namespaces() []*Server {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]*Server, 0, len(r.children))
	for _, c := range r.children {
		out = append(out, c)
	}
	return out
}

// closeAll closes every namespace (the root's Close).
func (r *nsRegistry) closeAll() {
	for _, c := range r.namespaces() {
		c.Close()
	}
}

// dispatch serves each request in its namespace: def (the default
// namespace's handler) unless the request names another with the
// NamespaceHeader or a /ns/{name} path prefix, or is a Huawei call signed
// with an access key of another.
func (s *Server) dispatch(def http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.ns.count.Load() == 0 && len(r.Header[NamespaceHeader]) == 0 && !strings.HasPrefix(r.URL.Path, nsPathPrefix) &&
			!strings.Contains(r.Header.Get("Authorization"), "Access="+nsAccessKeyPrefix) {
			def.ServeHTTP(w, r) // the fast path: nothing to choose
			return
		}
		s.serveNamespaced(w, r, def)
	})
}

func (s *Server) serveNamespaced(w http.ResponseWriter, r *http.Request, def http.Handler) {
	name, fromPath, r2 := "", false, r
	if rest, ok := strings.CutPrefix(r.URL.Path, nsPathPrefix); ok {
		seg, tail, _ := strings.Cut(rest, "/")
		name, fromPath = seg, true
		r2 = r.WithContext(r.Context())
		u := *r.URL
		u.Path = "/" + tail
		if raw, ok := strings.CutPrefix(u.RawPath, nsPathPrefix+seg); ok {
			u.RawPath = raw
		} else {
			u.RawPath = ""
		}
		r2.URL = &u
	}
	if hv := r.Header.Values(NamespaceHeader); len(hv) > 0 {
		switch {
		case len(hv) > 1:
			s.nsError(w, r2, http.StatusBadRequest, "give one "+NamespaceHeader+" header")
			return
		case fromPath && hv[0] != name:
			s.nsError(w, r2, http.StatusBadRequest, fmt.Sprintf("the %s header (%q) and the path's /ns/%s disagree",
				NamespaceHeader, clip(hv[0], 70), clip(name, 70)))
			return
		}
		name = hv[0]
	} else if !fromPath {
		// Neither header nor prefix: a Huawei call goes to the namespace
		// of its access key (made on first use when it is a namespace's
		// demo key), anything else to the default namespace.
		if familyOf(r.URL.Path) != familyHuawei {
			def.ServeHTTP(w, r)
			return
		}
		ak := accessKeyOf(r.Header)
		if c := s.ns.byKey(ak); c != nil && c.parent != nil {
			c.handler.ServeHTTP(w, r)
			return
		} else if c != nil {
			def.ServeHTTP(w, r)
			return
		}
		var ok bool
		if name, ok = namespaceOfKey(ak); !ok {
			def.ServeHTTP(w, r)
			return
		}
	}
	if name == DefaultNamespace {
		def.ServeHTTP(w, r2)
		return
	}
	if err := validNamespace(name); err != nil {
		s.nsError(w, r2, http.StatusBadRequest, err.Error())
		return
	}
	if familyOf(r2.URL.Path) == familyControl && !s.guardControl(w, r2) {
		return // a refused control request creates no namespace
	}
	c, err := s.namespace(name, false)
	if errors.Is(err, ErrUnknownNamespace) && !s.root().cfg.explicitNS {
		// Made on first use, but not by a web page: a page on another
		// origin (or a name rebound to the mock) could otherwise fill the
		// namespace limit with simple GETs the mock must answer.
		if why := s.browserElsewhere(r2); why != "" {
			s.nsError(w, r2, http.StatusForbidden, "a request from a browser on another origin creates no namespace ("+why+"): create it first (POST /_mock/namespaces)")
			return
		}
		c, err = s.namespace(name, true)
	}
	switch {
	case errors.Is(err, ErrUnknownNamespace):
		s.nsError(w, r2, http.StatusNotFound, err.Error())
		return
	case errors.Is(err, ErrNamespaceLimit):
		s.nsError(w, r2, http.StatusTooManyRequests, err.Error())
		return
	case err != nil:
		s.nsError(w, r2, http.StatusConflict, err.Error())
		return
	}
	c.handler.ServeHTTP(w, r2)
}

// browserElsewhere says why r comes from a web page that is not the
// mock's own (another origin, or a Host that is not one of the mock's
// names, as after DNS rebinding), or "".
func (s *Server) browserElsewhere(r *http.Request) string {
	if !s.controlHostAllowed(r.Host) {
		return "Host " + quoteHost(r.Host) + " is not the mock's"
	}
	return crossOrigin(r)
}

// Codes of the namespace errors the mock answers on the API halves; no
// real service has namespaces, so they are the mock's own.
const (
	twCodeNamespaceLimit    = "ft.MockNamespaceLimit"
	twCodeNamespaceConflict = "ft.MockNamespaceConflict"
	hwCodeNamespaceLimit    = "MOCK.0429"
	hwCodeUnknownNamespace  = "MOCK.0404"
	hwCodeNamespaceConflict = "MOCK.0409"
	hwCodeNamespaceRefused  = "MOCK.0403"
)

// nsError answers a request whose namespace cannot serve it, in the shape
// of the API its path (without the /ns/{name} prefix) addresses.
func (s *Server) nsError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	w.Header().Set("X-Request-Id", s.ids.hex32("request"))
	msg = strings.TrimPrefix(msg, "mockserver: ")
	twCode, hwCode := apierror.CodeValidation, ""
	switch status {
	case http.StatusForbidden:
		twCode, hwCode = apierror.CodeForbidden, hwCodeNamespaceRefused
	case http.StatusNotFound:
		twCode, hwCode = apierror.CodeNotFound, hwCodeUnknownNamespace
	case http.StatusTooManyRequests:
		twCode, hwCode = twCodeNamespaceLimit, hwCodeNamespaceLimit
	case http.StatusConflict:
		// Its demo access key is another namespace's.
		twCode, hwCode = twCodeNamespaceConflict, hwCodeNamespaceConflict
	}
	if familyOf(r.URL.Path) == familyHuawei && status == http.StatusBadRequest {
		hwBadRequest(w, r, msg)
		return
	}
	writeError(w, r, status, twCode, hwCode, msg)
}

// nsTransport sends a namespace's own requests (HTTPClient, its
// KooGallery's calls to its vendor) with its NamespaceHeader, so that
// even those its URLs do not name it (a Huawei call, at the root) reach
// it.
type nsTransport struct {
	name  string
	hosts []string
	next  http.RoundTripper
}

func (t nsTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Header.Get(NamespaceHeader) != "" || !containsFold(t.hosts, r.URL.Host) {
		return t.next.RoundTrip(r)
	}
	r2 := r.Clone(r.Context())
	r2.Header.Set(NamespaceHeader, t.name)
	return t.next.RoundTrip(r2)
}

// NamespaceInfo describes a namespace: what GET /_mock/namespaces lists
// and POST /_mock/namespaces answers.
type NamespaceInfo struct {
	// Name is the namespace's name.
	Name string `json:"name"`
	// URL is the namespace's root URL, the server's with /ns/{name}: its
	// Billing Center is at URL + /billing-center/api/v1, its sites under
	// URL + /sites/, its control plane under URL + /_mock/.
	URL string `json:"url"`
	// HuaweiEndpoint is where the Huawei SDK reaches it: the server's
	// root URL, the namespace chosen by the access key.
	HuaweiEndpoint string `json:"huaweiEndpoint"`
	// Strictness is the namespace's strictness.
	Strictness Strictness `json:"strictness"`
	// DemoAccessKey and DemoSecretKey are the keys of its demo Huawei
	// account (DemoKeysFor); empty without the demo fixture.
	DemoAccessKey string `json:"demoAccessKey,omitempty"`
	DemoSecretKey string `json:"demoSecretKey,omitempty"`
	// Now is the namespace's clock.
	Now time.Time `json:"now"`
}

// Info describes the server's namespace.
func (s *Server) Info() NamespaceInfo {
	in := NamespaceInfo{Name: s.NamespaceName(), URL: s.URL(), HuaweiEndpoint: s.HuaweiEndpoint(),
		Strictness: s.cfg.strictness.orDefault(), Now: s.Now().UTC()}
	if !s.cfg.noFixture {
		in.DemoAccessKey, in.DemoSecretKey = s.demoKeys()
	}
	return in
}

// demoKeys are the keys of the server's demo Huawei account.
func (s *Server) demoKeys() (string, string) {
	if s.cfg.demoAK == "" {
		return DemoAccessKey, DemoSecretKey
	}
	return s.cfg.demoAK, s.cfg.demoSK
}

// NamespaceRequest is the body of POST /_mock/namespaces: CreateNamespace
// over HTTP.
type NamespaceRequest struct {
	// Name is the new namespace's name: 1 to 63 characters of a-z, 0-9
	// and '-', not starting with '-'.
	Name string `json:"name"`
	// Strictness is "strict" or "lenient" (WithNamespaceStrictness);
	// empty: the server's.
	Strictness Strictness `json:"strictness,omitempty"`
	// DemoFixture says whether it starts with its demo account and
	// purchase (WithNamespaceDemoFixture); absent: as the server does.
	DemoFixture *bool `json:"demoFixture,omitempty"`
	// IDSeed is its ID generator's seed (WithNamespaceIDSeed); empty: the
	// server's seed + "/" + the name.
	IDSeed string `json:"idSeed,omitempty"`
}

// namespaceRoutes are the control routes of the namespaces, served by the
// default namespace only.
func (s *Server) namespaceRoutes() []controlRoute {
	return []controlRoute{
		{ControlEndpoint{http.MethodGet, "/_mock/namespaces", "the namespaces (NamespaceInfo), the default first"},
			func(w http.ResponseWriter, r *http.Request) {
				out := []NamespaceInfo{}
				for _, n := range s.Namespaces() {
					if c, err := s.namespace(n, false); err == nil {
						out = append(out, c.Info())
					}
				}
				writeJSON(w, http.StatusOK, out)
			}},
		{ControlEndpoint{http.MethodPost, "/_mock/namespaces", "create a namespace {name, strictness, demoFixture, idSeed}; 201 with its NamespaceInfo"},
			func(w http.ResponseWriter, r *http.Request) {
				var req NamespaceRequest
				if !decodeControl(w, r, &req) {
					return
				}
				var opts []NamespaceOption
				if req.Strictness != "" {
					opts = append(opts, WithNamespaceStrictness(req.Strictness))
				}
				if req.DemoFixture != nil {
					opts = append(opts, WithNamespaceDemoFixture(*req.DemoFixture))
				}
				if req.IDSeed != "" {
					opts = append(opts, WithNamespaceIDSeed(req.IDSeed))
				}
				c, err := s.CreateNamespace(req.Name, opts...)
				if err != nil {
					controlError(w, namespaceStatus(err), errors.New(strings.TrimPrefix(err.Error(), "mockserver: ")))
					return
				}
				writeJSON(w, http.StatusCreated, c.Info())
			}},
		{ControlEndpoint{http.MethodGet, "/_mock/namespaces/{name}", "one namespace (NamespaceInfo)"},
			func(w http.ResponseWriter, r *http.Request) {
				c, err := s.namespace(r.PathValue("name"), false)
				if err != nil {
					controlError(w, namespaceStatus(err), errors.New(strings.TrimPrefix(err.Error(), "mockserver: ")))
					return
				}
				writeJSON(w, http.StatusOK, c.Info())
			}},
		{ControlEndpoint{http.MethodDelete, "/_mock/namespaces/{name}", "delete a namespace, its state and its keys"},
			func(w http.ResponseWriter, r *http.Request) {
				if err := s.DeleteNamespace(r.PathValue("name")); err != nil {
					controlError(w, namespaceStatus(err), errors.New(strings.TrimPrefix(err.Error(), "mockserver: ")))
					return
				}
				writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
			}},
	}
}

// namespaceStatus is the control plane's status for a namespace error.
func namespaceStatus(err error) int {
	var ce *conflictError
	switch {
	case errors.Is(err, ErrUnknownNamespace):
		return http.StatusNotFound
	case errors.Is(err, ErrNamespaceLimit):
		return http.StatusTooManyRequests
	case errors.Is(err, ErrNamespaceExists), errors.As(err, &ce):
		return http.StatusConflict
	}
	return http.StatusBadRequest
}
