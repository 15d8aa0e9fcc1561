package mockserver

import (
	"container/heap"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/truewatch-labs/marketplace-go/koogallery"
)

// DeliveryPolicy is how the mock's KooGallery delivers calls to the
// vendor. KooGallery's V1 guide documents retrying a failed newInstance 60
// times every 3 minutes and then cancelling the order; V2 does not say
// otherwise, so those are the defaults. Attempts counts every call, the
// first included. Retries run on the mock's clock (see AdvanceClock). A
// zero field keeps its default.
type DeliveryPolicy struct {
	// Attempts is how many times a call is made before the mock gives up
	// (a newInstance that never succeeded cancels its order). Default 60.
	Attempts int `json:"attempts"`
	// Interval is the time between attempts, on the mock's clock. Default
	// 3 minutes.
	Interval time.Duration `json:"interval"`
	// Timeout bounds each call, in real time. Default 5 seconds,
	// KooGallery's.
	Timeout time.Duration `json:"timeout"`
}

// DefaultDeliveryPolicy is the policy of a server built without
// WithDeliveryPolicy.
func DefaultDeliveryPolicy() DeliveryPolicy {
	return DeliveryPolicy{Attempts: 60, Interval: 3 * time.Minute, Timeout: 5 * time.Second}
}

// WithDeliveryPolicy sets how the mock's KooGallery retries calls to the
// vendor; zero fields keep their defaults, negative ones are refused.
func WithDeliveryPolicy(p DeliveryPolicy) Option {
	return func(cfg *config) error {
		d := DefaultDeliveryPolicy()
		switch {
		case p.Attempts < 0 || p.Interval < 0 || p.Timeout < 0:
			return errors.New("mockserver: delivery policy fields must not be negative")
		case p.Attempts > 10_000:
			return errors.New("mockserver: at most 10000 delivery attempts")
		}
		if p.Attempts > 0 {
			d.Attempts = p.Attempts
		}
		if p.Interval > 0 {
			d.Interval = p.Interval
		}
		if p.Timeout > 0 {
			d.Timeout = p.Timeout
		}
		cfg.delivery = d
		return nil
	}
}

// DeliveryOutcome says how one call to the vendor ended.
type DeliveryOutcome string

// The outcomes.
const (
	// DeliverySucceeded: the vendor answered 000000 (and, for newInstance,
	// an instance ID and a front-end URL).
	DeliverySucceeded DeliveryOutcome = "succeeded"
	// DeliveryRetrying: the call failed and will be made again at
	// NextAttemptAt.
	DeliveryRetrying DeliveryOutcome = "retrying"
	// DeliveryGaveUp: the last attempt failed; for newInstance the order
	// is cancelled.
	DeliveryGaveUp DeliveryOutcome = "gave_up"
)

// Delivery is one call the mock's KooGallery made to the vendor's
// production interface and what the vendor answered: an entry of the
// delivery log (Deliveries, GET /_mock/marketplace/deliveries). Secrets are
// redacted: the signature is not kept (only that the call was signed with
// the configured key), and in the answer the password of appInfo and every
// query value of its URLs (the activation link's token) read "REDACTED".
type Delivery struct {
	// ID numbers deliveries from 1 in the order they were made.
	ID int `json:"id"`
	// At is when the call was made, on the mock's clock (a retry that fell
	// due while the clock jumped is made at its due time).
	At       time.Time `json:"at"`
	Activity string    `json:"activity"`
	// Attempt counts the calls of the same delivery, from 1.
	Attempt     int    `json:"attempt"`
	OrderID     string `json:"orderId,omitempty"`
	OrderLineID string `json:"orderLineId,omitempty"`
	InstanceID  string `json:"instanceId,omitempty"`
	// TenantID is the enterprise of a joint-operation kit call (Activity
	// is then the kit interface: tenantSync, applicationSync, authSync,
	// singleOrgSync, allOrgSync).
	TenantID string `json:"tenantId,omitempty"`
	// URL is the production address called (the signature's query left
	// out).
	URL string `json:"url"`
	// Request is the JSON body sent, as signed (applicationSync's
	// encrypted clientSecret reads REDACTED).
	Request json.RawMessage `json:"request"`
	// HTTPStatus, ResultCode and ResultMsg are the vendor's answer; zero
	// when none came (Error says why).
	HTTPStatus int    `json:"httpStatus,omitempty"`
	ResultCode string `json:"resultCode,omitempty"`
	ResultMsg  string `json:"resultMsg,omitempty"`
	// Response is the answer's body, secrets redacted (a body that is not
	// JSON is kept as a JSON string, cut at 4 KiB).
	Response json.RawMessage `json:"response,omitempty"`
	// Error says why the call failed when the vendor gave no usable
	// answer (unreachable, timed out, malformed, no instance ID, ...).
	Error   string          `json:"error,omitempty"`
	Outcome DeliveryOutcome `json:"outcome"`
	// NextAttemptAt is when the call is made again (DeliveryRetrying).
	NextAttemptAt time.Time `json:"nextAttemptAt,omitzero"`
}

