// Command vendor is a minimal SaaS vendor on Huawei Cloud KooGallery, built
// on the koogallery package: it serves the production interface KooGallery
// calls when a buyer purchases, renews, is frozen or released, keeps its
// instances in memory, and prints each call it accepts.
//
// Run it, then point the mock's KooGallery at it and buy:
//
//	go run ./examples/vendor -addr 127.0.0.1:9000
//	go run ./cmd/truewatch-mock -vendor-url http://127.0.0.1:9000/produce
//	curl -H 'X-Mock-Control: 1' --json '{"huaweiAccountId":"0a1b2c3d4e5f40718293a4b5c6d7e8f9"}' \
//	    http://127.0.0.1:8080/_mock/marketplace/orders
//	curl -H 'X-Mock-Control: 1' -X POST http://127.0.0.1:8080/_mock/purchases/<instanceId>/freeze
//
// Both sides use the demo key unless VENDOR_KOOGALLERY_KEY (here) and
// -koogallery-key (the mock) name another; a real vendor takes its key
// from KooGallery's seller console. The handler checks every call's
// signature, timestamp and nonce and answers KooGallery's result codes;
// main_test.go runs this vendor against the mock's KooGallery.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"sync"
	"syscall"
	"time"

	"github.com/truewatch-labs/marketplace-go/koogallery"
	"github.com/truewatch-labs/marketplace-go/mockserver"
	"github.com/truewatch-labs/marketplace-go/secret"
)

// Instance is what the vendor keeps of a purchase.
type Instance struct {
	ID          string
	OrderID     string
	CustomerID  string // the buyer's Huawei account, when KooGallery says
	SKU         string
	ExpireTime  time.Time
	Frozen      bool
	Released    bool
	FrontEndURL string
}

// Vendor implements koogallery.Vendor over an in-memory map. The Handler
// in front of it verifies every call and makes newInstance idempotent per
// order (a repeat never reaches NewInstance).
type Vendor struct {
	koogallery.UnimplementedVendor
	BaseURL string // where buyers use the product

	mu        sync.Mutex
	instances map[string]*Instance
	out       io.Writer
}

// NewVendor returns a vendor that prints what it does to out.
func NewVendor(baseURL string, out io.Writer) *Vendor {
	return &Vendor{BaseURL: baseURL, instances: map[string]*Instance{}, out: out}
}

// NewInstance creates the instance: its ID is the first businessId, as
// KooGallery recommends.
func (v *Vendor) NewInstance(_ context.Context, r *koogallery.NewInstanceRequest) (*koogallery.NewInstanceResult, error) {
	in := &Instance{ID: r.BusinessID, OrderID: r.OrderID, FrontEndURL: v.BaseURL + "/start?instance=" + r.BusinessID}
	if r.Buyer != nil {
		in.CustomerID = r.Buyer.CustomerID
	}
	if len(r.Orders) > 0 {
		in.ExpireTime = r.Orders[0].ExpireTime
		if len(r.Orders[0].Products) > 0 {
			in.SKU = r.Orders[0].Products[0].SKUCode
		}
	}
	v.mu.Lock()
	v.instances[in.ID] = in
	v.mu.Unlock()
	fmt.Fprintf(v.out, "newInstance: order %s -> instance %s (buyer %s, SKU %s, until %s)\n",
		r.OrderID, in.ID, in.CustomerID, in.SKU, in.ExpireTime.Format(time.DateOnly))
	return &koogallery.NewInstanceResult{InstanceID: in.ID, AppInfo: koogallery.AppInfo{FrontEndURL: in.FrontEndURL}}, nil
}

// change applies f to a known instance that is not released.
func (v *Vendor) change(id, what string, f func(*Instance)) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	in := v.instances[id]
	switch {
	case in == nil:
		return koogallery.ErrInstanceNotFound
	case in.Released:
		return koogallery.NewError(koogallery.ResultInvalidParameter, "instance "+id+" is released")
	}
	f(in)
	fmt.Fprintf(v.out, "%s: instance %s\n", what, id)
	return nil
}

// RefreshInstance takes the new term (renewals come with a new order).
func (v *Vendor) RefreshInstance(_ context.Context, r *koogallery.RefreshInstanceRequest) error {
	return v.change(r.InstanceID, "refreshInstance "+string(r.Scene)+" until "+r.ExpireTime.Format(time.DateOnly)+" (order "+r.OrderID+")",
		func(in *Instance) { in.ExpireTime = r.ExpireTime })
}

// UpdateInstanceStatus freezes or unfreezes.
func (v *Vendor) UpdateInstanceStatus(_ context.Context, r *koogallery.UpdateInstanceStatusRequest) error {
	return v.change(r.InstanceID, "updateInstanceStatus "+string(r.Status),
		func(in *Instance) { in.Frozen = r.Status == koogallery.StatusFreeze })
}

// ReleaseInstance releases; repeats succeed.
func (v *Vendor) ReleaseInstance(_ context.Context, r *koogallery.ReleaseInstanceRequest) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	in := v.instances[r.InstanceID]
	if in == nil {
		return koogallery.ErrInstanceNotFound
	}
	in.Released = true
	fmt.Fprintf(v.out, "releaseInstance: instance %s\n", r.InstanceID)
	return nil
}

// UpgradeInstance takes the new SKU.
func (v *Vendor) UpgradeInstance(_ context.Context, r *koogallery.UpgradeInstanceRequest) error {
	return v.change(r.InstanceID, "upgradeInstance to "+r.SKUCode, func(in *Instance) {
		if r.SKUCode != "" {
			in.SKU = r.SKUCode
		}
	})
}

// QueryInstances answers the known instances.
func (v *Vendor) QueryInstances(_ context.Context, r *koogallery.QueryInstanceRequest) ([]koogallery.InstanceInfo, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	var out []koogallery.InstanceInfo
	for _, id := range r.InstanceIDs {
		if in := v.instances[id]; in != nil {
			out = append(out, koogallery.InstanceInfo{InstanceID: id, AppInfo: koogallery.AppInfo{FrontEndURL: in.FrontEndURL}})
		}
	}
	return out, nil
}

// Instances returns a copy of every instance, by ID.
func (v *Vendor) Instances() []Instance {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := make([]Instance, 0, len(v.instances))
	for _, in := range v.instances {
		out = append(out, *in)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Handler serves the vendor's production interface at /produce.
func Handler(key secret.String, v *Vendor, log *slog.Logger) (http.Handler, error) {
	h, err := koogallery.NewHandler(key, v, koogallery.WithLogger(log))
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/produce", h)
	return mux, nil
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Getenv); err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "vendor:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("vendor", flag.ContinueOnError)
	fs.SetOutput(out)
	addr := fs.String("addr", "127.0.0.1:9000", "address to listen on")
	if err := fs.Parse(args); err != nil {
		return err
	}
	key := secret.String(getenv("VENDOR_KOOGALLERY_KEY"))
	if key.IsZero() {
		key = mockserver.DemoKooGalleryKey
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	h, err := Handler(key, NewVendor(base, out), slog.New(slog.NewTextHandler(out, nil)))
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(out, "vendor: production interface at %s/produce\n", base)
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shut)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
