// Package mockserver is a stateful, in-memory mock of everything a TrueWatch
// activation on Huawei Cloud Marketplace talks to: the TrueWatch Billing
// Center, every TrueWatch site's workspace API, the Huawei Cloud IAM, STS
// and BSS APIs (signatures checked as the real gateway does), and
// KooGallery itself, which calls the vendor's production interface when a
// buyer purchases, renews, is frozen, expires or releases; all from one
// listener, one state and one clock. A purchase made in the mock is what
// BSS returns and what the Billing Center's subscription lookup sees.
//
// It is a library first, like httptest:
//
//	srv := mockserver.Start(t)            // or mockserver.New(); defer srv.Close()
//	bc, _ := srv.BillingClient()          // or WorkspaceClient, HuaweiClient: ready to call it
//	code, _ := srv.LatestCode("ada@example.com", "register")
//
// and a binary second: cmd/truewatch-mock serves the same thing on a port,
// to several suites at once in namespaces of their own (see Namespaces).
//
// # Layout on the listener
//
// Everything is routed by path (never by Host):
//
//	/billing-center/api/v1/...               the Billing Center (BillingURL)
//	/sites/{site}/console-api/api/v1/...     a site's workspace API (SiteEndpoints)
//	/sites/{site}/auth/login/pwd             a site's login page (login URLs point here)
//	/v3/..., /v3.0/..., /v5/..., /v2/...     Huawei IAM, STS, BSS (HuaweiEndpoint); the
//	                                         official SDK drops any path from an endpoint,
//	                                         so these sit at the root
//	/vendor/produce                          TrueWatch's production interface (VendorProducePath),
//	                                         which the mock's KooGallery calls by default, and
//	                                         below it the joint-operation kit (/produceAPI/v2/...)
//	/idp/{domain}/...                        each enterprise's unified login (the joint service)
//	/_mock/...                               the control plane (health, reset, outbox, ...)
//
// So the API halves answer under any name (the control plane only under
// the mock's own, see below). WithPublicURL sets the name it gives
// out (URL, BillingURL, SiteEndpoints, HuaweiEndpoint, the login URLs and
// links in its responses) when clients do not reach it at its listener's
// address, as when it listens on 0.0.0.0 in a container.
//
// # The TrueWatch half
//
// The Billing Center and workspace API enforce the contract of
// api/openapi.yaml: the request types' Validate rules and the document's
// limits on parameters (400 ft.ValidationFailed listing every problem,
// unknown, repeated or empty query parameters included, on POSTs too),
// strict JSON (a single UTF-8 JSON object whose keys are spelled exactly
// and given once; unknown fields, wrong types and null are 400
// ft.InvalidJSON), bodies only as application/json (415
// ft.UnsupportedMediaType), and every state rule (unique names, one Billing Center
// account per subscription, the settlement lock and the once-a-month
// settlement change in UTC), each checked before anything changes, so a
// refused request changes nothing and uses up no verification code.
// Verification codes are not mailed but put in an outbox (Outbox,
// LatestCode, GET /_mock/outbox). Calls keyed by a Huawei account
// (register, bind a Billing Center account, and the complete subscription
// lookup) need a proof of ownership of the account, which the mock checks
// against its own Huawei half (tw_proof.go; WithAudience,
// OwnershipProver for tests). POSTs honour Idempotency-Key, scoped to the
// proven caller: the token's Billing Center account, or the proof's Huawei
// account. Tokens and codes come from crypto/rand; tokens expire
// (WithTokenTTL) and stop working, on every route, once their binding is
// gone (the subscription released); expired tokens, codes, used proofs and stored idempotent
// answers are freed as they expire. Rate limiting is opt-in
// (WithRateLimit). All time comes from the server's Clock (WithClock,
// ManualClock), except the clock-skew check of Huawei signatures, which
// uses the wall clock (as the SDK signs with it) unless WithSignatureClock
// says otherwise.
//
// State that would take many calls to build is seeded directly:
// SeedBillingAccount, SeedAccount, SeedWorkspace (with any settlement,
// including a ChangedAt for the monthly rule) and SeedBinding (which also
// returns a token), in Go or over the control plane; Snapshot (GET
// /_mock/state), Accounts, BillingAccounts, Workspaces, Workspace and
// Subscription read the state back.
//
// # The Huawei half
//
// IAM, STS and BSS answer the calls an activation makes and the cheap
// read-only ones around it (HuaweiOperations lists them), from one state
// with the TrueWatch half, in each service's error shape: the gateway's
// APIGW.* for signatures, IAM's Keystone {"error":{...}} on /v3, IAM.* on
// IAM's other APIs, CBC.* on BSS. Any other Huawei call answers HTTP 501
// MOCK.0501 naming the operation. Accounts (AddHuaweiAccount) have a site
// (HuaweiAccount.Site: the currency BSS answers in) and a balance;
// purchases (AddPurchase) are what BSS lists and what the Billing Center
// binds. Every place the mock differs from Huawei or from the contract is
// listed, with the reason, in docs/divergences.md.
//
// # The marketplace: KooGallery calls the vendor
//
// A purchase (PlaceOrder, POST /_mock/marketplace/orders) checks the buyer
// (an existing Huawei account that passed real-name authentication:
// HuaweiAccount.RealNameVerified, true unless set false), creates the order
// (order ID, line, product, SKU, term) and calls the vendor's production
// interface with a newInstance signed as KooGallery signs (the koogallery
// package's Signer and Caller), answering once that first call is answered.
// The instance ID the vendor returns becomes the purchase BSS lists (its
// resource_id the instance ID, or an ID of BSS's own: WithBSSResourceIDs)
// and the Billing Center looks up; its appInfo.frontEndUrl is what the
// buyer is shown. A failed call is made again every 3 minutes on the mock's
// clock and the order is cancelled after the 60th (KooGallery's V1 guide;
// WithDeliveryPolicy). Viewing an order (ViewOrder) calls newInstance again,
// as KooGallery does, to check that the vendor answers the same instance.
//
// The vendor is TrueWatch's own (VendorProducePath), built on the
// koogallery package, unless WithVendorURL (the binary's -vendor-url) or
// WithVendorHandler names a vendor service of the user's. The production
// interface's key (WithKooGalleryKey, default DemoKooGalleryKey) signs the
// calls and keys TrueWatch's interface; the kit's (WithKooGalleryKitKey,
// default DemoKooGalleryKitKey) keys its kit. Signatures are dated with the
// wall clock, as a vendor checks them, however far the mock's clock moved.
//
// Lifecycle actions (ChangePurchase, POST /_mock/purchases/{instanceId}/
// {renew|expire|freeze|unfreeze|release|upgrade}) change the marketplace's
// purchase and are delivered as KooGallery V2 delivers them: renew as
// refreshInstance (scene RENEWAL, a new order, the new expireTime, then
// updateInstanceStatus UNFREEZE if it had expired), expire and freeze as
// updateInstanceStatus FREEZE, unfreeze as UNFREEZE, release as
// releaseInstance, upgrade as upgradeInstance. A purchase whose term ends
// on the clock expires by itself and the vendor gets the FREEZE. An unknown
// instance is a 404 naming it; an action the status does not allow, or any
// action on a released instance, a 409.
//
// TrueWatch's side keeps its own record of every subscription (what its
// production interface was told), and the Billing Center answers from it:
// a call being retried has not reached TrueWatch yet. An expired or
// released subscription's workspaces keep working for a grace period of 14
// days on the mock's clock (WithGracePeriod; Subscription.GraceUntil), then
// lose the cloud-account settlement and are locked on Billing Center
// settlement; a renewal within the grace lifts it; a released
// subscription's binding goes when it ends. A locked workspace is unlocked
// by its owner in the Billing Center (UnlockWorkspace, POST
// /_mock/workspaces/{uuid}/unlock) or by binding it to another
// subscription.
//
// Every call the marketplace made and the vendor's answer is in the
// delivery log (Deliveries, GET /_mock/marketplace/deliveries), secrets
// redacted, so that a test can assert what the vendor was told.
//
// # The joint service
//
// Step 2 of the seed: the buyer's console creates an enterprise for a
// purchase (CreateEnterprise, POST /_mock/enterprises: validated name,
// domain and abbreviation, the name and abbreviation immutable), which is
// activating for WithEnterpriseActivation (2 minutes) of the mock's clock;
// adds members (AddMember: an initial password, the first member
// pre-filled from the Huawei account's real-name information) and
// departments; and authorizes members (AuthorizeMembers, the agreement
// accepted). Each change reaches the vendor through the joint-operation
// kit, signed with the kit key (tenantSync, applicationSync with the
// client secret RSA-encrypted to WithClientSecretKey's key, authSync,
// singleOrgSync, allOrgSync), one enterprise's calls in order, retried and
// logged as newInstance is. Authorized members log in through the
// enterprise's identity provider at {URL}/idp/{domain}: an OAuth2
// authorization-code flow with a CSRF-protected login page, the forced
// change of the initial password, lockout after wrong passwords, PKCE
// S256, token, refresh, userinfo in the legacy and the OrgID shape, and
// logout (WithIdPPolicy). TrueWatch's side consumes both: its kit vendor
// keeps who is authorized (TrueWatchTenants) and its sign-in, on
// koogallery.LoginClient, lands members on "Activation Successful" and the
// site's login page naming the subscription's workspace. UnifiedLogin and
// LogInToTrueWatch log a member in from Go through the real pages.
// docs/joint-service.md has the details and the choices made where the
// facts are not public.
//
// # The clock
//
// All time comes from the server's clock: WithClock (a ManualClock in
// tests) or the system clock. AdvanceClock and SetClock (GET and POST
// /_mock/clock, {"advance": "360h"} or {"set": "2027-01-01T00:00:00Z"})
// move it forward, never back, and run what falls due on the way, each at
// its own time and before they return: KooGallery's retries, the ends of
// terms and of grace periods. A ManualClock is moved in place; any other
// clock, the system clock included, is read through an offset the mock
// moves. A clock moved behind the server's back (ManualClock.Advance) is
// caught up by a ticker within a second, and grace periods lock at the
// next read whatever moved the clock. Code expiry, token lifetimes and the
// monthly settlement rule follow the same clock; signatures (Huawei's,
// ownership proofs, KooGallery's) are checked against the wall clock
// (WithSignatureClock), so moving the mock's clock breaks none of them.
//
// # Faults
//
// InjectFault scripts failures by operation ("billing.Register",
// "bss.ListPayPerUseCustomerResources": the clients' names, listed by
// Operations and in docs/mock-operations.md) or by method and path,
// counted (Skip, Times):
// an error status with an optional Retry-After, a delay (alone, a delay
// only slows the request down; it is then served normally), a dropped
// connection, or a lost response (AfterHandler: the work is done, the
// answer is replaced), which is how retries and idempotency are tested.
// It returns the fault's ID. Faults and FaultHits report what fired;
// RemoveFault removes one fault by ID, ClearFaults and Reset all of them.
//
// # Ready clients
//
// BillingClient, WorkspaceClient and HuaweiClient return the typed clients
// of this module pointed at the server, through HTTPClient, with the demo
// account's ownership prover and keys; options given to them win. A ready
// truewatch.Activation is truewatchtest.Activation(srv).
//
// # Request journal and telemetry
//
// Every request to the API halves is journaled (Requests, GET
// /_mock/requests): time, namespace, method, path, operation (e.g.
// billing.Register, bss.ListPayPerUseCustomerResources), status, latency,
// request ID, idempotency key, error code, and the W3C trace context it
// came with; never a body, a query or another header, so no secret. The
// journal keeps the newest DefaultJournalSize requests (WithJournalSize),
// filters by operation, status, path prefix, time and trace ID, and is
// emptied by ClearRequests (DELETE /_mock/requests) and Reset. With
// WithTracerProvider the mock emits a SERVER span per request, a child of
// the client's span in traceparent, and with WithMeterProvider it records
// http.server.request.duration and marketplace.mock.requests by operation
// and status. The control plane is neither journaled nor traced.
//
// # Control plane
//
// The same things are reachable over HTTP under /_mock/, for the binary and
// for tests in other languages (ControlEndpoints lists them). They are
// described in an OpenAPI 3 document, api/control.openapi.yaml
// (api.ControlSpec; served at GET /_mock/control.openapi.yaml), which the
// tests hold to the mock: every route is in it, every request and answer
// of the tests is validated against it, every documented status is
// exercised. Go users of the standalone binary call it with package
// mockclient; docs/any-language.md has curl, Python and JavaScript.
//
//	GET    /_mock/health                          {"status":"ok","time":...}
//	POST   /_mock/reset                           Reset
//	GET    /_mock/state                           Snapshot
//	POST   /_mock/fixture                         LoadFixture (Fixture -> FixtureResult)
//	GET    /_mock/fixture.schema.json             FixtureSchema
//	POST   /_mock/snapshot                        SaveState (409 without a state file, 500 if unwritable)
//	GET    /_mock/purchases                       Purchases
//	POST   /_mock/purchases                       AddPurchase (Purchase)
//	POST   /_mock/purchases/{instanceId}/{action} ChangePurchase: renew, expire, freeze, unfreeze,
//	                                              release, upgrade (ChangeOptions -> PurchaseChange)
//	GET    /_mock/marketplace/orders[/{orderId}]  Orders, Order
//	POST   /_mock/marketplace/orders              PlaceOrder (OrderRequest -> MarketplaceOrder)
//	POST   /_mock/marketplace/orders/{id}/view    ViewOrder
//	GET    /_mock/marketplace/deliveries          Deliveries
//	GET    /_mock/clock                           Clock
//	POST   /_mock/clock                           AdvanceClock, SetClock
//	POST   /_mock/workspaces/{uuid}/unlock        UnlockWorkspace
//	GET    /_mock/enterprises[/{tenantId}]        Enterprises, Enterprise
//	POST   /_mock/enterprises                     CreateEnterprise (EnterpriseRequest -> Enterprise)
//	POST   /_mock/enterprises/{tenantId}          UpdateEnterprise (EnterpriseChange)
//	DELETE /_mock/enterprises/{tenantId}          DeleteEnterprise
//	GET    /_mock/enterprises/{tenantId}/application  EnterpriseApplication (secret in clear)
//	POST   /_mock/enterprises/{tenantId}/application/rotate-secret  RotateClientSecret
//	GET    /_mock/enterprises/{tenantId}/members  Members
//	POST   /_mock/enterprises/{tenantId}/members  AddMember (MemberRequest -> Member)
//	POST   /_mock/enterprises/{tenantId}/members/{userName}  UpdateMember (MemberChange)
//	DELETE /_mock/enterprises/{tenantId}/members/{userName}  RemoveMember
//	POST   /_mock/enterprises/{tenantId}/members/{userName}/password  ResetMemberPassword
//	POST   /_mock/enterprises/{tenantId}/authorizations    AuthorizeMembers (AuthorizationRequest)
//	POST   /_mock/enterprises/{tenantId}/deauthorizations  DeauthorizeMembers
//	GET    /_mock/enterprises/{tenantId}/departments       Departments
//	POST   /_mock/enterprises/{tenantId}/departments       AddDepartment (Department)
//	POST   /_mock/enterprises/{tenantId}/departments/{orgCode}  UpdateDepartment
//	DELETE /_mock/enterprises/{tenantId}/departments/{orgCode}  RemoveDepartment
//	POST   /_mock/enterprises/{tenantId}/org-sync          SyncDepartments
//	GET    /_mock/truewatch/tenants               TrueWatchTenants
//	POST   /_mock/huawei-accounts                 AddHuaweiAccount (HuaweiAccount)
//	POST   /_mock/billing-accounts                SeedBillingAccount (BillingAccountSeed)
//	POST   /_mock/accounts                        SeedAccount (AccountSeed)
//	POST   /_mock/workspaces                      SeedWorkspace (WorkspaceSeed)
//	POST   /_mock/bindings                        SeedBinding (BindingSeed -> SeededBinding, token in clear)
//	GET    /_mock/operations                      Operations (the names faults take)
//	GET    /_mock/faults                          Faults (each with its id and hits)
//	POST   /_mock/faults                          InjectFault (Fault; answers {"id":...}), InjectFaults (an
//	                                              array, atomic; answers {"ids":[...]}); a refusal is
//	                                              {"error","pointer"} (FaultError), 409 for a name taken
//	DELETE /_mock/faults                          ClearFaults
//	DELETE /_mock/faults/{id}                     RemoveFault (by ID or name)
//	GET    /_mock/outbox[?email=]                 Outbox, OutboxFor
//	GET    /_mock/requests[?operation=&status=&pathPrefix=&since=&traceId=&limit=]
//	                                              Requests (RequestFilter), oldest first
//	DELETE /_mock/requests                        ClearRequests
//	GET    /_mock/openapi.yaml                    the contract, api/openapi.yaml
//	GET    /_mock/control.openapi.yaml            this control plane, api/control.openapi.yaml
//	GET    /_mock/namespaces[/{name}]             Namespaces, Namespace (NamespaceInfo)
//	POST   /_mock/namespaces                      CreateNamespace (NamespaceRequest -> NamespaceInfo)
//	DELETE /_mock/namespaces/{name}               DeleteNamespace
//
// Control bodies are one JSON object, keys spelled exactly as the types'
// camelCase JSON tags and given once, no unknown fields; times are RFC
// 3339. A POST that adds something answers 201 with what it added; errors
// are {"error": "..."} with a 4xx status (409 for a conflict such as a
// name taken, 404 for an unknown subscription, 400 otherwise) and change
// nothing.
//
// The mock on a laptop is a server every web page in the user's browser
// can send requests to, so the control plane refuses what a page can send
// (each refusal changes nothing):
//
//   - Host must name the mock: its URL's host (the public URL, or the
//     listener's), the listener's address, localhost, or an IP address.
//     A DNS-rebound page sends its own name and gets 403, so it cannot
//     read the outbox's codes. A Handler mounted under another name needs
//     that name as WithPublicURL.
//   - A request from another origin is refused, 403: an Origin that is not
//     the mock's own, or Sec-Fetch-Site cross-site or same-site. A URL
//     typed into the address bar and curl go through.
//   - A change (POST, DELETE) needs the header X-Mock-Control: 1
//     (ControlHeader), 403, and a body only as Content-Type:
//     application/json, 415. A page can send neither cross-origin without
//     a CORS preflight, and the mock answers no preflight and sends no
//     CORS header.
//   - WithControlToken (the binary's -control-token) makes every control
//     request carry Authorization: Bearer <token>, 401 otherwise, compared
//     in constant time and never printed. GET /_mock/health stays open
//     without it, for container and orchestrator probes; it tells only
//     that the mock is up and its clock.
//
// HTTPClient adds the header and the token itself. For example, an
// existing Billing Center account with a workspace, bound to the demo
// purchase (curl 7.82 or newer for --json; otherwise -H 'Content-Type:
// application/json' -d):
//
//	curl -H 'X-Mock-Control: 1' --json '{"username":"acme","email":"ops@acme.example"}' $MOCK/_mock/billing-accounts
//	    # {"uuid":"bcac_...",...}
//	curl -H 'X-Mock-Control: 1' --json '{"site":"us1","username":"acme","email":"ops@acme.example"}' $MOCK/_mock/accounts
//	    # {"uuid":"acnt_...",...}
//	curl -H 'X-Mock-Control: 1' --json '{"ownerAccountUUID":"acnt_...","name":"prod","billingAccountUUID":"bcac_..."}' $MOCK/_mock/workspaces
//	curl -H 'X-Mock-Control: 1' --json '{"billingAccountId":"bcac_...","huaweiAccountId":"...","instanceId":"..."}' $MOCK/_mock/bindings
//	    # {...,"token":"bctk_...","expiresAt":"..."}
//	curl -X POST -H 'X-Mock-Control: 1' $MOCK/_mock/reset
//
// # TLS
//
// WithTLS serves HTTPS with a certificate made at start: a CA of its own
// (ECDSA P-256 from crypto/rand, valid for TLSValidity) and a leaf for
// 127.0.0.1, ::1, localhost and WithPublicURL's host; WithTLSCertificate
// serves a given PEM chain and key (a bad or mismatched pair is an error
// of New). URL is then https, CACertPEM (and CertPool) is what clients
// trust, and HTTPClient, the ready clients and the marketplace's calls to
// the vendor trust it; nothing turns verification off. TLS 1.2 or newer,
// HTTP/1.1. Give the official Huawei SDK the CA through
// config.HttpConfig.WithHttpRoundTripper and a transport whose RootCAs
// hold it.
//
// # Serving safely
//
// The listener bounds every connection (Timeouts, WithTimeouts): headers
// in 10s, a whole request in 30s, an answer in 30s (plus any fault Delay,
// which extends the deadlines of the request it holds), 60s idle between
// keep-alive requests, so a client that dribbles its body or sits idle
// cannot hold a connection for ever. Close ends within
// Timeouts.ShutdownGrace (5s): fault delays end at once and answer 503,
// bodies still arriving are cut, requests in flight get the grace period,
// then the connections left are force-closed. The outbox keeps the newest
// 100 emails per address and 10000 in all (OutboxLimits,
// WithOutboxLimits), dropping the oldest first, so a mock that runs for
// days sending codes keeps a bounded outbox.
//
// # Fixtures and persistence
//
// A fixture (Fixture; docs/fixtures.md) is a JSON document, versioned
// ("version": 1) and described by a JSON Schema (FixtureSchema, GET
// /_mock/fixture.schema.json, mockserver/fixture.schema.json), of what a
// test wants present: Huawei accounts, purchases, Billing Center and
// console accounts, workspaces and bindings, which name one another by
// Huawei IDs and by the refs the fixture gives accounts. It is applied
// after the demo fixture at start (WithFixture, WithFixtureFile, the
// binary's -fixture) or in place of the state (LoadFixture, POST
// /_mock/fixture: a reset, then the fixture), through the seeding
// functions, atomically: the state is built aside and swapped in only if
// every entry applied; otherwise nothing changes and the error, a
// *FixtureError, names the place as a JSON pointer ("/accounts/2/email")
// and why. Reset goes back to the fixture.
//
// WithStateFile (the binary's -state) keeps the state across restarts: a
// snapshot of the state, not a journal of calls, loaded at start when the
// file exists, written when Close ends (Stop reports the error), on
// SaveState and on POST /_mock/snapshot, atomically (a temporary file in
// the same directory, synced, renamed) with mode 0600, since it holds keys
// and tokens. It is versioned ({"format": "truewatch-mock-state",
// "version": 1, "namespaces": {"default": ..., "ci-42": ...}}: every
// namespace, see Namespaces); a file of another
// version, corrupted, truncated or inconsistent makes New fail, serving
// nothing. It keeps the Huawei half, the TrueWatch half (accounts,
// workspaces, bindings, tokens with their expiry, codes, the outbox,
// TrueWatch's subscriptions and activation links), the marketplace's
// orders, the ID counters and the clock's offset; not in-flight
// deliveries and retries, the delivery log, idempotency records, faults,
// the journal or the joint service (docs/fixtures.md says why).
//
// # Namespaces
//
// A server shared by several test suites (the binary in CI) gives each
// a namespace: a *Server of its own on the same listener (Namespace,
// CreateNamespace) with its own state, ID seed (the server's + "/" + the
// name, WithNamespaceIDSeed), outbox, faults, clock, request journal,
// reset and strictness, and every method of a Server working on them.
// The default namespace (DefaultNamespace) is the server itself and
// behaves as a server without namespaces does; in Go, Start(t) per test
// stays the simplest isolation, and namespaces serve shared servers. A
// request chooses its namespace, on every route, by
//
//   - the path prefix /ns/{name}/ (URL, BillingURL and SiteEndpoints of
//     the namespace's Server carry it): /ns/ci-42/billing-center/api/v1,
//     /ns/ci-42/_mock/reset;
//   - the header X-Mock-Namespace (NamespaceHeader), alone or agreeing
//     with the prefix; the namespace's HTTPClient and ready clients send
//     it;
//   - for a Huawei call with neither, its access key: the Huawei SDK signs
//     the request's path and sends no header of ours, so each namespace's
//     demo account has keys of its own (DemoKeysFor: the access key
//     DEMOAKNS- and the name in upper case), and every access key
//     belongs to one namespace (adding one another namespace holds is a
//     conflict, 409). A namespace's HuaweiEndpoint is the server's root.
//
// A name is 1 to 63 characters of a-z, 0-9 and '-', not starting with
// '-'. A namespace is created on its first use (a demo access key of one
// included), or, WithExplicitNamespaces (-explicit-namespaces), only by
// CreateNamespace and POST /_mock/namespaces; then a request naming an
// unknown one is 404 in the error shape of the API it addresses and
// creates nothing. A bad name, or a header and a prefix that disagree,
// is 400 in that shape; past WithMaxNamespaces (DefaultMaxNamespaces;
// -max-namespaces) creating one is 429. A refused control request (the
// guard) creates none. DeleteNamespace (DELETE /_mock/namespaces/{name})
// drops one with its state and keys. A namespace's clock is its own: a
// ManualClock of its own stopped at the server's time when the server's
// is a ManualClock, else the server's base clock (the system's) behind an
// offset of its own, so moving the default's clock moves no namespace's.
// Its start fixture is the demo fixture (WithNamespaceDemoFixture), not
// the server's WithFixture, whose keys are the default's; POST
// /ns/{name}/_mock/fixture loads one into it. The state file
// (WithStateFile) holds every namespace, with its options, and restores
// them at start. Reset, the journal, faults and the clock of the default
// namespace are its own and touch no other. One namespace costs about 19
// KB of heap and 150µs to create (BenchmarkNamespaceCreate), against
// about 90 KB and 650µs for a Server of its own; a request in one costs
// what it costs in the default (BenchmarkNamespaceDispatch).
//
// # Strictness
//
// The API halves are strict by default: an unknown JSON field or query
// parameter is refused with 400, so that a client sending what the real
// service would not read finds out. WithStrictness(Lenient) (the binary's
// -strictness lenient), or a namespace created WithNamespaceStrictness,
// accepts and ignores them, as a service reading only what it knows does;
// a key spelled like a known one only in another case, a key given
// twice, values of the wrong type, nulls, limits and every other rule are
// still refused, and the control plane stays strict.
//
// # Reset
//
// Reset (POST /_mock/reset) drops every account, workspace, binding, token,
// code, idempotency record, outbox email, rate-limit window, fault, order,
// delivery, pending retry and journaled request, restarts the IDs and reseeds the demo
// fixture and the server's fixture (WithFixture, LoadFixture), atomically. It does not move the clock. IDs are
// deterministic: two servers given the same calls (and WithIDSeed) make the
// same IDs. Credentials are not: tokens and verification codes are random,
// so tests read them from the answers and the outbox.
//
// # Demo fixture
//
// Unless WithoutDemoFixture is given, the server starts with one Huawei
// account (DemoHuaweiAccountID, keys DemoAccessKey/DemoSecretKey, real-name
// verified) that owns one active TrueWatch purchase (DemoInstanceID),
// seeded as if KooGallery had delivered it, nothing bound yet.
package mockserver

