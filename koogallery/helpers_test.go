package koogallery

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/truewatch-labs/marketplace-go/secret"
)

const (
	testKey    secret.String = "demo-koogallery-access-key"
	testKitKey secret.String = "demo-koogallery-kit-key"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// recVendor records every call and answers from its fields.
type recVendor struct {
	UnimplementedVendor
	mu       sync.Mutex
	calls    []Activity
	err      error
	result   *NewInstanceResult
	infos    []InstanceInfo
	block    chan struct{} // when set, NewInstance waits for it
	panicMsg string
}

func (v *recVendor) record(a Activity) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.calls = append(v.calls, a)
	if v.panicMsg != "" {
		panic(v.panicMsg)
	}
	return v.err
}

func (v *recVendor) Calls() []Activity {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]Activity(nil), v.calls...)
}

func (v *recVendor) NewInstance(_ context.Context, r *NewInstanceRequest) (*NewInstanceResult, error) {
	if v.block != nil {
		<-v.block
	}
	if err := v.record(r); err != nil {
		return nil, err
	}
	if v.result != nil {
		return v.result, nil
	}
	return &NewInstanceResult{InstanceID: r.BusinessID, AppInfo: AppInfo{FrontEndURL: "https://app.example.com/i/" + r.BusinessID,
		UserName: "admin", Password: "s3cret-Pass"}}, nil
}

func (v *recVendor) QueryInstances(_ context.Context, r *QueryInstanceRequest) ([]InstanceInfo, error) {
	return v.infos, v.record(r)
}

func (v *recVendor) RefreshInstance(_ context.Context, r *RefreshInstanceRequest) error {
	return v.record(r)
}

func (v *recVendor) UpdateInstanceStatus(_ context.Context, r *UpdateInstanceStatusRequest) error {
	return v.record(r)
}

func (v *recVendor) ReleaseInstance(_ context.Context, r *ReleaseInstanceRequest) error {
	return v.record(r)
}

func (v *recVendor) UpgradeInstance(_ context.Context, r *UpgradeInstanceRequest) error {
	return v.record(r)
}

func (v *recVendor) ChangeInstanceCheck(_ context.Context, r *ChangeInstanceCheckRequest) error {
	return v.record(r)
}

func (v *recVendor) OrderNotify(_ context.Context, r *OrderNotifyRequest) error { return v.record(r) }

func (v *recVendor) ExpireInstance(_ context.Context, r *ExpireInstanceRequest) error {
	return v.record(r)
}

// fixture is a Handler with a recording vendor, a test clock and a signer.
type fixture struct {
	t      *testing.T
	clock  *clock
	vendor *recVendor
	h      *Handler
	signer *Signer
}

func setup(t *testing.T, opts ...ServerOption) *fixture {
	t.Helper()
	f := &fixture{t: t, clock: newClock(), vendor: &recVendor{}}
	h, err := NewHandler(testKey, f.vendor, append([]ServerOption{WithClock(f.clock.Now)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	f.h = h
	f.signer, err = NewSigner(testKey, WithSignerClock(f.clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// post sends body with the given raw query to the handler.
func (f *fixture) post(body, rawQuery string) (*httptest.ResponseRecorder, *Response) {
	f.t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/saasproduce?"+rawQuery, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json;charset=utf8")
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	resp, err := decodeResponse(rec.Code, rec.Body.Bytes())
	if err != nil {
		f.t.Fatalf("answer is not JSON: %v: %s", err, rec.Body.String())
	}
	return rec, resp
}

// signed sends body signed now with a fresh nonce.
func (f *fixture) signed(body string) *Response {
	f.t.Helper()
	sig, err := f.signer.Sign([]byte(body))
	if err != nil {
		f.t.Fatal(err)
	}
	rec, resp := f.post(body, sig.Query().Encode())
	if rec.Code != http.StatusOK {
		f.t.Fatalf("HTTP %d", rec.Code)
	}
	return resp
}
