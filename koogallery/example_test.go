package koogallery_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"time"

	"github.com/truewatch-labs/marketplace-go/koogallery"
)

// myVendor provisions instances; everything it does not implement is
// answered by UnimplementedVendor.
type myVendor struct {
	koogallery.UnimplementedVendor
}

func (myVendor) NewInstance(_ context.Context, r *koogallery.NewInstanceRequest) (*koogallery.NewInstanceResult, error) {
	// KooGallery recommends the first businessId as the instance ID.
	return &koogallery.NewInstanceResult{InstanceID: r.BusinessID,
		AppInfo: koogallery.AppInfo{FrontEndURL: "https://app.example.com/activate?instance=" + r.BusinessID}}, nil
}

func (myVendor) ReleaseInstance(_ context.Context, r *koogallery.ReleaseInstanceRequest) error {
	if r.InstanceID != "87b94795" {
		return koogallery.ErrInstanceNotFound
	}
	return nil
}

// A vendor's production interface, and a test of it: the Caller signs each
// activity as KooGallery does and calls the Handler in-process.
func Example() {
	h, err := koogallery.NewHandler("seller-access-key", myVendor{})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/saasproduce", h) // the production address, served by the vendor

	signer, _ := koogallery.NewSigner("seller-access-key")
	kooGallery, _ := koogallery.NewCaller("https://vendor.example.com/saasproduce", signer, koogallery.WithCallerHandler(h))
	ctx := context.Background()

	order := &koogallery.NewInstanceRequest{BusinessID: "87b94795", OrderID: "CS2211181819B4LVS", OrderLineID: "CS2211181819B4LVS-000001"}
	r, _ := kooGallery.Send(ctx, order)
	fmt.Println(r.ResultCode, r.InstanceID, r.AppInfo.FrontEndURL)

	order.BusinessID = "a-later-business-id" // the buyer views the order: the same instance
	r, _ = kooGallery.Send(ctx, order)
	fmt.Println(r.ResultCode, r.InstanceID)

	r, _ = kooGallery.Send(ctx, &koogallery.ReleaseInstanceRequest{InstanceID: "unknown"})
	fmt.Println(r.ResultCode, r.ResultMsg)

	r, _ = kooGallery.Send(ctx, &koogallery.UpdateInstanceStatusRequest{InstanceID: "87b94795", Status: koogallery.StatusFreeze})
	fmt.Println(r.ResultCode, r.ResultMsg)
	// Output:
	// 000000 87b94795 https://app.example.com/activate?instance=87b94795
	// 000000 87b94795
	// 000003 instance not found
	// 000005 updateInstanceStatus not implemented
}

// The canonical form KooGallery's signature covers: top-level keys sorted,
// nested objects as received, no HTML escaping, numbers as Jackson writes
// them.
func ExampleCanonical() {
	out, _ := koogallery.Canonical([]byte(`{"testFlag":"1", "activity":"newInstance", "orderInfo":[{"z":1.50,"a":"<b>&"}], "memo":null}`))
	fmt.Println(string(out))
	// Output: {"activity":"newInstance","orderInfo":[{"z":1.5,"a":"<b>&"}],"testFlag":"1"}
}

// Signing a body as KooGallery does, at a fixed time and nonce.
func ExampleSigner_SignAt() {
	s, _ := koogallery.NewSigner("demo-koogallery-access-key")
	sig, _ := s.SignAt([]byte(`{"activity":"newInstance","businessId":"87b94795-0603-4e24-8ae5-69420d60e3c8","orderId":"CS2211181819B4LVS","orderLineId":"CS2211181819B4LVS-000001","testFlag":"1"}`),
		time.UnixMilli(1680508066618), "50D83FDE7F1B4C9A8E2D6B0A3C5F71DA")
	fmt.Println(sig.Query().Encode())
	// Output: nonce=50D83FDE7F1B4C9A8E2D6B0A3C5F71DA&signature=5029b16471dc0d1ef333377e68fc00d8fe8cc67de0a061cfc0ef03f013c15e21&timestamp=1680508066618
}

type myKitVendor struct {
	koogallery.UnimplementedKitVendor
	tenants map[string]string // tenant ID → login domain
}

func (v *myKitVendor) TenantSync(_ context.Context, ev *koogallery.TenantSync) error {
	if ev.Flag == koogallery.FlagDelete {
		delete(v.tenants, ev.TenantID)
		return nil
	}
	v.tenants[ev.TenantID] = ev.DomainName
	return nil
}

// The joint-operation kit: KooGallery syncs the buyer's enterprise; the
// vendor later builds that tenant's login client from it.
func ExampleKitHandler() {
	v := &myKitVendor{tenants: map[string]string{}}
	kh, _ := koogallery.NewKitHandler("seller-kit-key", v)
	signer, _ := koogallery.NewKitSigner("seller-kit-key")
	kooGallery, _ := koogallery.NewKitCaller("https://vendor.example.com/saasproduce", signer, koogallery.WithCallerHandler(kh))

	r, _ := kooGallery.Send(context.Background(), &koogallery.TenantSync{InstanceID: "87b94795", TenantID: "t-1",
		TenantCode: "analytical", Name: "Analytical Engines", DomainName: "analytical.example.com", Flag: koogallery.FlagAdd})
	fmt.Println(r.ResultCode, v.tenants["t-1"])

	login, _ := koogallery.NewLoginClient(koogallery.LoginConfig{Domain: v.tenants["t-1"], ClientID: "client-id",
		ClientSecret: "from applicationSync", RedirectURL: "https://vendor.example.com/callback"})
	logout, _ := login.LogoutURL("https://vendor.example.com/")
	fmt.Println(logout)
	// Output:
	// 000000 analytical.example.com
	// https://analytical.example.com/api/v1/logout?redirect_url=https%3A%2F%2Fvendor.example.com%2F
}