import (
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/truewatch-labs/marketplace-go/internal/routes"
	"github.com/truewatch-labs/marketplace-go/internal/telemetry"
	"github.com/truewatch-labs/marketplace-go/koogallery"
	"github.com/truewatch-labs/marketplace-go/secret"
	"github.com/truewatch-labs/marketplace-go/site"
)

// Clock tells the mock what time it is. Inject one with WithClock to test
// code expiry, resend limits, token and subscription expiry and
// calendar-month rules, and with WithSignatureClock to test the Huawei
// signature's clock-skew window.
type Clock interface{ Now() time.Time }

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// ManualClock is a Clock that moves only when told (Advance, Set, Sleep).
// It is also a truewatch.Clock: given to both the mock and an activation
// (truewatch's WithClock), it keeps them on one time, and the activation's
// waits move it on instead of sleeping. The zero value starts at the zero
// time; use NewManualClock.
//
// A test that only needs waits to pass at once needs no clock: run it in a
// testing/synctest bubble with a server built WithoutListener.
type ManualClock struct {
	mu  sync.Mutex
	now time.Time
}

// NewManualClock returns a clock stopped at t.
func NewManualClock(t time.Time) *ManualClock { return &ManualClock{now: t} }

// Now returns the clock's time.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *ManualClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// Set moves the clock to t.
func (c *ManualClock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// Sleep is a wait on this clock: it moves the clock forward by d at once
// and returns, or returns ctx's error, without moving the clock, when ctx
// is done. Given to an activation (truewatch's WithClock) as well as to the
// mock (WithClock), every wait of the activation moves both on together:
// a verification code's resend interval passes for the mock too.
func (c *ManualClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d > 0 {
		c.Advance(d)
	}
	return nil
}

// Option configures a Server.
type Option func(*config) error

type config struct {
	clock      Clock
	sigClock   Clock
	addr       string
	noListener bool
	noFixture  bool
	seed       string
	maxBody    int64
	// faultSeed seeds fault draws when faultSeedSet (WithFaultSeed).
	faultSeed    uint64
	faultSeedSet bool
	idemTTL      time.Duration
	tokenTTL     time.Duration
	rateLimit    int
	publicURL    string
	tls          tlsConfig

	controlToken secret.String
	timeouts     Timeouts
	outboxLimits OutboxLimits
	maxIdem      int
	audience     string

	// The marketplace (kg_*.go).
	vendorURL     string
	vendorHandler http.Handler
	kgKey         secret.String
	kgKitKey      secret.String
	resourceIDs   ResourceIDMode
	shape         NewInstanceShape
	grace         time.Duration
	delivery      DeliveryPolicy
	linkTTL       time.Duration

	journalSize int
	telemetry   telemetry.Providers

	// Fixtures and persistence (fixture.go, persist.go).
	fixture     *Fixture
	fixturePath string
	stateFile   string

	// Namespaces (namespace.go) and strictness (strictness.go).
	explicitNS     bool
	maxNS          int
	strictness     Strictness
	demoAK, demoSK string // a namespace's demo keys (DemoKeysFor); "" in the default

	// The joint service (jo_*.go).
	activation    time.Duration
	secretKey     *rsa.PrivateKey
	secretPub     *rsa.PublicKey
	secretPadding koogallery.RSAPadding
	redirectURIs  []string
	signInURL     string
	idp           IdPPolicy
	userInfo      koogallery.UserInfoStyle
}

// WithClock makes the server use c for every time decision.
func WithClock(c Clock) Option {
	return func(cfg *config) error {
		if c == nil {
			return errors.New("mockserver: nil clock")
		}
		cfg.clock = c
		return nil
	}
}

// WithSignatureClock makes the Huawei half check the X-Sdk-Date of
// signatures (the 15-minute skew window) against c. By default it checks
// them against the wall clock, not WithClock's: Huawei SDKs sign with the
// time of the machine they run on, so a test that moves the mock's clock
// (to expire a code or a subscription) would otherwise find every Huawei
// call refused as skewed. Give a ManualClock here to test the skew window
// itself. The mock's KooGallery dates the calls it signs with this clock
// too, and TrueWatch's own production interface checks them against it.
func WithSignatureClock(c Clock) Option {
	return func(cfg *config) error {
		if c == nil {
			return errors.New("mockserver: nil signature clock")
		}
		cfg.sigClock = c
		return nil
	}
}

// WithAddr listens on addr (default "127.0.0.1:0", a free port).
func WithAddr(addr string) Option {
	return func(cfg *config) error {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return fmt.Errorf("mockserver: invalid address %q: %w", addr, err)
		}
		cfg.addr = addr
		return nil
	}
}

