package mockserver

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Timeouts bound how long a client may hold a connection of the mock's
// listener, and how long Close waits. A zero field keeps its default
// (DefaultTimeouts).
type Timeouts struct {
	// ReadHeader bounds reading a request's headers (default 10s).
	ReadHeader time.Duration `json:"readHeader"`
	// Read bounds reading a whole request, headers and body (default
	// 30s): a client that dribbles its body is cut off.
	Read time.Duration `json:"read"`
	// Write bounds the time from the end of a request's headers to the end
	// of its answer (default 30s). A fault's Delay extends the read and
	// write deadlines of the request it holds by the delay, so a delayed
	// answer is still written (and an AfterHandler fault's handler can
	// still read the body) however long the delay.
	Write time.Duration `json:"write"`
	// Idle bounds how long a keep-alive connection waits for its next
	// request (default 60s).
	Idle time.Duration `json:"idle"`
	// ShutdownGrace bounds Close (default 5s): requests in flight have
	// this long to finish before their connections are force-closed.
	// Close does not wait for fault delays (they end at once, answering
	// 503) or for slow bodies (they are cut at once).
	ShutdownGrace time.Duration `json:"shutdownGrace"`
}

// DefaultTimeouts are the timeouts of a server built without WithTimeouts.
func DefaultTimeouts() Timeouts {
	return Timeouts{ReadHeader: 10 * time.Second, Read: 30 * time.Second, Write: 30 * time.Second,
		Idle: 60 * time.Second, ShutdownGrace: 5 * time.Second}
}

// WithTimeouts sets the listener's timeouts and Close's grace period; zero
// fields keep their defaults, negative ones are refused.
func WithTimeouts(t Timeouts) Option {
	return func(cfg *config) error {
		d := DefaultTimeouts()
		for _, f := range []struct {
			v   time.Duration
			dst *time.Duration
		}{{t.ReadHeader, &d.ReadHeader}, {t.Read, &d.Read}, {t.Write, &d.Write}, {t.Idle, &d.Idle}, {t.ShutdownGrace, &d.ShutdownGrace}} {
			if f.v < 0 {
				return errors.New("mockserver: timeouts must not be negative")
			}
			if f.v > 0 {
				*f.dst = f.v
			}
		}
		cfg.timeouts = d
		return nil
	}
}

// listen starts serving s.handler on ln with the configured timeouts.
func (s *Server) listen(ln net.Listener) {
	t := s.cfg.timeouts
	s.ln = ln
	s.hs = &http.Server{Handler: s.handler, ReadHeaderTimeout: t.ReadHeader, ReadTimeout: t.Read,
		WriteTimeout: t.Write, IdleTimeout: t.Idle, ConnState: s.conns.track}
	s.served = make(chan struct{})
	go func() {
		defer close(s.served)
		_ = s.hs.Serve(ln) // returns http.ErrServerClosed once Close begins
	}()
}

// Close stops the server within its grace period (Timeouts.ShutdownGrace):
// fault delays end at once (their requests answer 503), bodies still being
// received are cut, requests in flight get the grace period to finish,
// then every connection left is force-closed. Safe to call more than once.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.done)
		if s.tickerRuns {
			<-s.ticked // the ticker's catch-up in flight is cancelled
		}
		s.ns.runs.Wait() // and the namespaces', cancelled with it
		s.ns.closeAll()
		if s.kg.idle != nil {
			s.kg.idle.CloseIdleConnections()
		}
		defer s.saveOnClose()
		if s.hs == nil {
			return
		}
		s.hs.SetKeepAlivesEnabled(false)
		s.conns.cutReads()
		ctx, cancel := context.WithTimeout(context.Background(), s.cfg.timeouts.ShutdownGrace)
		defer cancel()
		if err := s.hs.Shutdown(ctx); err != nil {
			_ = s.hs.Close()
		}
		<-s.served
		s.transport.CloseIdleConnections()
	})
}