// maxDeliveryLog bounds the delivery log; the oldest entries go first, a
// tenth at a time.
const maxDeliveryLog = 10_000

// DeliveryFilter selects deliveries; empty fields match everything.
type DeliveryFilter struct {
	Activity   string
	InstanceID string
	OrderID    string
	TenantID   string
}

// Deliveries returns the delivery log, oldest first, filtered. At most
// 10000 calls are kept; when the log is full the oldest thousand go.
func (s *Server) Deliveries(f DeliveryFilter) []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []Delivery{}
	for _, d := range s.st.mkt.log {
		if (f.Activity == "" || d.Activity == f.Activity) && (f.InstanceID == "" || d.InstanceID == f.InstanceID) &&
			(f.OrderID == "" || d.OrderID == f.OrderID) && (f.TenantID == "" || d.TenantID == f.TenantID) {
			out = append(out, d)
		}
	}
	return out
}

func (s *Server) handleDeliveries(w http.ResponseWriter, r *http.Request) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err == nil {
		for k, v := range q {
			if !slices.Contains([]string{"activity", "instanceId", "orderId", "tenantId"}, k) {
				err = fmt.Errorf("unknown query parameter %q (activity, instanceId, orderId, tenantId)", k)
			} else if len(v) > 1 {
				err = fmt.Errorf("query parameter %q given more than once", k)
			}
		}
	}
	if err != nil {
		controlError(w, http.StatusBadRequest, err)
		return
	}
	s.catchUp(r.Context())
	writeJSON(w, http.StatusOK, s.Deliveries(DeliveryFilter{Activity: q.Get("activity"),
		InstanceID: q.Get("instanceId"), OrderID: q.Get("orderId"), TenantID: q.Get("tenantId")}))
}

// deliveryJob is one activity to deliver until it succeeds or the policy's
// attempts run out. Its hooks run under s.mu.
type deliveryJob struct {
	id       int
	st       *state // the state it belongs to: a job of a state Reset replaced is dropped
	activity string
	orderID  string
	lineID   string
	instance string
	attempts int
	nextAt   time.Time
	once     bool // a single call, never retried
	// kit is the kit interface of a joint-operation call (sent with the
	// kit caller), tenant its enterprise; logged, when set, is the body
	// the log shows (secrets redacted).
	kit    string
	tenant string
	logged []byte
	// body builds the body of each attempt (newInstance sends a new
	// businessId every time).
	body func() ([]byte, error)
	// succeeded checks and applies a successful answer; an error makes the
	// attempt a failure.
	succeeded func(res *koogallery.Response, at time.Time) error
	// failed is told of every failed attempt; last says no more follow.
	failed func(at time.Time, last bool, why string)
}

// newJobLocked registers a job of the current state.
func (s *Server) newJobLocked(j *deliveryJob) *deliveryJob {
	m := &s.st.mkt
	m.nextJob++
	j.id, j.st = m.nextJob, s.st
	return j
}

// dueEvent is something that falls due on the mock's clock: an attempt of
// a delivery job, or the end of a purchase's term.
type dueEvent struct {
	at         time.Time
	job        *deliveryJob // a retry
	instance   string       // a term's end
	enterprise string       // an enterprise's activation (tenant ID)
	seq        int          // insertion order, to keep events of one instant in order
}