// WithPublicURL makes the server name itself by u, an absolute http or
// https URL at the root of a host (no path, query, fragment or user
// information), in URL, BillingURL, SiteEndpoints, HuaweiEndpoint and every
// URL it puts in responses (login URLs, IAM links), while it still listens
// on WithAddr's address. Use it when clients reach the mock by another name
// than its listener's: behind 0.0.0.0 in a container, a published port or
// a TLS-terminating proxy. A path is refused because the Huawei SDK drops
// the path of an endpoint, so the mock must sit at the root of its host.
// HTTPClient sends requests for u to the listener.
func WithPublicURL(u string) Option {
	return func(cfg *config) error {
		pu, err := parsePublicURL(u)
		if err != nil {
			return fmt.Errorf("mockserver: invalid public URL %q: %w", u, err)
		}
		cfg.publicURL = pu
		return nil
	}
}

// parsePublicURL checks a public URL and returns it as scheme://host.
func parsePublicURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return "", errors.Unwrap(err) // url.Error would repeat the URL
	case u.Scheme != "http" && u.Scheme != "https":
		return "", errors.New("the scheme must be http or https")
	case u.Opaque != "" || u.Hostname() == "":
		return "", errors.New("the URL must be absolute, with a host")
	case u.User != nil:
		return "", errors.New("user information is not allowed")
	case u.RawQuery != "" || u.ForceQuery || strings.Contains(raw, "?"):
		return "", errors.New("a query is not allowed")
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return "", errors.New("a fragment is not allowed")
	case u.Path != "" && u.Path != "/":
		return "", errors.New("a path is not allowed: the Huawei SDK drops endpoint paths, so the mock must be at the root")
	}
	return u.Scheme + "://" + strings.ToLower(u.Host), nil
}

