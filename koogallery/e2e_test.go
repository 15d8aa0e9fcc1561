package koogallery

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/truewatch-labs/marketplace-go/apierror"
)

// A vendor service on a real listener, called over HTTP by a Caller and a
// KitCaller as KooGallery calls it: the production interface and the kit
// under one production address, the lifecycle from purchase to release.
func TestEndToEndOverHTTP(t *testing.T) {
	vendor := &recVendor{}
	kitVendor := &recKitVendor{}
	h, err := NewHandler(testKey, vendor)
	if err != nil {
		t.Fatal(err)
	}
	kh, err := NewKitHandler(testKitKey, kitVendor, WithClientSecretKey(testRSAKey(t)))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/saasproduce", h)
	mux.Handle("/saasproduce"+KitPathPrefix, kh)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	signer, _ := NewSigner(testKey)
	caller, err := NewCaller(srv.URL+"/saasproduce", signer)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	newReq := &NewInstanceRequest{BusinessID: "b-1", OrderID: "CS1", OrderLineID: "CS1-000001"}
	r, err := caller.Send(ctx, newReq)
	if err != nil || r.Err() != nil || r.InstanceID != "b-1" || r.HTTPStatus != 200 {
		t.Fatalf("newInstance: %+v %v", r, err)
	}
	// The buyer views the order: newInstance again, another businessId.
	newReq.BusinessID = "b-2"
	if r, err := caller.Send(ctx, newReq); err != nil || r.InstanceID != "b-1" {
		t.Errorf("repeat: %+v %v", r, err)
	}
	steps := []Activity{
		&QueryInstanceRequest{InstanceIDs: []string{"b-1"}},
		&RefreshInstanceRequest{Scene: SceneRenewal, OrderID: "CS2", OrderLineID: "CS2-000001", InstanceID: "b-1",
			ExpireTime: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)},
		&UpdateInstanceStatusRequest{InstanceID: "b-1", Status: StatusFreeze},
		&UpdateInstanceStatusRequest{InstanceID: "b-1", Status: StatusUnfreeze},
		&UpgradeInstanceRequest{InstanceID: "b-1", OrderID: "CS3"},
		&ChangeInstanceCheckRequest{InstanceID: "b-1", ProductID: "OFFI2"},
		&OrderNotifyRequest{OrderID: "CS3", OrderLineID: "CS3-000001"},
		&ExpireInstanceRequest{InstanceID: "b-1"},
		&ReleaseInstanceRequest{InstanceID: "b-1", OrderID: "CS4"},
	}
	for _, a := range steps {
		r, err := caller.Send(ctx, a)
		if err != nil || r.Err() != nil {
			t.Errorf("%s: %+v %v", a.ActivityName(), r, err)
		}
	}
	calls := vendor.Calls()
	if len(calls) != 1+len(steps) {
		t.Fatalf("%d vendor calls", len(calls))
	}
	if rf := calls[2].(*RefreshInstanceRequest); !rf.ExpireTime.Equal(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)) || rf.OrderID != "CS2" {
		t.Errorf("refresh %+v", rf)
	}
	vendor.err = ErrInstanceNotFound
	r, err = caller.Send(ctx, &ReleaseInstanceRequest{InstanceID: "gone"})
	if err != nil || !errors.Is(r.Err(), ErrInstanceNotFound) {
		t.Errorf("refusal: %+v %v", r, err)
	}

	kitSigner, _ := NewKitSigner(testKitKey)
	kc, _ := NewKitCaller(srv.URL+"/saasproduce", kitSigner, WithClientSecretPublicKey(&testRSAKey(t).PublicKey, PaddingPKCS1v15))
	if r, err := kc.Send(ctx, &ApplicationSync{InstanceID: "b-1", AppID: "a", TenantID: "t", ClientID: "c", ClientSecret: "s", Flag: FlagAdd}); err != nil || r.Err() != nil {
		t.Errorf("applicationSync: %+v %v", r, err)
	}
	if got := kitVendor.events[0].(*ApplicationSync).ClientSecret.Reveal(); got != "s" {
		t.Errorf("client secret %q", got)
	}
	// The production key does not sign kit calls.
	wrong, _ := NewKitSigner(testKey)
	kc2, _ := NewKitCaller(srv.URL+"/saasproduce", wrong)
	if r, _ := kc2.Send(ctx, &TenantSync{InstanceID: "b-1", TenantID: "t", Flag: FlagAdd}); r.ResultCode != ResultAuthFailed {
		t.Errorf("kit with the production key: %s", r.ResultCode)
	}
}

func TestCallerErrors(t *testing.T) {
	signer, _ := NewSigner(testKey)
	for _, u := range []string{"", "ftp://x", "https://u:p@x/", "/relative", "http://"} {
		if _, err := NewCaller(u, signer); err == nil {
			t.Errorf("%q accepted", u)
		}
	}
	if _, err := NewCaller("https://x/", nil); err == nil {
		t.Error("nil signer")
	}
	if _, err := NewCaller("https://x/", signer, WithClientSecretPublicKey(&testRSAKey(t).PublicKey, PaddingPKCS1v15)); err == nil {
		t.Error("kit-only option accepted")
	}
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	c, _ := NewCaller(closed.URL, signer)
	_, err := c.Send(context.Background(), &OrderNotifyRequest{OrderID: "o"})
	var ae *apierror.Error
	if !errors.As(err, &ae) || !errors.Is(err, apierror.ErrTransport) || ae.Operation != ActivityOrderNotify {
		t.Errorf("%v", err)
	}
	html := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("<html>")) }))
	defer html.Close()
	c, _ = NewCaller(html.URL, signer)
	if _, err := c.Send(context.Background(), &OrderNotifyRequest{OrderID: "o"}); !errors.As(err, &ae) || ae.Message != "malformed answer" {
		t.Errorf("%v", err)
	}
	if _, err := c.Send(context.Background(), (*OrderNotifyRequest)(nil)); err == nil {
		t.Error("nil activity sent")
	}
}