// appliesLocked says whether a due event still applies: a term that was
// renewed or ended otherwise, or an enterprise deleted or activated
// already, no longer does.
func (s *Server) appliesLocked(e dueEvent) bool {
	switch {
	case e.job != nil:
		return true
	case e.enterprise != "":
		return s.activationDueLocked(e.enterprise, e.at)
	}
	return s.termEndLocked(e.instance).Equal(e.at)
}

type dueQueue []dueEvent

func (q dueQueue) Len() int { return len(q) }
func (q dueQueue) Less(i, j int) bool {
	if !q[i].at.Equal(q[j].at) {
		return q[i].at.Before(q[j].at)
	}
	return q[i].seq < q[j].seq
}
func (q dueQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *dueQueue) Push(x any)   { *q = append(*q, x.(dueEvent)) }
func (q *dueQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

func (s *Server) scheduleLocked(e dueEvent) {
	m := &s.st.mkt
	m.seq++
	e.seq = m.seq
	heap.Push(&m.queue, e)
}

// nextDueLocked is the time of the next event that still applies.
func (s *Server) nextDueLocked() (time.Time, bool) {
	m := &s.st.mkt
	for m.queue.Len() > 0 {
		e := m.queue[0]
		if s.appliesLocked(e) {
			return e.at, true
		}
		heap.Pop(&m.queue)
	}
	return time.Time{}, false
}

// popDueLocked returns the next event due at now, skipping those that no
// longer apply (a term renewed or ended otherwise since).
func (s *Server) popDueLocked(now time.Time) (dueEvent, bool) {
	m := &s.st.mkt
	for m.queue.Len() > 0 && !m.queue[0].at.After(now) {
		e := heap.Pop(&m.queue).(dueEvent)
		if s.appliesLocked(e) {
			return e, true
		}
	}
	return dueEvent{}, false
}

// due reports whether an event of s is due on its clock.
func (s *Server) due() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.st.mkt.queue
	return q.Len() > 0 && !q[0].at.After(s.Now())
}

// maxCatchUp bounds the events one catch-up runs, so that a huge jump of
// the clock cannot keep a request busy for ever; the rest run at the next
// catch-up.
const maxCatchUp = 10_000

// catchUp runs, in time order, every event that is due on the mock's
// clock: KooGallery's retries and the ends of terms (then their FREEZE
// deliveries). It runs after every move of the clock through the server,
// before the marketplace's control calls answer, and every second in the
// background (for a clock that moves by itself, or a ManualClock moved
// behind the server's back). One catch-up runs at a time; vendor calls
// are made without holding the state's lock, so the vendor may call the
// mock back.
func (s *Server) catchUp(ctx context.Context) {
	s.runMu.Lock()
	defer s.runMu.Unlock()
	s.catchUpLocked(ctx)
}

// tryCatchUp is catchUp when no other runs, else nothing (the ticker).
func (s *Server) tryCatchUp(ctx context.Context) {
	if s.runMu.TryLock() {
		defer s.runMu.Unlock()
		s.catchUpLocked(ctx)
	}
}

func (s *Server) catchUpLocked(ctx context.Context) {
	for range maxCatchUp {
		if ctx.Err() != nil {
			return
		}
		s.mu.Lock()
		e, ok := s.popDueLocked(s.Now())
		var job *deliveryJob
		if ok {
			switch {
			case e.job != nil:
				job = e.job
			case e.enterprise != "":
				job = s.activateLocked(e.enterprise, e.at)
			default:
				job = s.endTermLocked(e.instance, e.at)
			}
		}
		s.mu.Unlock()
		if !ok {
			return
		}
		if job != nil {
			s.attempt(ctx, job, e.at)
		}
	}
}

