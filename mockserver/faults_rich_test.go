package mockserver

import (
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/internal/hwsign"
	"github.com/truewatch-labs/marketplace-go/internal/routes"
)

// probePath is a route the probes of these tests hit: without parameters
// it answers 400, never faultStatus, so an answer of faultStatus is the
// fault's.
var probePath = bcPath(routes.GetSubscription)

const faultStatus = 599

// pattern sends n probes and returns which the fault failed.
func (h *harness) pattern(n int, opts ...reqOpt) []bool {
	h.t.Helper()
	out := make([]bool, n)
	for i := range out {
		r := h.do(http.MethodGet, probePath, nil, opts...)
		out[i] = r.status == faultStatus
	}
	return out
}

func count(bs []bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

// TestFaultProbabilityIsSeeded: a fault with a probability fails the same
// requests on servers of the same fault seed, other requests on another
// seed; the default seed follows the ID seed; a fault's own Seed decides
// alone; over HTTP as in Go.
func TestFaultProbabilityIsSeeded(t *testing.T) {
	const n = 200
	run := func(f Fault, opts ...Option) []bool {
		h := newHarness(t, opts...)
		_, err := h.srv.InjectFault(f)
		require.NoError(t, err)
		got := h.pattern(n)
		require.Equal(t, []int{count(got)}, h.srv.FaultHits(), "hits are the requests failed")
		return got
	}
	f := Fault{Path: probePath, Status: faultStatus, Probability: 0.3, Times: n}
	a := run(f, WithFaultSeed(1))
	assert.Equal(t, a, run(f, WithFaultSeed(1)), "same seed, same pattern")
	assert.NotEqual(t, a, run(f, WithFaultSeed(2)), "another seed, another pattern")
	assert.InDelta(t, 0.3*n, count(a), 0.15*n, "about 30%% fail")

	assert.Equal(t, run(f, WithIDSeed("x")), run(f, WithIDSeed("x")), "the default seed follows the ID seed")
	assert.NotEqual(t, run(f, WithIDSeed("x")), run(f, WithIDSeed("y")))

	own := f
	own.Seed = 42
	assert.Equal(t, run(own, WithFaultSeed(1)), run(own, WithFaultSeed(2)), "a fault's own seed decides alone")
	assert.NotEqual(t, run(own, WithFaultSeed(1)), a)

	// Over HTTP, the same fault on a server of the same seed.
	h := newHarness(t, WithFaultSeed(1))
	status, raw := h.control(http.MethodPost, "/_mock/faults",
		`{"path":"`+probePath+`","status":599,"probability":0.3,"times":200}`)
	require.Equal(t, http.StatusCreated, status, "%s", raw)
	assert.Equal(t, a, h.pattern(n))
}

// TestFaultProbabilityOrder: match, then Skip, then the draw, then Times:
// skipped requests are never failed, and Times counts the requests drawn.
func TestFaultProbabilityOrder(t *testing.T) {
	h := newHarness(t, WithFaultSeed(7))
	_, err := h.srv.InjectFault(Fault{Path: probePath, Status: faultStatus, Probability: 0.5, Skip: 5, Times: 10})
	require.NoError(t, err)
	got := h.pattern(100)
	assert.Zero(t, count(got[:5]), "the first Skip pass")
	assert.Equal(t, 10, count(got), "Times hits, then no more")
	assert.Equal(t, []int{10}, h.srv.FaultHits())
	last := 0
	for i, b := range got {
		if b {
			last = i
		}
	}
	assert.Less(t, count(got[5:last+1]), last+1-5, "some requests after Skip were drawn to pass")

	// A request another fault's match does not see is not counted: a
	// second fault after a first that always fires never sees a request.
	h2 := newHarness(t)
	_, err = h2.srv.InjectFaults(Fault{Path: probePath, Status: faultStatus, Times: 3},
		Fault{Path: probePath, Status: 598, Probability: 1})
	require.NoError(t, err)
	h2.pattern(4)
	assert.Equal(t, []int{3, 1}, h2.srv.FaultHits())
}

// TestLatencyDraws: uniform draws stay in [min, max], normal ones are
// clipped to [min, max] and centre on the mean; the same seed draws the
// same delays.
func TestLatencyDraws(t *testing.T) {
	draws := func(l Latency, seed uint64) []time.Duration {
		rng := rand.New(rand.NewPCG(seed, 0))
		out := make([]time.Duration, 2000)
		for i := range out {
			out[i] = l.draw(rng)
		}
		return out
	}
	u := Latency{Distribution: LatencyUniform, Min: 10 * time.Millisecond, Max: 20 * time.Millisecond}
	got := draws(u, 1)
	for _, d := range got {
		require.True(t, d >= u.Min && d <= u.Max, "%v", d)
	}
	assert.Equal(t, got, draws(u, 1))
	assert.NotEqual(t, got, draws(u, 2))
	assert.Equal(t, []time.Duration{u.Min, u.Min}, draws(Latency{Distribution: LatencyUniform, Min: u.Min, Max: u.Min}, 1)[:2])

	nl := Latency{Distribution: LatencyNormal, Mean: 50 * time.Millisecond, StdDev: 40 * time.Millisecond, Max: 100 * time.Millisecond}
	var sum time.Duration
	atZero, atMax := 0, 0
	for _, d := range draws(nl, 3) {
		require.True(t, d >= 0 && d <= nl.Max, "%v", d)
		sum += d
		if d == 0 {
			atZero++
		}
		if d == nl.Max {
			atMax++
		}
	}
	assert.InDelta(t, float64(nl.Mean), float64(sum/2000), float64(5*time.Millisecond))
	assert.Positive(t, atZero, "clipped at 0")
	assert.Positive(t, atMax, "clipped at max")
}

// TestLatencyFaultDelaysThenServes: a latency-only fault with a
// distribution holds each request for a delay drawn from it, then serves
// it; with an error it fails after the delay.
func TestLatencyFaultDelaysThenServes(t *testing.T) {
	h := newHarness(t)
	l := &Latency{Distribution: LatencyUniform, Min: 30 * time.Millisecond, Max: 40 * time.Millisecond}
	_, err := h.srv.InjectFault(Fault{Path: probePath, Latency: l, Times: 2})
	require.NoError(t, err)
	start := time.Now()
	r := h.do(http.MethodGet, probePath, nil)
	assert.GreaterOrEqual(t, time.Since(start), 30*time.Millisecond)
	assert.Equal(t, http.StatusBadRequest, r.status, "served normally after the delay")
	got := h.srv.Faults()
	require.Len(t, got, 1)
	assert.Equal(t, 1, got[0].Hits)
	assert.Equal(t, l, got[0].Latency, "listed as given")
	assert.Zero(t, got[0].Delay, "the drawn delay is the request's, not the fault's")

	h.srv.ClearFaults()
	status, raw := h.control(http.MethodPost, "/_mock/faults", `{"path":"`+probePath+`","status":599,`+
		`"latency":{"distribution":"normal","mean":"20ms","stddev":"5ms","min":0.015,"max":"25ms"}}`)
	require.Equal(t, http.StatusCreated, status, "%s", raw)
	start = time.Now()
	r = h.do(http.MethodGet, probePath, nil)
	assert.GreaterOrEqual(t, time.Since(start), 15*time.Millisecond)
	assert.Equal(t, faultStatus, r.status)
	_, raw = h.control(http.MethodGet, "/_mock/faults", nil)
	assert.Contains(t, string(raw), `"latency":{"distribution":"normal","min":"15ms","max":"25ms","mean":"20ms","stddev":"5ms"}`)
	var listed []FaultStatus
	require.NoError(t, json.Unmarshal(raw, &listed), "%s", raw)
	assert.Equal(t, &Latency{Distribution: LatencyNormal, Min: 15 * time.Millisecond, Max: 25 * time.Millisecond,
		Mean: 20 * time.Millisecond, StdDev: 5 * time.Millisecond}, listed[0].Latency)
}

// TestFaultMatchesHeaders: a fault with headers fails only requests
// carrying all of them with exactly their values.
func TestFaultMatchesHeaders(t *testing.T) {
	h := newHarness(t)
	_, err := h.srv.InjectFault(Fault{Path: probePath, Status: faultStatus, Times: 100,
		Headers: map[string]string{"x-tenant": "a", "X-Suite": "billing"}})
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"X-Tenant": "a", "X-Suite": "billing"}, h.srv.Faults()[0].Headers, "names canonical")
	for _, c := range []struct {
		headers map[string]string
		fails   bool
	}{
		{nil, false},
		{map[string]string{"X-Tenant": "a"}, false},
		{map[string]string{"X-Tenant": "b", "X-Suite": "billing"}, false},
		{map[string]string{"X-Tenant": "A", "X-Suite": "billing"}, false},
		{map[string]string{"X-Tenant": "a", "X-Suite": "billing"}, true},
		{map[string]string{"x-tenant": "a", "x-suite": "billing", "X-Other": "1"}, true},
	} {
		var opts []reqOpt
		for k, v := range c.headers {
			opts = append(opts, withHeader(k, v))
		}
		assert.Equal(t, c.fails, h.pattern(1, opts...)[0], "%v", c.headers)
	}
	assert.Equal(t, []int{2}, h.srv.FaultHits(), "only matching requests count")

	status, raw := h.control(http.MethodPost, "/_mock/faults", `{"path":"`+probePath+`","status":599,"headers":{"X-Run":"7"}}`)
	require.Equal(t, http.StatusCreated, status, "%s", raw)
	assert.True(t, h.pattern(1, withHeader("X-Run", "7"))[0])
}

