package mockserver

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/internal/routes"
)

func TestIdempotentReplay(t *testing.T) {
	h := newHarness(t)
	req := registerReq("ada", "ada@example.com", h.sendCode("ada@example.com", billing.PurposeRegister))
	first := h.do(http.MethodPost, bcPath(routes.Register), req, withKey("key-1"))
	h.requireOK(first, nil)
	assert.Empty(t, first.header.Get(IdempotentReplayedHeader))

	// A retry after a lost response carries a fresh code (and the password
	// typed again): same fingerprint, the stored answer, no work.
	h.clock.Advance(codeResendInterval)
	req.EmailCode = h.sendCode("ada@example.com", billing.PurposeRegister)
	req.Password = "An0ther-Passw0rd"
	h.requireUnchanged(func() {
		again := h.do(http.MethodPost, bcPath(routes.Register), req, withKey("key-1"))
		h.requireOK(again, nil)
		assert.Equal(t, "true", again.header.Get(IdempotentReplayedHeader))
		assert.Equal(t, first.raw, again.raw)
		assert.NotEqual(t, first.header.Get("X-Request-Id"), again.header.Get("X-Request-Id"))
	})
	// The replay did not use the fresh code.
	assert.NotNil(t, h.srv.liveCode("ada@example.com", billing.PurposeRegister))
}

func TestIdempotencyCanonicalBody(t *testing.T) {
	h := newHarness(t)
	body := `{"email":"ada@example.com","purpose":"register"}`
	h.requireOK(h.do(http.MethodPost, bcPath(routes.SendCode), body, withKey("k")), nil)
	reordered := "{ \"purpose\" : \"register\",\n \"email\":\"ada@example.com\" }"
	r := h.do(http.MethodPost, bcPath(routes.SendCode), reordered, withKey("k"))
	h.requireOK(r, nil)
	assert.Equal(t, "true", r.header.Get(IdempotentReplayedHeader), "key order and white space do not matter")
	assert.Len(t, h.srv.Outbox(), 1)
}

func TestIdempotencyKeyReused(t *testing.T) {
	h := newHarness(t)
	code := h.sendCode("ada@example.com", billing.PurposeRegister)
	h.requireOK(h.do(http.MethodPost, bcPath(routes.Register), registerReq("ada", "ada@example.com", code), withKey("k")), nil)
	other := registerReq("ada", "ada@example.com", code)
	other.WorkspaceName = "another"
	h.requireUnchanged(func() {
		requireErr(t, h.do(http.MethodPost, bcPath(routes.Register), other, withKey("k")),
			http.StatusConflict, apierror.CodeIdempotencyKeyReused)
	})
	// Keys are scoped by path: the same key elsewhere is another key.
	h.requireOK(h.do(http.MethodPost, bcPath(routes.SendCode), billing.SendCodeRequest{Email: "bob@example.com",
		Purpose: billing.PurposeRegister}, withKey("k")), nil)
}

func TestIdempotencyOnlyStoresSuccess(t *testing.T) {
	h := newHarness(t)
	code := h.sendCode("ada@example.com", billing.PurposeRegister)
	req := registerReq("ada", "ada@example.com", wrongCode(code))
	requireErr(t, h.do(http.MethodPost, bcPath(routes.Register), req, withKey("k")), http.StatusBadRequest, apierror.CodeInvalidCode)
	req.EmailCode = code
	r := h.do(http.MethodPost, bcPath(routes.Register), req, withKey("k"))
	h.requireOK(r, nil)
	assert.Empty(t, r.header.Get(IdempotentReplayedHeader), "the failed attempt was not stored")
	assert.Len(t, h.srv.Accounts(), 1)
}

func TestIdempotencyInFlight(t *testing.T) {
	h := newHarness(t)
	body := billing.SendCodeRequest{Email: "ada@example.com", Purpose: billing.PurposeRegister}
	path := bcPath(routes.SendCode)
	// Claim the key as a concurrent request with the same body would.
	rec, stored, e := h.srv.idemBegin(idemSlot(path, "", "k"), fingerprint(http.MethodPost, path, mustJSON(t, body)))
	require.Nil(t, e)
	require.Nil(t, stored)
	h.requireUnchanged(func() {
		requireErr(t, h.do(http.MethodPost, path, body, withKey("k")), http.StatusConflict, apierror.CodeIdempotencyKeyInFlight)
	})
	// The first request fails: the key is free again.
	h.srv.idemFinish(idemSlot(path, "", "k"), rec, &recordingWriter{ResponseWriter: httptest.NewRecorder(), status: http.StatusServiceUnavailable})
	h.requireOK(h.do(http.MethodPost, path, body, withKey("k")), nil)
}