// WithoutListener builds the server without opening a socket; use Handler
// (or HTTPClient, which calls the handler in-process).
func WithoutListener() Option { return func(cfg *config) error { cfg.noListener = true; return nil } }

// WithoutDemoFixture starts the server empty.
func WithoutDemoFixture() Option { return func(cfg *config) error { cfg.noFixture = true; return nil } }

// WithIDSeed changes the seed of the deterministic ID generator, so that two
// servers in one test produce different IDs.
func WithIDSeed(seed string) Option { return func(cfg *config) error { cfg.seed = seed; return nil } }

// WithMaxBodyBytes caps request bodies (default 1 MiB); larger bodies get
// HTTP 413.
func WithMaxBodyBytes(n int64) Option {
	return func(cfg *config) error {
		if n <= 0 {
			return errors.New("mockserver: max body must be positive")
		}
		cfg.maxBody = n
		return nil
	}
}

// WithTokenTTL sets how long Billing Center tokens last (default 1 hour).
func WithTokenTTL(d time.Duration) Option {
	return func(cfg *config) error {
		if d <= 0 {
			return errors.New("mockserver: token TTL must be positive")
		}
		cfg.tokenTTL = d
		return nil
	}
}

// WithRateLimit makes the TrueWatch half answer more than n requests per
// minute per client address with HTTP 401 ft.TriggerApiAkCurrentLimiting,
// as TrueWatch does. 0 (the default) disables rate limiting.
func WithRateLimit(n int) Option {
	return func(cfg *config) error {
		if n < 0 {
			return errors.New("mockserver: negative rate limit")
		}
		cfg.rateLimit = n
		return nil
	}
}

