package mockserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/internal/hwsign"
)

// The Huawei half. Every route verifies the SDK-HMAC-SHA256 signature as
// Huawei's API gateway does, then answers from the one Huawei state
// (huawei_state.go). huaweiRoutes lists what it serves; docs/huawei-operations.md
// lists it and every other operation of the SDK's IAM, STS and BSS clients,
// which answer HTTP 501 (huawei_unimplemented.go).
//
// BSS and BSS international share the paths; an account answers on both,
// with amounts in its site's currency (HuaweiAccount.Site: USD on the
// international site, CNY on the Chinese mainland) and names in the
// language X-Language asks for (zh_CN by default, as BSS documents) where
// the API takes one, else in its site's language.

// hwTimeFormat is the UTC layout BSS uses for times.
const hwTimeFormat = "2006-01-02T15:04:05Z"

// hwCaller is an authenticated Huawei request: the account and key that
// signed it, and the exact body bytes.
type hwCaller struct {
	account HuaweiAccount
	key     AccessKey
	body    []byte
}

type hwHandler func(w http.ResponseWriter, r *http.Request, c *hwCaller)

// hwRoute is an operation the Huawei half serves.
type hwRoute struct {
	service, op, method, path string
	h                         hwHandler
}

// huaweiRoutes are the Huawei operations the mock serves, each named as
// the SDK names it.
func (s *Server) huaweiRoutes() []hwRoute {
	return []hwRoute{
		{"IAM", "KeystoneListAuthDomains", "GET", "/v3/auth/domains", s.iamListAuthDomains},
		{"IAM", "KeystoneListAuthProjects", "GET", "/v3/auth/projects", s.iamListAuthProjects},
		{"IAM", "KeystoneListProjects", "GET", "/v3/projects", s.iamListProjects},
		{"IAM", "KeystoneShowProject", "GET", "/v3/projects/{project_id}", s.iamShowProject},
		{"IAM", "KeystoneListRegions", "GET", "/v3/regions", s.iamListRegions},
		{"IAM", "KeystoneShowRegion", "GET", "/v3/regions/{region_id}", s.iamShowRegion},
		{"IAM", "KeystoneListUsers", "GET", "/v3/users", s.iamListUsers},
		{"IAM", "KeystoneShowUser", "GET", "/v3/users/{user_id}", s.iamShowUser},
		{"IAM", "ListPermanentAccessKeys", "GET", "/v3.0/OS-CREDENTIAL/credentials", s.iamListCredentials},
		{"IAM", "ShowPermanentAccessKey", "GET", "/v3.0/OS-CREDENTIAL/credentials/{access_key}", s.iamShowCredential},
		{"STS", "GetCallerIdentity", "GET", "/v5/caller-identity", s.stsCallerIdentity},
		{"BSS", "ListPayPerUseCustomerResources", "POST", "/v2/orders/suscriptions/resources/query", s.bssQueryResources},
		{"BSS", "ListCustomerOrders", "GET", "/v2/orders/customer-orders", s.bssListOrders},
		{"BSS", "ShowCustomerOrderDetails", "GET", "/v2/orders/customer-orders/details/{order_id}", s.bssOrderDetails},
		{"BSS", "ListServiceTypes", "GET", "/v2/products/service-types", s.bssServiceTypes},
		{"BSS", "ListResourceTypes", "GET", "/v2/products/resource-types", s.bssResourceTypes},
		{"BSS", "ShowCustomerAccountBalances", "GET", "/v2/accounts/customer-accounts/balances", s.bssBalances},
	}
}

func (s *Server) registerHuawei(mux registrar) {
	for _, rt := range s.huaweiRoutes() {
		s.handleOp(mux, strings.ToLower(rt.service)+"."+rt.op, rt.method, rt.path, s.hwAuth(rt.h))
	}
}