// signedDomains is GET /v3/auth/domains signed with ak/sk.
func (h *harness) signedDomains(ak, sk string) int {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodGet, h.srv.URL()+"/v3/auth/domains", nil)
	require.NoError(h.t, err)
	hwsign.Sign(req, nil, ak, sk, h.clock.Now())
	resp, err := h.hc.Do(req)
	require.NoError(h.t, err)
	raw := readAll(h.t, resp)
	if resp.StatusCode >= 500 && resp.StatusCode < faultStatus-1 {
		h.t.Logf("%s", raw)
	}
	return resp.StatusCode
}

// TestFaultMatchesAccessKey: a fault with an access key fails only Huawei
// requests signed with it; a TrueWatch fault may not name one.
func TestFaultMatchesAccessKey(t *testing.T) {
	h := newHarness(t)
	const ak, sk = "OTHERAKTRUEWATCHMOCK002", "other-secret-key-of-the-mock-0002"
	require.NoError(t, h.srv.AddHuaweiAccount(HuaweiAccount{ID: strings.Repeat("ab", 16), Keys: []AccessKey{{AK: ak, SK: sk}}}))
	require.Equal(t, http.StatusOK, h.signedDomains(ak, sk))

	_, err := h.srv.InjectFault(Fault{Operation: "iam.KeystoneListAuthDomains", AccessKey: ak, Status: faultStatus, Times: 5})
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, h.signedDomains(DemoAccessKey, DemoSecretKey), "another key passes")
	assert.Equal(t, faultStatus, h.signedDomains(ak, sk))
	assert.Equal(t, []int{1}, h.srv.FaultHits())

	status, raw := h.control(http.MethodPost, "/_mock/faults", `{"path":"/v3/auth/domains","accessKey":"`+DemoAccessKey+`","status":598}`)
	require.Equal(t, http.StatusCreated, status, "%s", raw)
	assert.Equal(t, 598, h.signedDomains(DemoAccessKey, DemoSecretKey))

	_, err = h.srv.InjectFault(Fault{Path: probePath, AccessKey: ak})
	var fe *FaultError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "/accessKey", fe.Pointer())
}