// WithMaxIdempotencyRecords bounds the answers kept for Idempotency-Key
// replays (default 100,000); past it the oldest go first, before their 24
// hours.
func WithMaxIdempotencyRecords(n int) Option {
	return func(cfg *config) error {
		if n < 1 {
			return errors.New("mockserver: the idempotency record limit must be at least 1")
		}
		cfg.maxIdem = n
		return nil
	}
}

// Server is a running mock. All methods are safe for concurrent use.
type Server struct {
	cfg     config
	mu      sync.Mutex
	st      *state
	fixture *Fixture // what Reset applies after the demo fixture; guarded by mu
	ids     idGen
	handler http.Handler
	mux     *http.ServeMux // the routes behind handler, to check fault paths
	ops     []Operation    // the API operations mux serves (handleOp); fixed once built
	journal *journal
	tel     serverTelemetry
	url     string // the public URL (WithPublicURL) or the listener's
	faults  faultTable
	tls     *serverTLS // nil without WithTLS or WithTLSCertificate

	ln        net.Listener // nil WithoutListener
	hs        *http.Server
	served    chan struct{} // closed when hs.Serve has returned
	conns     connTracker
	done      chan struct{} // closed when Close begins
	closeOnce sync.Once
	saveErr   error             // writing the state file as Close ended (Stop)
	rt        http.RoundTripper // behind HTTPClient
	transport interface{ CloseIdleConnections() }
	// proofOrigins are the Huawei identity endpoints ownership proofs may
	// name: this server, by its public and its listener's URL.
	proofOrigins []string

	vendor, vendorKit http.Handler  // TrueWatch's production interface and kit
	kg                kgCaller      // the marketplace's caller of the vendor
	runMu             sync.Mutex    // one catch-up of the clock at a time
	ticked            chan struct{} // closed when the ticker has stopped
	tickerRuns        bool

	// Namespaces: the default server holds them (ns); a namespace has its
	// parent and name, and its handlers in the order of the parent's
	// shared mux (buildMux).
	ns     nsRegistry
	parent *Server
	name   string
	table  []http.Handler
	aside  bool // a scratch server building a state (buildState, restoreState): it claims no keys
	// savedNS are the namespaces of the state file, restored at the end
	// of New (restoreNamespaces).
	savedNS map[string]*savedState
	noSave  bool // set by closeUnsaved before Close
}

