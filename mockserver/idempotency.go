package mockserver

import (
	"bytes"
	"crypto/sha256"
	"io"
	"net/http"
	"time"

	"github.com/truewatch-labs/marketplace-go/apierror"
)

// Idempotency as the contract describes it: a POST with an Idempotency-Key
// header is done at most once. Keys are scoped by path and by the proven
// caller: on token routes the token's Billing Center account, on routes
// keyed by a Huawei account the account the request's ownership proof
// proved (the token and the proof are checked first: a key never stands in
// for them). So one caller's key never replays, blocks or collides with
// another's, and a replay, which may hand out a credential (a token), only
// ever answers a request that proves what the first one proved. Repeating
// the key with the same request (method, path and canonical JSON body
// without the one-time secret fields) replays the first 2xx answer with
// Idempotent-Replayed: true and does no work; repeating it with another
// request is 409 ft.IdempotencyKeyReused; repeating it while the first is
// still running is 409 ft.IdempotencyKeyInFlight. Failed answers are not
// stored, so a failed request can be retried with the same key.
//
// Stored answers expire 24 hours (mock time) after they were stored, from
// a queue in the order they were stored, so that dropping them costs only
// what is dropped; at most maxIdemRecords are kept, the oldest going first
// when there are more.

const (
	// IdempotencyKeyHeader is the request header that makes a POST
	// idempotent.
	IdempotencyKeyHeader = "Idempotency-Key"
	// IdempotentReplayedHeader is set to "true" on replayed answers.
	IdempotentReplayedHeader = "Idempotent-Replayed"

	idemKeyMaxLen = 255
	// defaultMaxIdemRecords bounds the stored answers (WithMaxIdempotencyRecords).
	defaultMaxIdemRecords = 100_000
)

type idemRecord struct {
	fingerprint [sha256.Size]byte
	inFlight    bool
	expiresAt   time.Time
	status      int
	contentType string
	body        []byte
}

// idempotent runs h's POST, honouring Idempotency-Key within the scope of
// principal (who the request proved to be; "" on sendCode, the one
// anonymous POST). It reads the body once (enforcing the size limit) and
// scans it once (scanJSON), for h's key checks and, with a key, for the
// fingerprint, and hands both to h.
func (s *Server) idempotent(w http.ResponseWriter, r *http.Request, principal string, h twHandler) {
	body, e := readBody(r)
	if e != nil {
		writeTWErr(w, r, e)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	if e := checkPost(r, body); e != nil {
		writeTWErr(w, r, e)
		return
	}
	keys := r.Header.Values(IdempotencyKeyHeader)
	switch {
	case len(keys) == 0:
		problem, _ := scanJSONFor(body, h.reqType, true, false, lenientFor(r))
		h.post(w, r, body, problem)
		return
	case len(keys) > 1:
		writeTWErr(w, r, problem(IdempotencyKeyHeader, "must be given at most once"))
		return
	case !validIdemKey(keys[0]):
		// Present but empty is no key: the client meant to send one.
		writeTWErr(w, r, problem(IdempotencyKeyHeader, "must be 1 to %d printable ASCII characters without spaces", idemKeyMaxLen))
		return
	}
	key := keys[0]
	slot := idemSlot(r.URL.Path, principal, key)
	problem, canon := scanJSONFor(body, h.reqType, true, true, lenientFor(r))
	rec, stored, e := s.idemBegin(slot, fingerprintOf(r.Method, r.URL.Path, body, canon))
	if e != nil {
		writeTWErr(w, r, e)
		return
	}
	if stored != nil {
		w.Header().Set("Content-Type", stored.contentType)
		w.Header().Set(IdempotentReplayedHeader, "true")
		w.WriteHeader(stored.status)
		_, _ = w.Write(stored.body)
		return
	}
	rw := &recordingWriter{ResponseWriter: w}
	defer s.idemFinish(slot, rec, rw)
	h.post(rw, r, body, problem)
}

// idemSlot is where a key's record lives: keys are scoped by path and by
// who sends them.
func idemSlot(path, principal, key string) string { return path + "\n" + principal + "\n" + key }

func validIdemKey(k string) bool {
	if k == "" || len(k) > idemKeyMaxLen {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] <= ' ' || k[i] > '~' {
			return false
		}
	}
	return true
}