// hwAuth reads the body, refuses a query the signature cannot pin down
// (unparseable, or a parameter repeated), verifies the signature with
// hwsign.Verify (which also refuses unsigned X-Sdk-Content-Sha256,
// X-Domain-Id, X-Project-Id, X-Language and X-Security-Token), checks the
// X-Domain-Id header against the key's account, and hands the caller to h.
// Authentication failures are HTTP 401 APIGW.0301, exactly as the gateway
// answers them. Host is not signed by the SDK and changes nothing here:
// routes are chosen by path and links name the public URL.
func (s *Server) hwAuth(h hwHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/v3") {
			w.Header().Set("X-IAM-Trace-Id", requestIDFrom(r))
		}
		body, err := readRequestBody(r)
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				writeHuaweiError(w, r, http.StatusRequestEntityTooLarge, hwCodeBodyTooLarge,
					fmt.Sprintf("request body exceeds %d bytes", mbe.Limit))
				return
			}
			writeHuaweiError(w, r, http.StatusBadRequest, apierror.CodeHuaweiInvalidParameter, "cannot read request body")
			return
		}
		// Go drops query pairs it cannot parse; the gateway would not see
		// the same request, so refuse it before authentication. The
		// signature sorts repeated values, so their order is not signed:
		// no route takes a repeated parameter, so none is read first-wins.
		// Names are checked in sorted order, so the error is the same on
		// every run.
		q, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil {
			hwBadRequest(w, r, "malformed query string")
			return
		}
		if repeatedParam(q) {
			for _, k := range slices.Sorted(maps.Keys(q)) {
				if len(q[k]) > 1 {
					hwBadRequest(w, r, fmt.Sprintf("query parameter %q given more than once", k))
					return
				}
			}
		}
		lookup := func(ak string) (hwsign.Key, bool) {
			s.mu.Lock()
			defer s.mu.Unlock()
			ref, ok := s.st.huawei.keys[ak]
			if !ok {
				return hwsign.Key{}, false
			}
			return hwsign.Key{SK: ref.key.SK, SecurityToken: ref.key.SecurityToken}, true
		}
		ak, err := hwsign.Verify(r, body, lookup, s.cfg.sigClock.Now())
		if err != nil {
			writeHuaweiError(w, r, http.StatusUnauthorized, apierror.CodeHuaweiUnauthorized,
				"Incorrect IAM authentication information: "+strings.TrimPrefix(err.Error(), "signature verification failed: "))
			return
		}
		s.mu.Lock()
		ref, ok := s.st.huawei.keys[ak]
		var c *hwCaller
		if ok {
			c = &hwCaller{account: *ref.account, key: ref.key, body: body}
		}
		s.mu.Unlock()
		if c == nil { // the key was removed between verification and now
			writeHuaweiError(w, r, http.StatusUnauthorized, apierror.CodeHuaweiUnauthorized,
				"Incorrect IAM authentication information: ak "+ak+" not exist")
			return
		}
		if d := r.Header.Get("X-Domain-Id"); d != "" && d != c.account.ID {
			hwFail(w, r, hwDenied, "the X-Domain-Id header does not match the account of the access key")
			return
		}
		h(w, r, c)
	}
}

// repeatedParam reports whether a parameter of q is given more than once,
// without sorting q's names (the error names the first in sorted order).
func repeatedParam(q url.Values) bool {
	for _, vs := range q {
		if len(vs) > 1 {
			return true
		}
	}
	return false
}

// hwCheckQuery refuses query parameters outside allowed (hwAuth has
// refused repeated ones), naming the first unknown one in sorted order.
//
// A Lenient server ignores unknown parameters (lenientFor).
func hwCheckQuery(r *http.Request, q url.Values, allowed ...string) error {
	if lenientFor(r) {
		return nil
	}
	for _, k := range slices.Sorted(maps.Keys(q)) {
		if !slices.Contains(allowed, k) {
			return fmt.Errorf("unknown query parameter %q", k)
		}
	}
	return nil
}

// queryInt reads an optional integer query parameter within [lo, hi].
func hwQueryInt(q url.Values, name string, def, lo, hi int) (int, error) {
	v := q.Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%s must be an integer from %d to %d", name, lo, hi)
	}
	return n, nil
}

// queryTime reads an optional UTC time query parameter.
func hwQueryTime(q url.Values, name string) (time.Time, error) {
	v := q.Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(hwTimeFormat, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s must be UTC yyyy-MM-ddTHH:mm:ssZ", name)
	}
	return t, nil
}

// hwDecodeStrict decodes c's body into v as strictly as the TrueWatch
// half decodes its own: exactly one JSON object (not null, an array or
// anything after it), UTF-8, no unknown fields, every key spelled exactly
// as documented (not "Limit" for "limit") and given once. A field given as
// null counts as absent, as BSS documents ("If a parameter is set to null
// ... it cannot be used as a filter criterion"). An empty body decodes as
// {}. A body is read only when it is signed (not UNSIGNED-PAYLOAD, which
// the gateway allows for non-JSON types) and under a JSON Content-Type, so
// every body the mock reads is bound by the signature.
func hwDecodeStrict(r *http.Request, c *hwCaller, v any) error {
	body := c.body
	if r.Header.Get(hwsign.HeaderContentSha256) == hwsign.UnsignedPayload {
		return errors.New("this API reads its body, so the body must be signed: UNSIGNED-PAYLOAD is refused")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return errors.New("the Content-Type of a JSON body must be application/json")
	}
	if !utf8.Valid(body) {
		return errors.New("invalid JSON body: not UTF-8")
	}
	lenient := lenientFor(r)
	dec := json.NewDecoder(bytes.NewReader(body))
	if !lenient {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("invalid JSON body: %v", strings.TrimPrefix(err.Error(), "json: "))
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("invalid JSON body: it must hold exactly one JSON object, with nothing after it")
	}
	if msg, _ := scanJSONFor(body, reflect.TypeOf(v), false, false, lenient); msg != "" {
		return errors.New("invalid JSON body: " + msg)
	}
	return nil
}

// page returns the window [offset, offset+limit) of n items.
func hwPage(n, offset, limit int) (int, int) {
	lo := min(offset, n)
	return lo, min(lo+limit, n)
}

func fmtHWTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(hwTimeFormat)
}