// New builds and (unless WithoutListener) starts a Server. It fails only for
// invalid options or when the address cannot be listened on.
func New(opts ...Option) (*Server, error) {
	cfg := config{clock: systemClock{}, sigClock: systemClock{}, addr: "127.0.0.1:0", seed: "truewatch-mock", maxBody: 1 << 20,
		idemTTL: 24 * time.Hour, tokenTTL: time.Hour, timeouts: DefaultTimeouts(), outboxLimits: DefaultOutboxLimits(),
		maxIdem: defaultMaxIdemRecords,
		kgKey:   DemoKooGalleryKey, kgKitKey: DemoKooGalleryKitKey, resourceIDs: ResourceIDIsInstanceID,
		shape: NewInstanceInline, grace: DefaultGracePeriod, delivery: DefaultDeliveryPolicy(),
		linkTTL: DefaultActivationLinkTTL, journalSize: DefaultJournalSize, activation: DefaultEnterpriseActivation,
		secretPadding: DefaultClientSecretPadding, idp: DefaultIdPPolicy(), maxNS: DefaultMaxNamespaces}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	if cfg.secretPub == nil {
		key, err := demoClientSecretKey()
		if err != nil {
			return nil, fmt.Errorf("mockserver: demo client secret key: %w", err)
		}
		cfg.secretKey, cfg.secretPub = key, &key.PublicKey
	}
	cfg.clock = &movableClock{base: cfg.clock}
	s := &Server{cfg: cfg, ids: idGen{seed: cfg.seed}, done: make(chan struct{}), ticked: make(chan struct{}),
		journal: newJournal(cfg.journalSize), tel: newServerTelemetry(cfg.telemetry)}
	s.fixture = cfg.fixture
	s.faults.seed = faultSeedOf(&cfg)
	if err := s.startState(); err != nil {
		return nil, err
	}
	if err := s.claimKeys(nil, s.st.huawei.keys); err != nil {
		return nil, err
	}
	if err := s.newVendor(); err != nil {
		return nil, err
	}
	s.handler = s.dispatch(s.observe(s.routes()))
	var err error
	if s.tls, err = buildTLS(cfg.tls, cfg.publicURL, time.Now()); err != nil {
		return nil, err
	}
	if s.tls != nil && cfg.publicURL != "" && !strings.HasPrefix(cfg.publicURL, "https://") {
		return nil, fmt.Errorf("mockserver: the public URL %q must be https when the server serves TLS", cfg.publicURL)
	}
	s.url = s.scheme() + "://mock.invalid"
	if !cfg.noListener {
		ln, err := net.Listen("tcp", cfg.addr)
		if err != nil {
			return nil, fmt.Errorf("mockserver: listen %s: %w", cfg.addr, err)
		}
		if s.tls != nil {
			ln = tls.NewListener(ln, s.tls.serverConfig())
		}
		s.listen(ln)
		s.url = s.scheme() + "://" + ln.Addr().String()
	}
	if cfg.publicURL != "" {
		s.url = cfg.publicURL
	}
	s.newTransport()
	s.proofOrigins = proofOriginsFor(s.url, s.listenerURL())
	if err := s.newKGCaller(); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.restoreNamespaces(); err != nil {
		s.closeUnsaved()
		return nil, err
	}
	s.tickerRuns = true
	go s.runTicker()
	return s, nil
}