// idemBegin claims slot for a new request (rec), or returns the stored
// answer to replay, or the error for a reused or in-flight key.
func (s *Server) idemBegin(slot string, fp [sha256.Size]byte) (rec, stored *idemRecord, e *twError) {
	now := s.cfg.clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	idem := s.st.tw.idem
	if old := idem[slot]; old != nil && now.Before(old.expiresAt) {
		switch {
		case old.fingerprint != fp:
			return nil, nil, twErr(http.StatusConflict, apierror.CodeIdempotencyKeyReused,
				"this Idempotency-Key was already used with a different request")
		case old.inFlight:
			return nil, nil, twErr(http.StatusConflict, apierror.CodeIdempotencyKeyInFlight,
				"a request with this Idempotency-Key is still being processed; retry later")
		}
		cp := *old
		return nil, &cp, nil
	}
	s.expireIdemLocked(now)
	rec = &idemRecord{fingerprint: fp, inFlight: true, expiresAt: now.Add(s.cfg.idemTTL)}
	idem[slot] = rec
	return rec, nil, nil
}

// idemFinish stores a 2xx answer for replay, or frees the key so that a
// failed request can be retried with it.
func (s *Server) idemFinish(slot string, rec *idemRecord, rw *recordingWriter) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st.tw.idem[slot] != rec {
		return // state was reset meanwhile
	}
	if rw.status < 200 || rw.status > 299 {
		delete(s.st.tw.idem, slot)
		return
	}
	rec.inFlight = false
	rec.status = rw.status
	rec.contentType = rw.Header().Get("Content-Type")
	rec.body = rw.body.Bytes()
	rec.expiresAt = s.cfg.clock.Now().Add(s.cfg.idemTTL)
	s.st.tw.idemQ.push(rec.expiresAt, slot)
	s.expireIdemLocked(s.cfg.clock.Now())
}

// expireIdemLocked drops the stored answers that have expired, then the
// oldest while there are more than the limit. Records still in flight are
// not in the queue (they are queued when their answer is stored).
func (s *Server) expireIdemLocked(now time.Time) {
	idem := s.st.tw.idem
	drop := func(slot string) {
		if rec := idem[slot]; rec != nil && !rec.inFlight && !now.Before(rec.expiresAt) {
			delete(idem, slot)
		}
	}
	s.st.tw.idemQ.expire(now, drop)
	for len(idem) > s.cfg.maxIdem && s.st.tw.idemQ.len() > 0 {
		if slot := s.st.tw.idemQ.pop(); idem[slot] != nil && !idem[slot].inFlight {
			delete(idem, slot)
		}
	}
}

// fingerprint identifies a request for idempotency: method, path, and the
// body as canonical JSON (sorted keys) without the one-time secret fields.
// A body that is not one strict JSON object (with trailing data, a key
// given twice, a null) is taken byte for byte, so that it never stands for
// the request it resembles and replays that request's answer instead of
// being refused.
func fingerprint(method, path string, body []byte) [sha256.Size]byte {
	_, canon := scanJSON(body, nil, true, true)
	return fingerprintOf(method, path, body, canon)
}

// fingerprintOf is fingerprint with body's canonical form (scanJSON) at
// hand: nil when it has none.
func fingerprintOf(method, path string, body, canon []byte) [sha256.Size]byte {
	if canon == nil {
		canon = body
	}
	h := sha256.New()
	h.Write([]byte(method + "\n" + path + "\n"))
	h.Write(canon)
	var out [sha256.Size]byte
	h.Sum(out[:0])
	return out
}

// recordingWriter passes an answer through and keeps a copy of it.
type recordingWriter struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (w *recordingWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *recordingWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.body.Write(b)
	return w.ResponseWriter.Write(b)
}
