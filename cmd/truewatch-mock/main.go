// Command truewatch-mock serves the mock of everything a TrueWatch
// activation on Huawei Cloud Marketplace talks to (the Billing Center, every
// site's workspace API and login page, Huawei IAM, STS and BSS) on one port,
// for trying the SDK by hand and for tests written in other languages.
//
// Usage:
//
//	truewatch-mock [-addr 127.0.0.1:8080] [-public-url URL] [-audience URL] [-no-demo] [-seed S]
//	               [-fixture FILE] [-state FILE]
//	               [-strictness strict|lenient] [-max-namespaces 10000] [-explicit-namespaces]
//	               [-rate-limit N] [-token-ttl 1h] [-max-body 1048576]
//	               [-control-token T] [-journal-size 10000] [-outbox-per-address 100] [-outbox-total 10000]
//	               [-read-header-timeout 10s] [-read-timeout 30s] [-write-timeout 30s]
//	               [-idle-timeout 1m] [-shutdown-grace 5s]
//	               [-vendor-url URL] [-koogallery-key K] [-koogallery-kit-key K]
//	               [-delivery-attempts 60] [-delivery-interval 3m] [-delivery-timeout 5s]
//	               [-bss-resource-id instance|distinct] [-new-instance-shape inline|flat]
//	               [-grace-period 336h]
//	               [-enterprise-activation 2m] [-client-secret-key FILE] [-client-secret-public-key FILE]
//	               [-client-secret-padding pkcs1|oaep-sha256|oaep-sha1] [-login-redirect-uris URL,...]
//	               [-login-sign-in-url URL] [-login-userinfo legacy|orgid]
//	               [-tls] [-tls-cert FILE] [-tls-key FILE] [-tls-ca-out FILE]
//	truewatch-mock healthcheck [the same flags]
//
// Every flag can also be set in the environment: TRUEWATCH_MOCK_ADDR,
// TRUEWATCH_MOCK_PUBLIC_URL, TRUEWATCH_MOCK_AUDIENCE, TRUEWATCH_MOCK_NO_DEMO,
// TRUEWATCH_MOCK_SEED, TRUEWATCH_MOCK_FIXTURE, TRUEWATCH_MOCK_STATE,
// TRUEWATCH_MOCK_STRICTNESS, TRUEWATCH_MOCK_MAX_NAMESPACES,
// TRUEWATCH_MOCK_EXPLICIT_NAMESPACES, TRUEWATCH_MOCK_RATE_LIMIT, TRUEWATCH_MOCK_TOKEN_TTL,
// TRUEWATCH_MOCK_MAX_BODY, TRUEWATCH_MOCK_CONTROL_TOKEN, TRUEWATCH_MOCK_JOURNAL_SIZE,
// TRUEWATCH_MOCK_OUTBOX_PER_ADDRESS, TRUEWATCH_MOCK_OUTBOX_TOTAL,
// TRUEWATCH_MOCK_READ_HEADER_TIMEOUT, TRUEWATCH_MOCK_READ_TIMEOUT,
// TRUEWATCH_MOCK_WRITE_TIMEOUT, TRUEWATCH_MOCK_IDLE_TIMEOUT,
// TRUEWATCH_MOCK_SHUTDOWN_GRACE, TRUEWATCH_MOCK_VENDOR_URL,
// TRUEWATCH_MOCK_KOOGALLERY_KEY, TRUEWATCH_MOCK_KOOGALLERY_KIT_KEY,
// TRUEWATCH_MOCK_DELIVERY_ATTEMPTS, TRUEWATCH_MOCK_DELIVERY_INTERVAL,
// TRUEWATCH_MOCK_DELIVERY_TIMEOUT, TRUEWATCH_MOCK_BSS_RESOURCE_ID,
// TRUEWATCH_MOCK_NEW_INSTANCE_SHAPE, TRUEWATCH_MOCK_GRACE_PERIOD,
// TRUEWATCH_MOCK_ENTERPRISE_ACTIVATION, TRUEWATCH_MOCK_CLIENT_SECRET_KEY,
// TRUEWATCH_MOCK_CLIENT_SECRET_PUBLIC_KEY, TRUEWATCH_MOCK_CLIENT_SECRET_PADDING,
// TRUEWATCH_MOCK_LOGIN_REDIRECT_URIS, TRUEWATCH_MOCK_LOGIN_SIGN_IN_URL,
// TRUEWATCH_MOCK_LOGIN_USERINFO, TRUEWATCH_MOCK_TLS, TRUEWATCH_MOCK_TLS_CERT,
// TRUEWATCH_MOCK_TLS_KEY, TRUEWATCH_MOCK_TLS_CA_OUT. Flags win over the
// environment. -h lists them.
//
// -tls serves HTTPS with a certificate made at start by a CA of its own
// (ECDSA P-256, for 127.0.0.1, ::1, localhost and -public-url's host,
// which must then be https); -tls-ca-out FILE writes that CA (PEM, mode
// 0644) for clients to trust, with verification on; without it the CA is
// printed after the banner. -tls-cert FILE -tls-key FILE serve a given
// chain and key instead (-tls-ca-out then writes the chain's last
// certificate). A missing, malformed or mismatched file stops the start
// with the file named, before anything listens:
//
//	truewatch-mock -tls -tls-ca-out /tmp/truewatch-mock-ca.pem
//	curl --cacert /tmp/truewatch-mock-ca.pem https://127.0.0.1:8080/_mock/health
//
// truewatch-mock healthcheck, given the same flags and environment, asks
// GET /_mock/health of the mock they describe at 127.0.0.1 and -addr's
// port, trusting only its CA, and exits 0 when it is healthy and 1 when
// not: the container image's HEALTHCHECK (Dockerfile), as the image has
// no curl.
//
// The joint service (Step 2): the buyer's console creates an enterprise for
// a purchase, adds members and authorizes them (POST /_mock/enterprises and
// below); each change reaches the vendor's joint-operation kit, signed with
// -koogallery-kit-key, applicationSync's client secret RSA-encrypted to the
// vendor's key (-client-secret-key or -client-secret-public-key; the demo
// pair mockserver.DemoClientSecretKeyPEM by default). Members log in
// through the enterprise's unified login at {URL}/idp/{domain}, an OAuth2
// identity provider whose application credentials are at GET
// /_mock/enterprises/{tenantId}/application:
//
//	curl -H 'X-Mock-Control: 1' --json '{"huaweiAccountId":"0a1b2c3d4e5f40718293a4b5c6d7e8f9","instanceId":"tw-inst-7d7b0a7e1c2d4e5f","name":"Acme","domain":"acme.example","abbreviation":"acme"}' \
//	    http://127.0.0.1:8080/_mock/enterprises
//
// The mock also plays KooGallery: a purchase (POST
// /_mock/marketplace/orders) is delivered as a signed newInstance to a
// vendor's production interface, TrueWatch's own by default; -vendor-url
// points it at yours, so your service is tested against the marketplace
// (its keys: -koogallery-key, -koogallery-kit-key; the demo keys are
// public). Renewals, expiry, freezes and releases follow (POST
// /_mock/purchases/{instanceId}/{renew|expire|freeze|unfreeze|release|upgrade}),
// and the clock moves over HTTP (POST /_mock/clock {"advance": "360h"}),
// running KooGallery's retries, the ends of terms and grace periods that
// fall due. Every call and answer is at GET /_mock/marketplace/deliveries:
//
//	curl -H 'X-Mock-Control: 1' --json '{"huaweiAccountId":"0a1b2c3d4e5f40718293a4b5c6d7e8f9","periodMonths":12}' \
//	    http://127.0.0.1:8080/_mock/marketplace/orders
//
// Calls keyed by a Huawei account need a proof of ownership of the account
// (signed with its AK/SK; the SDK makes it from the Huawei credentials)
// naming the mock's audience: by default its Billing Center URL, as
// printed; -audience sets another.
//
// In a container, listen on every interface and say how clients reach the
// mock, so that the URLs it prints and puts in its answers (login URLs)
// work for them:
//
//	truewatch-mock -addr 0.0.0.0:8080 -public-url http://localhost:8080
//
// Verification codes are not mailed: read them at GET /_mock/outbox (the
// newest 100 per address and 10000 in all are kept). Every request to the
// APIs is journaled, without secrets, at GET /_mock/requests (the newest
// -journal-size, 10000 by default), with the trace context it came with. The control plane
// (/_mock/health, /_mock/reset, /_mock/state, seeding of purchases,
// accounts, workspaces and bindings, faults, ...) is listed at start-up
// and described in the mockserver package. A browser page cannot drive
// it: it answers only to the mock's own names (its address, -public-url,
// localhost, IP addresses), refuses other origins, and takes a change
// (POST, DELETE) only with the header X-Mock-Control: 1 and a JSON body:
//
//	curl -X POST -H 'X-Mock-Control: 1' http://127.0.0.1:8080/_mock/reset
//
// Where others can reach it, set a control token (in the environment
// rather than as a flag, which other users see in ps), then send it on
// every control request but the health check:
//
//	TRUEWATCH_MOCK_CONTROL_TOKEN=$(openssl rand -hex 16) truewatch-mock -addr 0.0.0.0:8080 ...
//	curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8080/_mock/outbox
//
// -fixture FILE applies a JSON fixture (docs/fixtures.md; its schema is
// at GET /_mock/fixture.schema.json) after the demo fixture at start, and
// POST /_mock/reset goes back to it; a fixture that does not apply stops
// the start with the file and the place (a JSON pointer) named. -state
// FILE keeps the state across restarts: loaded at start if the file
// exists (a file of another version, corrupted or inconsistent is a
// start-up error), written at shutdown and on POST /_mock/snapshot,
// atomically and with mode 0600 (it holds keys and tokens):
//
//	truewatch-mock -fixture examples/fixtures/acme.json -state /var/tmp/truewatch-mock.json
//
// Namespaces let test suites share one long-running mock without seeing
// one another: each has its own state, IDs, outbox, faults, clock,
// journal, reset and strictness. A request names its namespace with the
// header X-Mock-Namespace or the path prefix /ns/{name}/ (the TrueWatch
// half and the control plane); the Huawei SDK, which can set neither,
// reaches it by its access key: each namespace's demo account has its own
// keys (mockserver.DemoKeysFor, and in the answer of POST
// /_mock/namespaces). A namespace is made on first use, or with
// -explicit-namespaces only by POST /_mock/namespaces (then an unknown
// one is 404); at most -max-namespaces exist (then 429). -strictness
// lenient makes the API halves ignore unknown JSON fields and query
// parameters (strict, the default, refuses them); a namespace may have
// its own:
//
//	curl -H 'X-Mock-Control: 1' --json '{"name":"ci-42","strictness":"lenient"}' http://127.0.0.1:8080/_mock/namespaces
//	curl -H 'X-Mock-Control: 1' -X POST http://127.0.0.1:8080/ns/ci-42/_mock/reset
//
// -state keeps every namespace. The server stops on SIGINT or SIGTERM within -shutdown-grace: fault
// delays end at once (answering 503), bodies still arriving are cut,
// requests in flight get the grace period, then connections are closed. A
// second signal ends it at once.
package main

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/truewatch-labs/marketplace-go/koogallery"
	"github.com/truewatch-labs/marketplace-go/mockserver"
	"github.com/truewatch-labs/marketplace-go/secret"
	"github.com/truewatch-labs/marketplace-go/site"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // a second signal ends the process at once
	}()
	if len(os.Args) > 1 && os.Args[1] == "healthcheck" {
		if err := runHealthcheck(ctx, os.Args[2:], os.Getenv, os.Stderr); err != nil {
			fmt.Fprintln(os.Stderr, "truewatch-mock:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, nil); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "truewatch-mock:", err)
		os.Exit(2)
	}
}

// options is the command line after flags and environment.
type options struct {
	addr      string
	publicURL string
	audience  string
	noDemo    bool
	seed      string
	fixture   string
	stateFile string

	strictness    string
	maxNamespaces int
	explicitNS    bool

	rateLimit int
	tokenTTL  time.Duration
	maxBody   int64

	controlToken string
	journalSize  int
	outbox       mockserver.OutboxLimits
	timeouts     mockserver.Timeouts

	vendorURL   string
	kgKey       string
	kgKitKey    string
	delivery    mockserver.DeliveryPolicy
	resourceIDs string
	shape       string
	grace       time.Duration

	activation    time.Duration
	secretKey     string
	secretPub     string
	secretPadding string
	redirectURIs  string
	signInURL     string
	userInfo      string

	tls      bool
	tlsCert  string
	tlsKey   string
	tlsCAOut string
}

// parseOptions reads flags, then fills every flag not given from its
// environment variable (TRUEWATCH_MOCK_ and the flag name in upper case,
// '-' as '_').
func parseOptions(args []string, getenv func(string) string, stderr io.Writer) (options, error) {
	o := options{}
	fs := newFlagSet(&o, stderr)
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		name := envName(f.Name)
		if v := getenv(name); v != "" && !given[f.Name] {
			if err := f.Value.Set(v); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
			}
		}
	})
	return o, errors.Join(errs...)
}