// TestFaultNames: a fault may be named, uniquely; it is removed by name
// as by ID, over HTTP too, and listed with its name and hits.
func TestFaultNames(t *testing.T) {
	h := newHarness(t)
	id, err := h.srv.InjectFault(Fault{Name: "slow-sub", Path: probePath, Status: faultStatus, Times: 9})
	require.NoError(t, err)
	_, err = h.srv.InjectFault(Fault{Name: "slow-sub", Path: probePath})
	require.ErrorIs(t, err, ErrFaultNameTaken)
	status, raw := h.control(http.MethodPost, "/_mock/faults", `{"name":"slow-sub","path":"`+probePath+`"}`)
	assert.Equal(t, http.StatusConflict, status, "%s", raw)
	assert.Contains(t, string(raw), `"pointer":"/name"`)
	for _, bad := range []string{"fault-3", "", "-x", "a b", "a/b", strings.Repeat("n", 65)} {
		if bad == "" {
			continue // no name is no name
		}
		_, err := h.srv.InjectFault(Fault{Name: bad, Path: probePath})
		assert.Error(t, err, "%q", bad)
	}
	require.Len(t, h.srv.Faults(), 1, "nothing refused was added")

	h.pattern(2)
	status, raw = h.control(http.MethodGet, "/_mock/faults", nil)
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, string(raw), `"name":"slow-sub"`)
	assert.Contains(t, string(raw), `"hits":2`)

	assert.True(t, h.srv.RemoveFault("slow-sub"))
	assert.False(t, h.srv.RemoveFault(id), "gone by either")
	_, err = h.srv.InjectFault(Fault{Name: "slow-sub", Path: probePath})
	require.NoError(t, err, "a removed fault's name is free")
	status, raw = h.control(http.MethodDelete, "/_mock/faults/slow-sub", nil)
	assert.Equal(t, http.StatusOK, status, "%s", raw)
	status, _ = h.control(http.MethodDelete, "/_mock/faults/slow-sub", nil)
	assert.Equal(t, http.StatusNotFound, status)
}