// runTicker catches up every second until the server closes.
func (s *Server) runTicker() {
	defer close(s.ticked)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-s.done
		cancel()
	}()
	for {
		select {
		case <-s.done:
			return
		case <-t.C:
			s.tryCatchUp(ctx)
			// A namespace has no ticker of its own: each with something
			// due catches up on a goroutine of its own, so that one whose
			// vendor is slow delays no other.
			for _, ns := range s.ns.namespaces() {
				if ns.due() {
					s.ns.runs.Add(1)
					go func() {
						defer s.ns.runs.Done()
						ns.tryCatchUp(ctx)
					}()
				}
			}
		}
	}
}

// attempt makes one call of job, dated at, records it in the delivery log
// and applies its outcome, and returns the log entry.
func (s *Server) attempt(ctx context.Context, job *deliveryJob, at time.Time) Delivery {
	s.mu.Lock()
	job.attempts++
	body, berr := job.body()
	s.mu.Unlock()
	d := Delivery{At: at, Activity: job.activity, Attempt: job.attempts, OrderID: job.orderID, OrderLineID: job.lineID,
		InstanceID: job.instance, TenantID: job.tenant, URL: s.kg.target, Request: json.RawMessage(body)}
	if job.logged != nil {
		d.Request = json.RawMessage(job.logged)
	}
	send := s.kg.caller.SendBody
	if job.kit != "" {
		d.URL = s.kg.kitURL(job.kit)
		send = func(ctx context.Context, body []byte) (*koogallery.Response, error) {
			return s.kg.kit.SendBody(ctx, job.kit, body)
		}
	}
	var res *koogallery.Response
	var why string
	if berr != nil {
		why = "cannot build the call: " + berr.Error()
		d.Request = json.RawMessage("{}")
	} else {
		var err error
		res, err = send(ctx, body)
		if res != nil {
			d.HTTPStatus, d.ResultCode, d.ResultMsg = res.HTTPStatus, string(res.ResultCode), res.ResultMsg
			d.Response = redactAnswer(res.Body)
		}
		switch {
		case err != nil:
			why = err.Error()
		case res.ResultCode != koogallery.ResultSuccess:
			why = "vendor answered " + string(res.ResultCode) + " " + res.ResultMsg
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if job.st != s.st {
		d.Outcome = DeliveryGaveUp
		d.Error = "the mock was reset during the call"
		return d
	}
	if why == "" {
		if err := job.succeeded(res, at); err != nil {
			why = err.Error()
		}
	}
	if why == "" {
		d.Outcome = DeliverySucceeded
		if d.InstanceID == "" {
			d.InstanceID = res.InstanceID // the instance a newInstance created
		}
	} else {
		d.Error = why
		last := job.once || job.attempts >= s.cfg.delivery.Attempts
		if last {
			d.Outcome = DeliveryGaveUp
		} else {
			d.Outcome = DeliveryRetrying
			job.nextAt = at.Add(s.cfg.delivery.Interval)
			d.NextAttemptAt = job.nextAt
			s.scheduleLocked(dueEvent{at: job.nextAt, job: job})
		}
		if job.failed != nil {
			job.failed(at, last, why)
		}
	}
	s.logDeliveryLocked(&d)
	return d
}

func (s *Server) logDeliveryLocked(d *Delivery) {
	m := &s.st.mkt
	m.nextDelivery++
	d.ID = m.nextDelivery
	if len(m.log) >= maxDeliveryLog {
		// Drop the oldest tenth at once, so that a full log costs one copy
		// per thousand calls, not one per call.
		m.log = slices.Delete(m.log, 0, len(m.log)-maxDeliveryLog+maxDeliveryLog/10)
	}
	m.log = append(m.log, *d)
}

// redacted replaces secrets in the delivery log.
const redacted = "REDACTED"

// redactAnswer returns a vendor's answer for the log: appInfo's password
// and the query values of its URLs (an activation token) redacted, in
// appInfo and in each of queryInstance's info entries. A body that is not
// a JSON object is kept as a string, cut at 4 KiB.
func redactAnswer(body []byte) json.RawMessage {
	var v map[string]any
	if err := json.Unmarshal(body, &v); err != nil || v == nil {
		text := string(body)
		if len(text) > 4096 {
			text = text[:4096] + "…"
		}
		b, _ := json.Marshal(text)
		return b
	}
	redactAppInfo(v["appInfo"])
	if list, ok := v["info"].([]any); ok {
		for _, item := range list {
			if m, ok := item.(map[string]any); ok {
				redactAppInfo(m["appInfo"])
			}
		}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return json.RawMessage(`{}`)
	}
	return b
}

func redactAppInfo(v any) {
	info, ok := v.(map[string]any)
	if !ok {
		return
	}
	if _, ok := info["password"]; ok {
		info["password"] = redacted
	}
	for _, k := range []string{"frontEndUrl", "adminUrl"} {
		if s, ok := info[k].(string); ok {
			info[k] = redactURL(s)
		}
	}
}

// redactURL replaces every query value of u (and its fragment) with
// REDACTED; a URL that does not parse is replaced whole.
func redactURL(u string) string {
	pu, err := url.Parse(u)
	if err != nil {
		return redacted
	}
	if pu.RawQuery != "" {
		q, err := url.ParseQuery(pu.RawQuery)
		if err != nil {
			return redacted
		}
		for k := range q {
			q[k] = []string{redacted}
		}
		pu.RawQuery = q.Encode()
	}
	if pu.Fragment != "" {
		pu.Fragment = redacted
	}
	return pu.String()
}

// kgCaller holds what the mock's KooGallery calls the vendor with.
type kgCaller struct {
	caller *koogallery.Caller
	kit    *koogallery.KitCaller
	target string // the production address, for the log
	idle   interface{ CloseIdleConnections() }
}

// kitURL is where a kit interface is called, for the log.
func (k kgCaller) kitURL(iface string) string {
	u, err := url.Parse(k.target)
	if err != nil {
		return k.target
	}
	u.RawQuery, u.Fragment = "", ""
	u.Path = strings.TrimSuffix(u.Path, "/") + koogallery.KitPathPrefix + iface
	return u.String()
}

// newKGCaller builds the caller: to WithVendorHandler's handler in-process,
// to WithVendorURL's address, or to the mock's own TrueWatch vendor
// through the server's transport.
func (s *Server) newKGCaller() error {
	signer, err := koogallery.NewSigner(s.cfg.kgKey, koogallery.WithSignerClock(s.cfg.sigClock.Now))
	if err != nil {
		return fmt.Errorf("mockserver: KooGallery key: %w", err)
	}
	target := s.url + VendorProducePath
	var opt koogallery.CallerOption
	var idle interface{ CloseIdleConnections() } = noIdle{}
	switch {
	case s.cfg.vendorHandler != nil:
		target = "http://vendor.invalid" + VendorProducePath
		if s.cfg.vendorURL != "" {
			target = s.cfg.vendorURL
		}
		opt = koogallery.WithCallerHandler(s.cfg.vendorHandler)
	case s.cfg.vendorURL != "":
		target = s.cfg.vendorURL
		t := http.DefaultTransport.(*http.Transport).Clone()
		idle = t
		opt = koogallery.WithCallerHTTPClient(&http.Client{Transport: t, Timeout: s.cfg.delivery.Timeout})
	default:
		opt = koogallery.WithCallerHTTPClient(&http.Client{Transport: s.rt, Timeout: s.cfg.delivery.Timeout})
	}
	c, err := koogallery.NewCaller(target, signer, opt)
	if err != nil {
		return fmt.Errorf("mockserver: vendor URL: %w", err)
	}
	kitSigner, err := koogallery.NewKitSigner(s.cfg.kgKitKey, koogallery.WithSignerClock(s.cfg.sigClock.Now))
	if err != nil {
		return fmt.Errorf("mockserver: KooGallery kit key: %w", err)
	}
	kit, err := koogallery.NewKitCaller(target, kitSigner, opt)
	if err != nil {
		return fmt.Errorf("mockserver: vendor URL: %w", err)
	}
	s.kg = kgCaller{caller: c, kit: kit, target: target, idle: idle}
	return nil
}

// uuidOf formats 32 hex characters as a UUID, the shape of KooGallery's
// businessId.
func uuidOf(h string) string {
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// itoa6 is n with six digits, as order line IDs end.
func itoa6(n int) string {
	s := strconv.Itoa(n)
	for len(s) < 6 {
		s = "0" + s
	}
	return s
}