// newFlagSet defines the flags, each usage naming its environment
// variable, on o.
func newFlagSet(o *options, output io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("truewatch-mock", flag.ContinueOnError)
	fs.SetOutput(output)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8080", "address to listen on")
	fs.StringVar(&o.publicURL, "public-url", "", "URL clients reach the mock at, e.g. http://localhost:8080 when it listens on 0.0.0.0 in a container; every URL it prints and answers uses it (empty: the listener's URL)")
	fs.StringVar(&o.audience, "audience", "", "audience ownership proofs must name (empty: the Billing Center URL, as printed)")
	fs.BoolVar(&o.noDemo, "no-demo", false, "start empty, without the demo Huawei account and purchase")
	fs.StringVar(&o.seed, "seed", "", "seed of the deterministic ID generator")
	fs.StringVar(&o.fixture, "fixture", "", "JSON fixture file (docs/fixtures.md) applied after the demo fixture at start and on reset")
	fs.StringVar(&o.stateFile, "state", "", "state file: loaded at start if it exists, written at shutdown and on POST /_mock/snapshot (mode 0600: it holds keys and tokens)")
	fs.StringVar(&o.strictness, "strictness", string(mockserver.Strict), "strict (refuse unknown JSON fields and query parameters on the APIs) or lenient (ignore them); each namespace has this unless created with its own")
	fs.IntVar(&o.maxNamespaces, "max-namespaces", mockserver.DefaultMaxNamespaces, "namespaces the mock holds besides the default; past it, creating one is refused with 429")
	fs.BoolVar(&o.explicitNS, "explicit-namespaces", false, "namespaces exist only once created (POST /_mock/namespaces); a request naming an unknown one is 404 instead of creating it")
	fs.IntVar(&o.rateLimit, "rate-limit", 0, "TrueWatch requests per minute per client before HTTP 401 ft.TriggerApiAkCurrentLimiting; 0 disables")
	fs.DurationVar(&o.tokenTTL, "token-ttl", time.Hour, "lifetime of Billing Center tokens")
	fs.Int64Var(&o.maxBody, "max-body", 1<<20, "largest request body in bytes")
	fs.StringVar(&o.controlToken, "control-token", "", "token every control-plane request but GET /_mock/health must send as Authorization: Bearer <token> (16+ characters); empty: none. Prefer the environment variable: other users see flags in ps")
	lim := mockserver.DefaultOutboxLimits()
	fs.IntVar(&o.journalSize, "journal-size", mockserver.DefaultJournalSize, "requests the journal (GET /_mock/requests) keeps; the oldest go first; 0 turns it off")
	fs.IntVar(&o.outbox.PerAddress, "outbox-per-address", lim.PerAddress, "emails the outbox keeps per address; the oldest go first")
	fs.IntVar(&o.outbox.Total, "outbox-total", lim.Total, "emails the outbox keeps in all; the oldest go first")
	t := mockserver.DefaultTimeouts()
	fs.DurationVar(&o.timeouts.ReadHeader, "read-header-timeout", t.ReadHeader, "longest time to read a request's headers")
	fs.DurationVar(&o.timeouts.Read, "read-timeout", t.Read, "longest time to read a whole request, body included")
	fs.DurationVar(&o.timeouts.Write, "write-timeout", t.Write, "longest time to write an answer, from the end of the request's headers; a fault's delay adds to it")
	fs.DurationVar(&o.timeouts.Idle, "idle-timeout", t.Idle, "longest time a keep-alive connection waits for its next request")
	fs.DurationVar(&o.timeouts.ShutdownGrace, "shutdown-grace", t.ShutdownGrace, "longest time requests in flight get to finish on SIGINT or SIGTERM before connections are closed")
	fs.StringVar(&o.vendorURL, "vendor-url", "", "production interface the mock's KooGallery calls (newInstance and the lifecycle), e.g. http://127.0.0.1:9000/produce for your own vendor service; empty: TrueWatch's own, at {URL}"+mockserver.VendorProducePath)
	fs.StringVar(&o.kgKey, "koogallery-key", mockserver.DemoKooGalleryKey, "access key of the production interface: the mock's KooGallery signs with it and its own vendor verifies with it (the default is a public demo key; prefer the environment variable for a real one)")
	fs.StringVar(&o.kgKitKey, "koogallery-kit-key", mockserver.DemoKooGalleryKitKey, "key of the joint-operation kit, which the mock's own vendor verifies kit calls with (a public demo key by default)")
	dp := mockserver.DefaultDeliveryPolicy()
	fs.IntVar(&o.delivery.Attempts, "delivery-attempts", dp.Attempts, "calls KooGallery makes to deliver an order or a change before it gives up (a new order is then cancelled)")
	fs.DurationVar(&o.delivery.Interval, "delivery-interval", dp.Interval, "time between those calls, on the mock's clock")
	fs.DurationVar(&o.delivery.Timeout, "delivery-timeout", dp.Timeout, "longest time a call to the vendor may take")
	fs.StringVar(&o.resourceIDs, "bss-resource-id", string(mockserver.ResourceIDIsInstanceID), "what BSS reports as a marketplace purchase's resource_id: instance (the vendor's instance ID) or distinct (an ID of its own)")
	fs.StringVar(&o.shape, "new-instance-shape", string(mockserver.NewInstanceInline), "how newInstance is sent: inline (buyer and order in the call) or flat (order IDs only, as V2 documents)")
	fs.DurationVar(&o.grace, "grace-period", mockserver.DefaultGracePeriod, "how long the workspaces of an expired or released subscription keep working before they lock, on the mock's clock")
	fs.DurationVar(&o.activation, "enterprise-activation", mockserver.DefaultEnterpriseActivation, "how long a new enterprise of the joint service stays activating, on the mock's clock (0 to 10m)")
	fs.StringVar(&o.secretKey, "client-secret-key", "", "PEM file of the vendor's RSA private key: applicationSync's client secret is encrypted to it and TrueWatch's vendor decrypts with it (empty: the public demo key pair)")
	fs.StringVar(&o.secretPub, "client-secret-public-key", "", "PEM file of only the vendor's RSA public key, for a vendor of your own (-vendor-url) holding the private key")
	fs.StringVar(&o.secretPadding, "client-secret-padding", "pkcs1", "padding of the encrypted client secret: pkcs1, oaep-sha256 or oaep-sha1 (not documented by KooGallery)")
	fs.StringVar(&o.redirectURIs, "login-redirect-uris", "", "comma-separated redirect URIs registered for the application in the unified login, for a vendor of your own (empty: TrueWatch's callback in the mock)")
	fs.StringVar(&o.signInURL, "login-sign-in-url", "", "the application's sign-in page, where an enterprise's unified-login link leads (empty: TrueWatch's in the mock)")
	fs.StringVar(&o.userInfo, "login-userinfo", "legacy", "which userinfo endpoint TrueWatch's side asks: legacy (/api/v1/oauth2/userinfo) or orgid (/orgid/openapi/v1/oauth2/userinfo)")
	fs.BoolVar(&o.tls, "tls", false, "serve HTTPS with a certificate made at start by a CA of its own (ECDSA P-256, for 127.0.0.1, ::1, localhost and -public-url's host); -public-url must then be https")
	fs.StringVar(&o.tlsCert, "tls-cert", "", "PEM file of the certificate chain to serve HTTPS with (leaf first); needs -tls-key")
	fs.StringVar(&o.tlsKey, "tls-key", "", "PEM file of -tls-cert's private key")
	fs.StringVar(&o.tlsCAOut, "tls-ca-out", "", "file the CA certificate clients must trust is written to (PEM, mode 0644) with -tls or -tls-cert; empty: printed in the banner only")
	fs.VisitAll(func(f *flag.Flag) { f.Usage += " (env " + envName(f.Name) + ")" })
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: truewatch-mock [flags]

Serves the mock of the TrueWatch Billing Center, every site's workspace API
and Huawei IAM, STS and BSS on one port. Each flag can also be set by the
environment variable shown; a flag given on the command line wins.

The control plane (/_mock/...) answers only to the mock's own names (its
address, -public-url, localhost, IP addresses), refuses requests from other
origins, and takes a change (POST, DELETE) only with the header
X-Mock-Control: 1 and a JSON body, so that no web page can drive it:

  curl -X POST -H 'X-Mock-Control: 1' http://127.0.0.1:8080/_mock/reset