func TestIdempotencyKeyExpires(t *testing.T) {
	h := newHarness(t)
	path := bcPath(routes.SendCode)
	h.requireOK(h.do(http.MethodPost, path, billing.SendCodeRequest{Email: "ada@example.com", Purpose: billing.PurposeRegister}, withKey("k")), nil)
	h.clock.Advance(24*time.Hour - time.Second)
	requireErr(t, h.do(http.MethodPost, path, billing.SendCodeRequest{Email: "bob@example.com", Purpose: billing.PurposeRegister}, withKey("k")),
		http.StatusConflict, apierror.CodeIdempotencyKeyReused)
	h.clock.Advance(time.Second)
	r := h.do(http.MethodPost, path, billing.SendCodeRequest{Email: "bob@example.com", Purpose: billing.PurposeRegister}, withKey("k"))
	h.requireOK(r, nil)
	assert.Empty(t, r.header.Get(IdempotentReplayedHeader))
}

// TestIdempotencyLostResponse: the server does the work, the answer is
// lost (a fault after the handler), and the retry with the same key gets
// the stored answer instead of a second registration.
func TestIdempotencyLostResponse(t *testing.T) {
	h := newHarness(t)
	path := bcPath(routes.Register)
	_, err := h.srv.InjectFault(Fault{Path: path, AfterHandler: true, Status: http.StatusBadGateway})
	require.NoError(t, err)
	req := registerReq("ada", "ada@example.com", h.sendCode("ada@example.com", billing.PurposeRegister))
	requireErr(t, h.do(http.MethodPost, path, req, withKey("k")), http.StatusBadGateway, apierror.CodeInjectedFault)
	require.Len(t, h.srv.Accounts(), 1, "the work was done")

	r := h.do(http.MethodPost, path, req, withKey("k"))
	h.requireOK(r, nil)
	assert.Equal(t, "true", r.header.Get(IdempotentReplayedHeader))
	var res billing.RegisterResult
	r.content(t, &res)
	assert.Equal(t, h.srv.Accounts()[0], res.Account)
	assert.Len(t, h.srv.Accounts(), 1)
	assert.Equal(t, []int{1}, h.srv.FaultHits())
}

func TestIdempotencyKeyFormat(t *testing.T) {
	h := newHarness(t)
	body := billing.SendCodeRequest{Email: "ada@example.com", Purpose: billing.PurposeRegister}
	for _, key := range []string{strings.Repeat("k", 256), "tab\tkey", "ключ", "with space"} {
		h.requireUnchanged(func() {
			r := h.do(http.MethodPost, bcPath(routes.SendCode), body, withKey(key))
			requireErr(t, r, http.StatusBadRequest, apierror.CodeValidation)
			assert.Equal(t, []string{IdempotencyKeyHeader}, r.problems(t))
		})
	}
	h.requireOK(h.do(http.MethodPost, bcPath(routes.SendCode), body, withKey(strings.Repeat("k", 255))), nil)
}

func TestFingerprint(t *testing.T) {
	base := fingerprint("POST", "/p", []byte(`{"a":1,"emailCode":"123456","password":"x","passwordConfirm":"x"}`))
	assert.Equal(t, base, fingerprint("POST", "/p", []byte(`{"a":1}`)))
	assert.Equal(t, base, fingerprint("POST", "/p", []byte(` { "a" : 1 , "emailCode":"654321" } `)))
	assert.NotEqual(t, base, fingerprint("POST", "/p", []byte(`{"a":2}`)))
	assert.NotEqual(t, base, fingerprint("POST", "/q", []byte(`{"a":1}`)))
	assert.NotEqual(t, base, fingerprint("PUT", "/p", []byte(`{"a":1}`)))
	assert.NotEqual(t, base, fingerprint("POST", "/p", []byte(`{"a":1.0}`)), "numbers keep their spelling")
	assert.NotEqual(t, fingerprint("POST", "/p", []byte(`not json`)), fingerprint("POST", "/p", []byte(`not json!`)))
}