// TestFaultScripts: POST /_mock/faults takes an array, added atomically;
// one bad fault refuses the script, naming its index and field, and
// nothing is added.
func TestFaultScripts(t *testing.T) {
	h := newHarness(t)
	ok := `{"path":"` + probePath + `","status":599}`
	status, raw := h.control(http.MethodPost, "/_mock/faults", `[`+ok+`,{"operation":"billing.Register","name":"reg"}]`)
	require.Equal(t, http.StatusCreated, status, "%s", raw)
	var added struct{ IDs []string }
	require.NoError(t, json.Unmarshal(raw, &added))
	assert.Equal(t, []string{"fault-1", "fault-2"}, added.IDs)
	h.srv.ClearFaults()

	for body, want := range map[string]struct {
		status  int
		pointer string
	}{
		`[` + ok + `,` + ok + `,{"path":"` + probePath + `","probability":1.5}]`:                                  {400, "/2/probability"},
		`[` + ok + `,{"path":"` + probePath + `","probability":0}]`:                                               {400, "/1/probability"},
		`[` + ok + `,{"path":"` + probePath + `","probability":-0.1}]`:                                            {400, "/1/probability"},
		`[{"operation":"billing.Nothing"}]`:                                                                       {400, "/0/operation"},
		`[` + ok + `,{"operation":"billing.Register","path":"` + probePath + `"}]`:                                {400, "/1/path"},
		`[{"path":"` + probePath + `","delay":"1s","latency":{"distribution":"uniform","max":"2s"}}]`:             {400, "/0/latency"},
		`[{"path":"` + probePath + `","latency":{"distribution":"pareto","max":"2s"}}]`:                           {400, "/0/latency/distribution"},
		`[{"path":"` + probePath + `","latency":{"distribution":"normal","mean":"1s","max":"2s"}}]`:               {400, "/0/latency/stddev"},
		`[{"path":"` + probePath + `","latency":{"distribution":"normal","mean":"3s","stddev":"1s","max":"2s"}}]`: {400, "/0/latency/mean"},
		`[{"path":"` + probePath + `","latency":{"distribution":"uniform","min":"3s","max":"2s"}}]`:               {400, "/0/latency/max"},
		`[{"path":"` + probePath + `","latency":{"distribution":"uniform"}}]`:                                     {400, "/0/latency/max"},
		`[{"path":"` + probePath + `","latency":{"distribution":"uniform","max":"2s","mean":"1s"}}]`:              {400, "/0/latency"},
		`[{"path":"` + probePath + `","latency":{"distribution":"uniform","max":"2s","shape":1}}]`:                {400, "/0"},
		`[{"path":"` + probePath + `","seed":5}]`:                                                                 {400, "/0/seed"},
		`[{"path":"` + probePath + `","status":200}]`:                                                             {400, "/0/status"},
		`[{"path":"` + probePath + `","times":-1}]`:                                                               {400, "/0/times"},
		`[{"path":"` + probePath + `","headers":{}}]`:                                                             {400, "/0/headers"},
		`[{"path":"` + probePath + `","headers":{"Authorization":"Bearer x"}}]`:                                   {400, "/0/headers/Authorization"},
		`[{"path":"` + probePath + `","headers":{"X-Mock-Fault":"drop"}}]`:                                        {400, "/0/headers/X-Mock-Fault"},
		`[{"path":"` + probePath + `","headers":{"X A":"1"}}]`:                                                    {400, "/0/headers"},
		`[{"path":"` + probePath + `","headers":{"x-a":"1","X-A":"2"}}]`:                                          {400, "/0/headers/X-A"},
		`[` + ok + `,{"path":"` + probePath + `","statsu":500}]`:                                                  {400, "/1"},
		`[` + ok + `,{"path":"` + probePath + `","status":"500"}]`:                                                {400, "/1"},
		`[` + ok + `,7]`: {400, "/1"},
		`[{"name":"a","path":"` + probePath + `"},{"name":"a","path":"` + probePath + `"}]`: {409, "/1/name"},
		`[]`:     {400, ""},
		`[` + ok: {400, ""},
		`[] []`:  {400, ""},
		`[null]`: {400, "/0"},
	} {
		status, raw := h.control(http.MethodPost, "/_mock/faults", body)
		assert.Equal(t, want.status, status, "%s: %s", body, raw)
		var e struct{ Error, Pointer string }
		require.NoError(t, json.Unmarshal(raw, &e), "%s", raw)
		assert.Equal(t, want.pointer, e.Pointer, "%s: %s", body, raw)
		assert.NotEmpty(t, e.Error)
		assert.Empty(t, h.srv.Faults(), "%s: nothing added", body)
	}
	status, raw = h.control(http.MethodPost, "/_mock/faults", `[`+ok+`,{"path":"`+probePath+`","probability":1.5}]`)
	require.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, string(raw), "/1/probability: must be in (0,1]")

	// The Go API is as atomic, with the same pointers.
	_, err := h.srv.InjectFaults(Fault{Path: probePath}, Fault{Path: probePath, Probability: 2})
	var fe *FaultError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "/1/probability", fe.Pointer())
	assert.Equal(t, "mockserver: fault /1/probability: must be in (0,1]", err.Error())
	h.srv.ClearFaults()
	_, err = h.srv.InjectFault(Fault{Name: "taken", Path: probePath})
	require.NoError(t, err)
	_, err = h.srv.InjectFaults(Fault{Path: probePath}, Fault{Name: "taken", Path: probePath})
	require.ErrorIs(t, err, ErrFaultNameTaken)
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, 1, fe.Index)
	assert.Len(t, h.srv.Faults(), 1, "nothing of the script added")
	_, err = h.srv.InjectFault(Fault{Path: probePath, Probability: 2})
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "/probability", fe.Pointer(), "a single fault has no index")
}