Flags:
`)
		fs.PrintDefaults()
	}
	return fs
}

func envName(flagName string) string {
	return "TRUEWATCH_MOCK_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// run serves until ctx is done. ready, when not nil, receives the server
// once it listens (for tests).
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer, ready chan<- *mockserver.Server) error {
	o, err := parseOptions(args, getenv, stdout)
	if err != nil {
		return err
	}
	opts := []mockserver.Option{mockserver.WithAddr(o.addr), mockserver.WithRateLimit(o.rateLimit),
		mockserver.WithStrictness(mockserver.Strictness(o.strictness)), mockserver.WithMaxNamespaces(o.maxNamespaces),
		mockserver.WithTokenTTL(o.tokenTTL), mockserver.WithMaxBodyBytes(o.maxBody),
		mockserver.WithOutboxLimits(o.outbox), mockserver.WithTimeouts(o.timeouts), mockserver.WithJournalSize(o.journalSize)}
	if o.controlToken != "" {
		opts = append(opts, mockserver.WithControlToken(o.controlToken))
	}
	opts = append(opts, mockserver.WithKooGalleryKey(secret.String(o.kgKey)), mockserver.WithKooGalleryKitKey(secret.String(o.kgKitKey)),
		mockserver.WithDeliveryPolicy(o.delivery), mockserver.WithBSSResourceIDs(mockserver.ResourceIDMode(o.resourceIDs)),
		mockserver.WithNewInstanceShape(mockserver.NewInstanceShape(o.shape)), mockserver.WithGracePeriod(o.grace))
	if o.vendorURL != "" {
		opts = append(opts, mockserver.WithVendorURL(o.vendorURL))
	}
	jointOpts, err := o.jointOptions()
	if err != nil {
		return err
	}
	opts = append(opts, jointOpts...)
	if o.noDemo {
		opts = append(opts, mockserver.WithoutDemoFixture())
	}
	if o.seed != "" {
		opts = append(opts, mockserver.WithIDSeed(o.seed))
	}
	if o.fixture != "" {
		opts = append(opts, mockserver.WithFixtureFile(o.fixture))
	}
	if o.stateFile != "" {
		opts = append(opts, mockserver.WithStateFile(o.stateFile))
	}
	if o.explicitNS {
		opts = append(opts, mockserver.WithExplicitNamespaces())
	}
	if o.publicURL != "" {
		opts = append(opts, mockserver.WithPublicURL(o.publicURL))
	}
	if o.audience != "" {
		opts = append(opts, mockserver.WithAudience(o.audience))
	}
	tlsOpt, err := o.tlsOption()
	if err != nil {
		return err
	}
	caFile, err := createCAOut(o.tlsCAOut)
	if err != nil {
		return err
	}
	srv, err := mockserver.New(append(opts, tlsOpt)...)
	if err != nil {
		caFile.discard()
		return err
	}
	if caFile != nil {
		if err := caFile.write(srv.CACertPEM()); err != nil {
			srv.Close()
			return err
		}
	}
	defer srv.Close()
	printBanner(stdout, srv, !o.noDemo, o.publicURL != "", o.controlToken != "")
	printTLS(stdout, srv, o.tlsCAOut)
	if o.fixture != "" {
		fmt.Fprintf(stdout, "Fixture:    %s   (POST /_mock/reset goes back to it)\n", o.fixture)
	}
	if o.stateFile != "" {
		fmt.Fprintf(stdout, "State file: %s   (written at shutdown and on POST /_mock/snapshot)\n", o.stateFile)
	}
	if ready != nil {
		ready <- srv
	}
	<-ctx.Done()
	fmt.Fprintf(stdout, "truewatch-mock: shutting down (at most %s)\n", o.timeouts.ShutdownGrace)
	if err := srv.Stop(); err != nil {
		return fmt.Errorf("stopped, but the state was not saved: %w", err)
	}
	if o.stateFile != "" {
		fmt.Fprintf(stdout, "truewatch-mock: state saved to %s\n", o.stateFile)
	}
	fmt.Fprintln(stdout, "truewatch-mock: stopped")
	return nil
}

// jointOptions are the joint service's options.
func (o options) jointOptions() ([]mockserver.Option, error) {
	opts := []mockserver.Option{mockserver.WithEnterpriseActivation(o.activation)}
	switch {
	case o.secretKey != "" && o.secretPub != "":
		return nil, errors.New("give -client-secret-key or -client-secret-public-key, not both")
	case o.secretKey != "":
		pemBytes, err := os.ReadFile(o.secretKey)
		if err != nil {
			return nil, fmt.Errorf("-client-secret-key: %w", err)
		}
		key, err := koogallery.ParseRSAPrivateKey(pemBytes)
		if err != nil {
			return nil, fmt.Errorf("-client-secret-key: %w", err)
		}
		opts = append(opts, mockserver.WithClientSecretKey(key))
	case o.secretPub != "":
		pemBytes, err := os.ReadFile(o.secretPub)
		if err != nil {
			return nil, fmt.Errorf("-client-secret-public-key: %w", err)
		}
		pub, err := parseRSAPublicKey(pemBytes)
		if err != nil {
			return nil, fmt.Errorf("-client-secret-public-key: %w", err)
		}
		opts = append(opts, mockserver.WithClientSecretPublicKey(pub))
	}
	paddings := map[string]koogallery.RSAPadding{"pkcs1": koogallery.PaddingPKCS1v15,
		"oaep-sha256": koogallery.PaddingOAEPSHA256, "oaep-sha1": koogallery.PaddingOAEPSHA1}
	p, ok := paddings[o.secretPadding]
	if !ok {
		return nil, fmt.Errorf("-client-secret-padding %q is not pkcs1, oaep-sha256 or oaep-sha1", o.secretPadding)
	}
	opts = append(opts, mockserver.WithClientSecretPadding(p))
	if o.redirectURIs != "" {
		opts = append(opts, mockserver.WithLoginRedirectURIs(strings.Split(o.redirectURIs, ",")...))
	}
	if o.signInURL != "" {
		opts = append(opts, mockserver.WithLoginSignInURL(o.signInURL))
	}
	switch o.userInfo {
	case "legacy":
	case "orgid":
		opts = append(opts, mockserver.WithLoginUserInfoStyle(koogallery.UserInfoOrgID))
	default:
		return nil, fmt.Errorf("-login-userinfo %q is not legacy or orgid", o.userInfo)
	}
	return opts, nil
}

// parseRSAPublicKey reads a PEM "PUBLIC KEY" (PKIX) or "RSA PUBLIC KEY"
// (PKCS#1).
func parseRSAPublicKey(b []byte) (*rsa.PublicKey, error) {
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, errors.New("not PEM")
	}
	if k, err := x509.ParsePKIXPublicKey(block.Bytes); err == nil {
		if rk, ok := k.(*rsa.PublicKey); ok {
			return rk, nil
		}
		return nil, errors.New("not an RSA key")
	}
	return x509.ParsePKCS1PublicKey(block.Bytes)
}

func printBanner(w io.Writer, srv *mockserver.Server, demo, public, token bool) {
	fmt.Fprintf(w, "truewatch-mock listening on %s, serving %s\n", srv.Addr(), srv.URL())
	if host, _, err := net.SplitHostPort(srv.Addr()); !public && err == nil && net.ParseIP(host).IsUnspecified() {
		fmt.Fprintf(w, "  (on every interface: set -public-url to the URL clients reach it at; the URLs below and in its answers use it)\n")
	}
	fmt.Fprintf(w, "\nBilling Center:   %s\n", srv.BillingURL())
	fmt.Fprintf(w, "  proof audience  %s   (ownership proofs must name it)\n", srv.Audience())
	fmt.Fprintf(w, "Huawei endpoint:  %s   (IAM, STS, BSS; ownership proofs go to it)\n", srv.HuaweiEndpoint())
	fmt.Fprintf(w, "Outbox:           %s/_mock/outbox?email=you@example.com\n", srv.URL())
	fmt.Fprintf(w, "KooGallery calls: %s   (the vendor's production interface)\n", srv.VendorURL())
	fmt.Fprintf(w, "Deliveries:       %s/_mock/marketplace/deliveries\n", srv.URL())
	fmt.Fprintf(w, "Joint service:    %s/_mock/enterprises   (unified login at %s/idp/{domain})\n\nSites:\n", srv.URL(), srv.URL())
	eps := srv.SiteEndpoints()
	for _, c := range site.Codes() {
		api, _ := eps.URL(c, site.ConsoleAPI)
		login, _ := eps.LoginURL(c)
		fmt.Fprintf(w, "  %-4s console-api %s\n       login       %s\n", c, api, login)
	}
	fmt.Fprintf(w, "\nControl plane (JSON; errors are {\"error\": ...}; POST and DELETE need the header %s: 1", mockserver.ControlHeader)
	if token {
		fmt.Fprintf(w, ";\n  every request but GET /_mock/health needs Authorization: Bearer <the control token>")
	}
	fmt.Fprintf(w, "):\n")
	for _, ep := range srv.ControlEndpoints() {
		fmt.Fprintf(w, "  %-6s %s%s\n         %s\n", ep.Method, srv.URL(), ep.Path, ep.Summary)
	}
	if demo {
		fmt.Fprintf(w, "\nDemo Huawei account (for trying the SDK only):\n")
		fmt.Fprintf(w, "  account ID   %s\n", mockserver.DemoHuaweiAccountID)
		fmt.Fprintf(w, "  access key   %s\n", mockserver.DemoAccessKey)
		fmt.Fprintf(w, "  secret key   %s\n", mockserver.DemoSecretKey)
		fmt.Fprintf(w, "  instance ID  %s\n", mockserver.DemoInstanceID)
	}
	fmt.Fprintln(w)
}