// storeIdem stores a 200 answer under slot, as a finished request does.
func (s *Server) storeIdem(t *testing.T, slot string) {
	t.Helper()
	rec, _, e := s.idemBegin(slot, fingerprint(http.MethodPost, "/p", nil))
	require.Nil(t, e)
	rw := &recordingWriter{ResponseWriter: httptest.NewRecorder()}
	rw.WriteHeader(http.StatusOK)
	s.idemFinish(slot, rec, rw)
}

func (s *Server) idemCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.st.tw.idem)
}

func TestIdempotencyExpiresRecordsInOrder(t *testing.T) {
	h := newHarness(t)
	for i := range 300 {
		h.srv.storeIdem(t, "old-"+strconv.Itoa(i))
	}
	h.clock.Advance(12 * time.Hour)
	for i := range 100 {
		h.srv.storeIdem(t, "newer-"+strconv.Itoa(i))
	}
	require.Equal(t, 400, h.srv.idemCount())
	h.clock.Advance(12 * time.Hour)
	path := bcPath(routes.SendCode)
	h.requireOK(h.do(http.MethodPost, path, billing.SendCodeRequest{Email: "ada@example.com", Purpose: billing.PurposeRegister}, withKey("new")), nil)
	assert.Equal(t, 101, h.srv.idemCount(), "the records older than 24 hours are dropped, the newer kept")
	h.clock.Advance(12 * time.Hour)
	h.srv.storeIdem(t, "last")
	assert.Equal(t, 2, h.srv.idemCount())
	h.srv.mu.Lock()
	assert.Equal(t, 2, h.srv.st.tw.idemQ.len(), "the queue gives back what it dropped")
	h.srv.mu.Unlock()
}

func TestIdempotencyRecordLimit(t *testing.T) {
	h := newHarness(t, WithMaxIdempotencyRecords(3))
	for i := range 5 {
		h.srv.storeIdem(t, "k"+strconv.Itoa(i))
	}
	assert.Equal(t, 3, h.srv.idemCount())
	h.srv.mu.Lock()
	_, oldest := h.srv.st.tw.idem["k0"]
	_, newest := h.srv.st.tw.idem["k4"]
	h.srv.mu.Unlock()
	assert.False(t, oldest, "the oldest go first")
	assert.True(t, newest)
	_, err := New(WithoutListener(), WithMaxIdempotencyRecords(0))
	assert.Error(t, err)
}

// TestIdempotencyNeedsTheToken: on token routes the key does not stand in
// for the token. A replay without a valid token is refused, and another
// Billing Center account's request with the same key and body is its own
// request, not a replay of the first account's answer.
func TestIdempotencyNeedsTheToken(t *testing.T) {
	sc := newListScenario(t)
	h := sc.h
	path := bcPath(routes.BindWorkspace)
	body := billing.BindWorkspaceRequest{WorkspaceID: sc.free}
	h.requireOK(h.do(http.MethodPost, path, body, withKey("k"), withToken(sc.token.Token)), nil)

	h.requireUnchanged(func() {
		requireErr(t, h.do(http.MethodPost, path, body, withKey("k")), http.StatusUnauthorized, apierror.CodeUnauthorized)
		requireErr(t, h.do(http.MethodPost, path, body, withKey("k"), withHeader("Authorization", "Bearer nope")),
			http.StatusUnauthorized, apierror.CodeUnauthorized)
	})

	h.addSubscription("00000000000000000000000000000bbb", "tw-inst-bob")
	bob, err := h.srv.SeedBillingAccount(BillingAccountSeed{Username: "bob", Email: "bob@example.com"})
	require.NoError(t, err)
	bobTok, err := h.srv.SeedBinding(bob.ID, "00000000000000000000000000000bbb", "tw-inst-bob")
	require.NoError(t, err)
	h.requireUnchanged(func() {
		r := h.do(http.MethodPost, path, body, withKey("k"), withToken(bobTok))
		requireErr(t, r, http.StatusNotFound, apierror.CodeWorkspaceNotFound)
		assert.Empty(t, r.header.Get(IdempotentReplayedHeader))
	})

	// The first account's retry still replays.
	r := h.do(http.MethodPost, path, body, withKey("k"), withToken(sc.token.Token))
	h.requireOK(r, nil)
	assert.Equal(t, "true", r.header.Get(IdempotentReplayedHeader))
}