// TestFaultHeader: X-Mock-Fault fails the one request carrying it, in
// the shape of its half; it is never stored; a malformed one is 400 and
// changes nothing; the control plane refuses it.
func TestFaultHeader(t *testing.T) {
	h := newHarness(t)
	r := h.do(http.MethodGet, probePath, nil, withHeader(FaultHeader, "status=503; retry-after=2"))
	requireErr(t, r, http.StatusServiceUnavailable, apierror.CodeInjectedFault)
	assert.Equal(t, "2", r.header.Get("Retry-After"))
	r = h.do(http.MethodGet, probePath, nil, withHeader(FaultHeader, "STATUS = 429 ;code=ft.Mine"))
	requireErr(t, r, http.StatusTooManyRequests, "ft.Mine")
	assert.Equal(t, http.StatusBadRequest, h.do(http.MethodGet, probePath, nil).status, "the next request is untouched")
	assert.Empty(t, h.srv.Faults(), "never stored")

	// A table fault does not see a request the header fails.
	_, err := h.srv.InjectFault(Fault{Path: probePath, Status: faultStatus})
	require.NoError(t, err)
	requireErr(t, h.do(http.MethodGet, probePath, nil, withHeader(FaultHeader, "status=502")), http.StatusBadGateway, apierror.CodeInjectedFault)
	assert.Equal(t, []int{0}, h.srv.FaultHits())
	h.srv.ClearFaults()

	// lost: the work is done, the answer replaced.
	send := bcPath(routes.SendCode)
	body := `{"email":"ada@example.com","purpose":"register"}`
	requireErr(t, h.do(http.MethodPost, send, body, withHeader(FaultHeader, "lost")), http.StatusServiceUnavailable, apierror.CodeInjectedFault)
	assert.Len(t, h.srv.Outbox(), 1, "the code was sent")

	// delay alone: held, then served.
	start := time.Now()
	assert.Equal(t, http.StatusBadRequest, h.do(http.MethodGet, probePath, nil, withHeader(FaultHeader, "delay=30ms")).status)
	assert.GreaterOrEqual(t, time.Since(start), 30*time.Millisecond)

	// drop: no answer.
	req, err := http.NewRequest(http.MethodGet, h.srv.URL()+probePath, nil)
	require.NoError(t, err)
	req.Header.Set(FaultHeader, "drop")
	_, err = h.hc.Do(req)
	require.Error(t, err)

	// Malformed: 400 in the half's shape, nothing done.
	for _, v := range []string{"", "status", "status=", "status=200", "status=abc", "drop; status=503", "lost=1",
		"delay=2h", "delay=-1s", "retry-after=0", "retry-after=99999", "code=a b", "status=503;status=502", "teapot",
		"status=503;", ";", strings.Repeat("x", 300), "lost;status=99"} {
		r := h.do(http.MethodPost, send, body, withHeader(FaultHeader, v))
		requireErr(t, r, http.StatusBadRequest, apierror.CodeValidation)
		assert.Contains(t, r.env.Message, FaultHeader, "%q", v)
	}
	assert.Len(t, h.srv.Outbox(), 1, "no malformed header reached the handler")
	req, err = http.NewRequest(http.MethodGet, h.srv.URL()+probePath, nil)
	require.NoError(t, err)
	req.Header.Add(FaultHeader, "status=503")
	req.Header.Add(FaultHeader, "status=502")
	resp, err := h.hc.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "given twice")

	// The Huawei half answers in its shape: Keystone's and BSS's.
	for path, want := range map[string]string{"/v3/auth/domains": `"title":"Bad Request"`,
		"/v2/accounts/customer-accounts/balances": `"error_code":"` + apierror.CodeHuaweiInvalidParameter + `"`} {
		req, err := http.NewRequest(http.MethodGet, h.srv.URL()+path, nil)
		require.NoError(t, err)
		hwsign.Sign(req, nil, DemoAccessKey, DemoSecretKey, h.clock.Now())
		req.Header.Set(FaultHeader, "status=9")
		resp, err := h.hc.Do(req)
		require.NoError(t, err)
		raw := readAll(t, resp)
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "%s", raw)
		assert.Contains(t, string(raw), want)
		req.Header.Set(FaultHeader, "status=504")
		resp, err = h.hc.Do(req)
		require.NoError(t, err)
		raw = readAll(t, resp)
		assert.Equal(t, http.StatusGatewayTimeout, resp.StatusCode, "%s", raw)
	}

	// The control plane refuses it, and does nothing.
	status, raw := h.control(http.MethodPost, "/_mock/faults", `{"path":"`+probePath+`"}`)
	require.Equal(t, http.StatusCreated, status, "%s", raw)
	for _, m := range []string{http.MethodGet, http.MethodDelete} {
		r := h.do(m, "/_mock/faults", nil, withHeader(FaultHeader, "status=503"))
		assert.Equal(t, http.StatusBadRequest, r.status, "%s", r.raw)
		assert.Contains(t, string(r.raw), "never to the control plane")
	}
	assert.Len(t, h.srv.Faults(), 1, "DELETE refused")
}

