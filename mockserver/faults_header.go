package mockserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/truewatch-labs/marketplace-go/apierror"
)

// FaultHeader fails the one request that carries it, without adding a
// fault: the per-request twin of InjectFault, for clients that can set a
// header but not reach the control plane in between. Its value is a list
// of items separated by ';' (white space around items and '=' ignored,
// keys case-insensitive, each at most once, 256 bytes in all):
//
//	status=503        the HTTP status, 400 to 599 (default 503)
//	retry-after=2     Retry-After, whole seconds or a Go duration ("1.5s"), up to an hour
//	code=CBC.0999     the error code of the body (default ft.InjectedFault / CBC.0999)
//	delay=200ms       hold the request first, a Go duration up to MaxFaultHeaderDelay;
//	                  alone, the request is then served normally
//	lost              run the real handler, then answer the error (a lost response)
//	drop              close the connection without an answer (with lost: after the handler)
//
// for example "status=503; retry-after=2", "drop", "lost", "delay=200ms".
// A malformed value is answered 400 in the shape of the half addressed
// (the TrueWatch envelope, Huawei's error body) and nothing else happens;
// on the control plane the header is refused with 400. A request that
// carries it is failed by it alone: the faults in place do not see it
// (nor count it).
//
// Security: the header changes only the answer to the request that
// carries it, and stores nothing, so its sender can harm only its own
// call: everything it does, the sender could do itself (wait, close the
// connection, throw the answer away); "lost" runs the real handler with
// the request's own credentials, as sending it and ignoring the answer
// would. Delays are bounded by MaxFaultHeaderDelay, so it cannot hold a
// connection longer than a slow client could. A web page cannot set it on
// a cross-origin request without a CORS preflight, which the mock does
// not answer.
const FaultHeader = "X-Mock-Fault"

// MaxFaultHeaderDelay is the longest delay FaultHeader may ask for.
const MaxFaultHeaderDelay = time.Minute

// maxFaultHeaderRetryAfter bounds FaultHeader's retry-after.
const maxFaultHeaderRetryAfter = time.Hour

// maxFaultHeaderLen bounds FaultHeader's value.
const maxFaultHeaderLen = 256

// errFaultHeaderControl refuses FaultHeader on the control plane.
var errFaultHeaderControl = errors.New("mockserver: " + FaultHeader + " applies to API requests, never to the control plane")

// controlRefusesFaultHeader answers a control request carrying
// FaultHeader with 400 and reports whether it did.
func controlRefusesFaultHeader(w http.ResponseWriter, r *http.Request) bool {
	if _, ok := r.Header[FaultHeader]; !ok {
		return false
	}
	controlError(w, http.StatusBadRequest, errFaultHeaderControl)
	return true
}

// parseFaultHeader reads FaultHeader's values (one line, as the grammar
// says) into the fault it asks for, defaults filled in.
func parseFaultHeader(values []string) (Fault, error) {
	var f Fault
	if len(values) != 1 {
		return f, fmt.Errorf("%s is given %d times; give it once", FaultHeader, len(values))
	}
	v := values[0]
	if len(v) > maxFaultHeaderLen {
		return f, fmt.Errorf("%s is longer than %d bytes", FaultHeader, maxFaultHeaderLen)
	}
	seen := map[string]bool{}
	for item := range strings.SplitSeq(v, ";") {
		key, val, hasVal := strings.Cut(item, "=")
		key, val = strings.ToLower(strings.TrimSpace(key)), strings.TrimSpace(val)
		if key == "" {
			return f, fmt.Errorf("%s has an empty item in %q", FaultHeader, v)
		}
		if seen[key] {
			return f, fmt.Errorf("%s gives %s twice", FaultHeader, key)
		}
		seen[key] = true
		flag := key == "drop" || key == "lost"
		switch {
		case flag && hasVal:
			return f, fmt.Errorf("%s: %s takes no value", FaultHeader, key)
		case !flag && (!hasVal || val == ""):
			return f, fmt.Errorf("%s: %s needs a value (%s=...)", FaultHeader, key, key)
		}
		var err error
		switch key {
		case "drop":
			f.DropConnection = true
		case "lost":
			f.AfterHandler = true
		case "status":
			f.Status, err = strconv.Atoi(val)
			if err != nil || f.Status < 400 || f.Status > 599 {
				err = fmt.Errorf("%s: status %q is not an error status (400 to 599)", FaultHeader, val)
			}
		case "retry-after":
			f.RetryAfter, err = headerDuration(val)
			if err != nil || f.RetryAfter <= 0 {
				err = fmt.Errorf("%s: retry-after %q is not a positive number of seconds or duration", FaultHeader, val)
			}
		case "delay":
			f.Delay, err = time.ParseDuration(val)
			if err != nil || f.Delay <= 0 || f.Delay > MaxFaultHeaderDelay {
				err = fmt.Errorf("%s: delay %q is not a duration in (0, %s]", FaultHeader, val, MaxFaultHeaderDelay)
			}
		case "code":
			if !faultNamePattern.MatchString(val) {
				err = fmt.Errorf("%s: code %q is not 1 to 64 letters, digits, '.', '_' or '-'", FaultHeader, val)
			}
			f.ErrorCode = val
		default:
			err = fmt.Errorf("%s: unknown item %q (status, retry-after, code, delay, lost, drop)", FaultHeader, key)
		}
		if err != nil {
			return Fault{}, err
		}
	}
	if f.DropConnection && (f.Status != 0 || f.RetryAfter != 0 || f.ErrorCode != "") {
		return Fault{}, fmt.Errorf("%s: drop sends no answer, so it takes no status, retry-after or code", FaultHeader)
	}
	if f.Status == 0 && !f.latencyOnly() {
		f.Status = http.StatusServiceUnavailable
	}
	return f, nil
}