// closing reports whether Close has begun.
func (s *Server) closing() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// connTracker knows the listener's open connections, so that Close can
// cut the reads of those still receiving a request.
type connTracker struct {
	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

func (t *connTracker) track(c net.Conn, st http.ConnState) {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch st {
	case http.StateNew:
		if t.conns == nil {
			t.conns = map[net.Conn]struct{}{}
		}
		t.conns[c] = struct{}{}
	case http.StateHijacked, http.StateClosed:
		delete(t.conns, c)
	}
}

// cutReads makes every pending and future read of every connection fail
// at once: a body being dribbled in ends, and so does a connection's wait
// for its next request.
func (t *connTracker) cutReads() {
	t.mu.Lock()
	defer t.mu.Unlock()
	past := time.Unix(1, 0)
	for c := range t.conns {
		_ = c.SetReadDeadline(past)
	}
}

// holdDeadlines extends the read and write deadlines of r's connection by
// d, for a fault that holds r that long (see Timeouts.Write). In-process
// (WithoutListener) there are no deadlines to extend.
func (s *Server) holdDeadlines(w http.ResponseWriter, d time.Duration) {
	if s.hs == nil {
		return
	}
	rc := http.NewResponseController(w)
	now := time.Now()
	_ = rc.SetReadDeadline(now.Add(d + s.cfg.timeouts.Read))
	_ = rc.SetWriteDeadline(now.Add(d + s.cfg.timeouts.Write))
}

// maxIdleConns bounds the idle connections HTTPClient keeps to the
// listener: as many as any test's concurrent callers use.
const maxIdleConns = 1024

// newTransport is the transport behind HTTPClient: in-process without a
// listener; otherwise a transport of the server's own, closed with it,
// that sends requests for the public URL to the listener. Either way it
// adds what the control plane requires (controlTransport).
func (s *Server) newTransport() {
	var next http.RoundTripper = handlerTransport{s.handler}
	hosts := []string{strings.ToLower(hostOf(s.url))}
	if s.ln != nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		// Keep an idle connection for every caller: with net/http's two
		// per host, 64 concurrent callers open a new TCP connection for
		// most of their requests.
		t.MaxIdleConns, t.MaxIdleConnsPerHost = 0, maxIdleConns
		s.transport = t
		next = t
		listen := &url.URL{Scheme: s.scheme(), Host: s.ln.Addr().String()}
		hosts = append(hosts, listen.Host)
		switch public, _ := url.Parse(s.cfg.publicURL); {
		case s.cfg.publicURL == "":
		case s.tls != nil:
			// The request keeps the public URL, so that the certificate is
			// checked against the name clients use; only the dial changes.
			t.DialContext = dialPublicToListener(withDefaultPort(public.Host, public.Scheme), listen.Host)
		default:
			next = publicTransport{public: public, listen: listen, next: t}
		}
		if s.tls != nil {
			t.TLSClientConfig = s.tls.clientConfig()
		}
	} else {
		s.transport = noIdle{}
	}
	s.rt = controlTransport{hosts: hosts, token: s.cfg.controlToken.Reveal(), next: next}
}

func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Host
}

// noIdle is the idle-connection closer of an in-process transport.
type noIdle struct{}

func (noIdle) CloseIdleConnections() {}

// controlTransport adds the control header and, when the server has one,
// the control token to the requests for the mock's control plane, so that
// tests driving it with HTTPClient need neither.
type controlTransport struct {
	hosts []string
	token string
	next  http.RoundTripper
}

func (t controlTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	p := r.URL.Path
	if rest, ok := strings.CutPrefix(p, nsPathPrefix); ok { // a namespace's control plane
		_, tail, _ := strings.Cut(rest, "/")
		p = "/" + tail
	}
	if !strings.HasPrefix(p, "/_mock/") || !containsFold(t.hosts, r.URL.Host) {
		return t.next.RoundTrip(r)
	}
	r2 := r.Clone(r.Context())
	if r2.Header.Get(ControlHeader) == "" {
		r2.Header.Set(ControlHeader, "1")
	}
	if t.token != "" && r2.Header.Get("Authorization") == "" {
		r2.Header.Set("Authorization", "Bearer "+t.token)
	}
	return t.next.RoundTrip(r2)
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}