// Start is New for tests: it fails t on error and closes the server when the
// test ends.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s, err := New(opts...)
	if err != nil {
		t.Fatalf("mockserver.Start: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// URL is the server's root URL, e.g. "http://127.0.0.1:41234" (https with
// WithTLS or WithTLSCertificate), or the URL given WithPublicURL. A server built WithoutListener (and no public URL)
// has the placeholder "http://mock.invalid", which only its HTTPClient
// reaches.
func (s *Server) URL() string { return s.url }

// Addr is the address the listener is bound to, e.g. "0.0.0.0:8080"; empty
// for a server built WithoutListener. Unlike URL, it is not changed by
// WithPublicURL.
func (s *Server) Addr() string {
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// BillingURL is the Billing Center base URL to give billing.WithBaseURL.
func (s *Server) BillingURL() string { return s.url + routes.MockBillingPrefix }

// SiteEndpoints resolves every service of every site to this server.
func (s *Server) SiteEndpoints() site.Endpoints {
	e, err := site.UnderBase(s.url)
	if err != nil {
		return site.Endpoints{}
	}
	return e
}

// HuaweiEndpoint is the endpoint to give the Huawei SDK for IAM, STS, BSS
// and BSS international (and WithIamEndpointOverride).
//
// A namespace's is the root URL of its server: the Huawei SDK signs the
// request's path, so it cannot carry /ns/{name}; the namespace is chosen
// by the access key (DemoKeysFor) or the NamespaceHeader.
func (s *Server) HuaweiEndpoint() string { return s.root().url }

// Handler serves the whole mock; use it to mount the mock in your own server
// or with WithoutListener.
func (s *Server) Handler() http.Handler { return s.handler }

// HTTPClient returns a client that reaches this server; with
// WithoutListener it calls the handler in-process. Requests for the public
// URL (WithPublicURL) go to the listener, so the client works even where
// that name does not resolve. Requests for the control plane get the
// ControlHeader and, with WithControlToken, the token. Every client
// returned shares one transport, whose connections Close closes; it keeps
// an idle connection for every concurrent caller (up to 1,024), so that
// many callers reuse their connections instead of opening new ones.
func (s *Server) HTTPClient() *http.Client { return &http.Client{Transport: s.rt} }

// publicTransport sends requests for the public URL to the listener, with
// the Host header of the public URL, as a proxy in front of the mock does.
type publicTransport struct {
	public, listen *url.URL
	next           http.RoundTripper
}

func (t publicTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Scheme != t.public.Scheme || !strings.EqualFold(r.URL.Host, t.public.Host) {
		return t.next.RoundTrip(r)
	}
	r2 := r.Clone(r.Context())
	r2.URL.Scheme, r2.URL.Host = t.listen.Scheme, t.listen.Host
	if r2.Host == "" {
		r2.Host = t.public.Host
	}
	return t.next.RoundTrip(r2)
}

// Now is the server's clock (see AdvanceClock and SetClock).
func (s *Server) Now() time.Time { return s.cfg.clock.Now() }

// Clock is the clock the server decides time with (WithClock; the system
// clock by default), to give the code under test the same time.
//
// A clock the mock moves in place (a ManualClock) is returned as given;
// any other (the system clock) comes back behind the offset AdvanceClock
// and SetClock move, so that the code under test sees the mock's time.
func (s *Server) Clock() Clock {
	c := s.clock()
	if _, ok := c.base.(settableClock); ok {
		return c.base
	}
	return c
}

// Reset drops all state and faults and, unless the server was built
// WithoutDemoFixture, seeds the demo fixture again. IDs restart from the
// beginning. Reset is atomic: requests and readers see the state before it
// or after it, never an empty server without its fixture.
//
// A server given a fixture (WithFixture, WithFixtureFile, LoadFixture, POST
// /_mock/fixture) goes back to the demo fixture and that fixture.
func (s *Server) Reset() error {
	s.mu.Lock()
	fx := s.fixture
	s.mu.Unlock()
	st, ids, _, err := s.buildState(fx)
	if err != nil {
		return err
	}
	return s.install(st, ids, fx)
}

// install swaps in a state built aside (buildState, restoreState) and its
// ID counters, with fx as the fixture Reset goes back to, and drops the
// faults and the journal. It fails, changing nothing, when the new state
// has an access key another namespace holds (an access key routes the
// Huawei SDK to one namespace).
func (s *Server) install(st *state, ids map[string]int, fx *Fixture) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.claimKeys(s.st.huawei.keys, st.huawei.keys); err != nil {
		return err
	}
	s.st, s.fixture = st, fx
	s.ids.mu.Lock()
	s.ids.seed, s.ids.counts = s.cfg.seed, ids
	s.ids.mu.Unlock()
	s.faults.reset()
	s.journal.clear()
	return nil
}

// buildState builds, aside, a fresh state: the demo fixture unless
// WithoutDemoFixture, then fx when not nil; it returns the ID counters
// building it used and what fx made.
func (s *Server) buildState(fx *Fixture) (*state, map[string]int, FixtureResult, error) {
	scratch := &Server{cfg: s.cfg, ids: idGen{seed: s.cfg.seed, counts: map[string]int{}}, st: newState(), aside: true}
	scratch.st.tw.outbox = newOutboxStore(s.cfg.outboxLimits)
	if !s.cfg.noFixture {
		if err := scratch.seedDemo(); err != nil {
			return nil, nil, FixtureResult{}, err
		}
	}
	var res FixtureResult
	if fx != nil {
		var err error
		if res, err = scratch.applyFixture(fx); err != nil {
			return nil, nil, FixtureResult{}, err
		}
	}
	return scratch.st, scratch.ids.counts, res, nil
}

type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (resp *http.Response, err error) {
	defer func() {
		// A handler that aborts (a DropConnection fault) is, to the client,
		// a connection closed without an answer.
		if v := recover(); v != nil {
			if v != http.ErrAbortHandler {
				panic(v)
			}
			resp, err = nil, fmt.Errorf("mockserver: connection closed without a response: %w", io.ErrUnexpectedEOF)
		}
	}()
	if r.Body != nil {
		defer func() { _ = r.Body.Close() }() // a RoundTripper closes the request body
	}
	in := r
	if in.Body == nil {
		// A server's handler always has a body; a GET built with a nil one
		// would otherwise reach the handlers that read it as nil.
		in = r.WithContext(r.Context())
		in.Body = http.NoBody
	}
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, in)
	resp = rec.Result()
	resp.Request = r
	return resp, nil
}

// idGen makes deterministic IDs: prefix + 32 hex characters derived from the
// seed, the prefix and a per-prefix counter.
type idGen struct {
	mu     sync.Mutex
	seed   string
	counts map[string]int
}

func (g *idGen) next(prefix string) string {
	return prefix + g.sum(prefix, "")
}

// sum counts one more ID of prefix+suffix and returns the hex of the
// first 16 bytes of sha256(seed|prefix+suffix|count). It builds the
// hashed text on the stack: a request ID is made for every request.
func (g *idGen) sum(prefix, suffix string) string {
	k := prefix + suffix
	g.mu.Lock()
	if g.counts == nil {
		g.counts = map[string]int{}
	}
	g.counts[k]++
	n, seed := g.counts[k], g.seed // Reset may change the seed (a restored state's)
	g.mu.Unlock()
	var in [128]byte
	b := append(in[:0], seed...)
	b = append(b, '|')
	b = append(b, k...)
	b = append(b, '|')
	b = strconv.AppendInt(b, int64(n), 10)
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:16])
}

// hex32 is a deterministic 32-hex-character value for non-prefixed IDs.
func (g *idGen) hex32(kind string) string {
	return g.sum(kind, ":")
}