// headerDuration is whole seconds ("2") or a Go duration ("1.5s").
func headerDuration(v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if n, aerr := strconv.Atoi(v); aerr == nil {
		d, err = time.Duration(n)*time.Second, nil
		if n > int(maxFaultHeaderRetryAfter/time.Second) {
			err = errors.New("too long")
		}
	}
	if err == nil && d > maxFaultHeaderRetryAfter {
		err = errors.New("too long")
	}
	return d, err
}

// serveFault fails r if FaultHeader or a fault in place says so, and
// reports whether r is answered; false lets r go on to mux (no fault, or
// a latency-only one whose delay is over). With no header and no fault it
// costs a map lookup and the table's lock.
func (s *Server) serveFault(w http.ResponseWriter, r *http.Request, mux *http.ServeMux) bool {
	if v, ok := r.Header[FaultHeader]; ok {
		f, err := parseFaultHeader(v)
		if err != nil {
			if familyOf(r.URL.Path) == familyHuawei {
				hwBadRequest(w, r, err.Error())
			} else {
				writeError(w, r, http.StatusBadRequest, apierror.CodeValidation, apierror.CodeHuaweiInvalidParameter, err.Error())
			}
			return true
		}
		return s.applyFault(w, r, f, mux)
	}
	if f, ok := s.faults.match(r, func() string { _, p := mux.Handler(r); return p }); ok {
		return s.applyFault(w, r, f, mux)
	}
	return false
}

// handleAddFaults is POST /_mock/faults: one fault (answers {"id"}) or a
// script, a JSON array of faults added atomically (answers {"ids"}). A
// refusal names the fault and field ({"error", "pointer"}): 409 for a
// name taken, 400 otherwise, and adds nothing.
func (s *Server) handleAddFaults(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		controlBodyError(w, err)
		return
	}
	t := bytes.TrimSpace(body)
	if len(t) == 0 || t[0] != '[' {
		r.Body = io.NopCloser(bytes.NewReader(body))
		var f Fault
		if !decodeFault(w, r, &f) {
			return
		}
		ids, err := s.injectFaults([]Fault{f}, -1)
		if err != nil {
			faultControlError(w, err)
			return
		}
		writeJSON(w, http.StatusCreated, map[string]string{"id": ids[0], "status": "added"})
		return
	}
	var raw []json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&raw); err != nil {
		controlError(w, http.StatusBadRequest, fmt.Errorf("mockserver: a fault script is a JSON array of faults: %w", err))
		return
	}
	if _, tok := dec.Token(); tok != io.EOF {
		controlError(w, http.StatusBadRequest, errors.New("mockserver: the body must hold exactly one JSON array"))
		return
	}
	if len(raw) == 0 {
		controlError(w, http.StatusBadRequest, errors.New("mockserver: a fault script holds at least one fault"))
		return
	}
	faults := make([]Fault, len(raw))
	for i, elem := range raw {
		if err := decodeFaultJSON(elem, &faults[i]); err != nil {
			var fe *FaultError
			if !errors.As(err, &fe) {
				fe = &FaultError{Reason: err.Error()}
			}
			fe.Index = i
			faultControlError(w, fe)
			return
		}
	}
	ids, err := s.injectFaults(faults, 0)
	if err != nil {
		faultControlError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"ids": ids, "status": "added"})
}

// decodeFault is decodeControl for one fault, its refusal a fault error.
func decodeFault(w http.ResponseWriter, r *http.Request, f *Fault) bool {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		controlBodyError(w, err)
		return false
	}
	if t := bytes.TrimSpace(body); len(t) == 0 || t[0] != '{' {
		controlError(w, http.StatusBadRequest, errors.New("the body must be a JSON object (a fault) or array (a script)"))
		return false
	}
	if err := decodeFaultJSON(body, f); err != nil {
		var fe *FaultError
		if errors.As(err, &fe) {
			faultControlError(w, fe)
		} else {
			controlError(w, http.StatusBadRequest, err)
		}
		return false
	}
	return true
}

// decodeFaultJSON decodes exactly one fault object, keys checked as every
// control body's are.
func decodeFaultJSON(b []byte, f *Fault) error {
	if t := bytes.TrimSpace(b); len(t) == 0 || t[0] != '{' {
		return errors.New("a fault is a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(f); err != nil {
		return err
	}
	if _, tok := dec.Token(); tok != io.EOF {
		return errors.New("the body must hold exactly one JSON object")
	}
	if msg := keyProblem(b, reflect.TypeOf(f), false); msg != "" {
		return errors.New(msg)
	}
	return nil
}

// faultControlError answers a refused fault: 409 for a name taken, 400
// otherwise, with the pointer of what is wrong.
func faultControlError(w http.ResponseWriter, err error) {
	var fe *FaultError
	if !errors.As(err, &fe) {
		controlError(w, http.StatusBadRequest, err)
		return
	}
	status := http.StatusBadRequest
	if errors.Is(err, ErrFaultNameTaken) {
		status = http.StatusConflict
	}
	writeJSON(w, status, map[string]string{"error": fe.Error(), "pointer": fe.Pointer()})
}