func readAll(t testing.TB, resp *http.Response) []byte {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return b
}

// TestFaultStatusJSONRoundTrip: what GET /_mock/faults lists reads back
// into the same FaultStatus, the new fields included.
func TestFaultStatusJSONRoundTrip(t *testing.T) {
	in := FaultStatus{ID: "fault-9", Hits: 3, Fault: Fault{Name: "n", Path: probePath, Status: 503, Probability: 0.25, Seed: 9,
		Headers: map[string]string{"X-A": "1"}, AccessKey: "AK",
		Latency: &Latency{Distribution: LatencyUniform, Min: time.Millisecond, Max: time.Second}}}
	b, err := json.Marshal(in)
	require.NoError(t, err)
	var out FaultStatus
	require.NoError(t, json.Unmarshal(b, &out), "%s", b)
	assert.Equal(t, in, out)
	var f Fault
	assert.Error(t, json.Unmarshal([]byte(`{"latency":{"distribution":"uniform","max":"1s","x":1}}`), &f))
	var fe *FaultError
	require.ErrorAs(t, json.Unmarshal([]byte(`{"probability":0}`), &f), &fe)
	assert.Equal(t, "probability", fe.Field)
}

// TestDrawnDelaysOutlastWriteTimeout: a delay drawn from a Latency, or
// asked for by X-Mock-Fault, extends the deadlines of the request it
// holds as a fixed Delay does.
func TestDrawnDelaysOutlastWriteTimeout(t *testing.T) {
	srv := Start(t, WithTimeouts(Timeouts{Write: 100 * time.Millisecond, Read: 100 * time.Millisecond}))
	path := bcPath(routes.SendCode)
	_, err := srv.InjectFault(Fault{Path: path, AfterHandler: true, Status: http.StatusBadGateway,
		Latency: &Latency{Distribution: LatencyUniform, Min: 300 * time.Millisecond, Max: 350 * time.Millisecond}})
	require.NoError(t, err)
	post := func(header string) int {
		email := "ada" + strconv.Itoa(len(srv.Outbox())) + "@example.com"
		req, err := http.NewRequest(http.MethodPost, srv.URL()+path, strings.NewReader(`{"email":"`+email+`","purpose":"register"}`))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		if header != "" {
			req.Header.Set(FaultHeader, header)
		}
		resp, err := srv.HTTPClient().Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	start := time.Now()
	assert.Equal(t, http.StatusBadGateway, post(""))
	assert.GreaterOrEqual(t, time.Since(start), 300*time.Millisecond)
	assert.Len(t, srv.Outbox(), 1, "the handler read the body after the delay")
	start = time.Now()
	assert.Equal(t, http.StatusGatewayTimeout, post("delay=300ms; lost; status=504"))
	assert.GreaterOrEqual(t, time.Since(start), 300*time.Millisecond)
	assert.Len(t, srv.Outbox(), 2)
}

// TestCloseEndsDrawnDelays: Close ends a delay drawn from a Latency, and
// one X-Mock-Fault asked for, at once, answering 503.
func TestCloseEndsDrawnDelays(t *testing.T) {
	srv, err := New(WithTimeouts(Timeouts{ShutdownGrace: 2 * time.Second, Read: time.Hour, Write: time.Hour}))
	require.NoError(t, err)
	t.Cleanup(srv.Close)
	_, err = srv.InjectFault(Fault{Path: "/v3/auth/domains", Latency: &Latency{Distribution: LatencyNormal,
		Mean: time.Hour, StdDev: time.Minute, Max: 2 * time.Hour}})
	require.NoError(t, err)
	statuses := make(chan int, 2)
	for _, header := range []string{"", "delay=1m"} {
		go func() {
			req, _ := http.NewRequest(http.MethodGet, srv.URL()+"/v3/auth/domains", nil)
			if header != "" {
				req.Header.Set(FaultHeader, header)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				statuses <- 0
				return
			}
			resp.Body.Close()
			statuses <- resp.StatusCode
		}()
	}
	require.Eventually(t, func() bool { return srv.FaultHits()[0] == 1 }, 5*time.Second, 5*time.Millisecond)
	time.Sleep(50 * time.Millisecond) // the header's request is held too
	start := time.Now()
	srv.Close()
	assert.Less(t, time.Since(start), time.Second, "Close did not wait for the delays")
	for range 2 {
		select {
		case s := <-statuses:
			assert.Equal(t, http.StatusServiceUnavailable, s)
		case <-time.After(5 * time.Second):
			t.Fatal("a delayed request was never answered")
		}
	}
}
