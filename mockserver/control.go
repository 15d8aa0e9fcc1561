package mockserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"slices"
	"time"

	"github.com/truewatch-labs/marketplace-go/api"
)

// ControlEndpoint is one endpoint of the control plane under /_mock/.
type ControlEndpoint struct {
	// Method is the HTTP method, e.g. "POST".
	Method string
	// Path is the path pattern, e.g. "/_mock/purchases/{instanceId}/release".
	Path string
	// Summary says what the endpoint does and what its body is.
	Summary string
}

// controlRoute is a control endpoint and its handler.
type controlRoute struct {
	ControlEndpoint
	h http.HandlerFunc
}

// ControlEndpoints lists the control plane, the endpoints a Server serves
// under /_mock/, in the order documented; cmd/truewatch-mock prints it.
//
// The namespaces' routes (/_mock/namespaces) are the default namespace's
// only; a namespace's list lacks them.
func (s *Server) ControlEndpoints() []ControlEndpoint {
	routes := s.controlRoutes()
	if s.parent == nil {
		routes = append(routes, s.namespaceRoutes()...)
	}
	out := make([]ControlEndpoint, len(routes))
	for i, r := range routes {
		out[i] = r.ControlEndpoint
	}
	return out
}

// registerControl mounts the control plane under /_mock/, for the binary
// and for tests in other languages; guardControl (control_guard.go) stands
// in front of every route, so that no web page can drive it. Bodies are one JSON object whose keys
// are spelled exactly (camelCase) and given once, without unknown fields;
// times are RFC 3339. A POST that adds something answers 201 with it;
// errors are {"error": "..."} with a 4xx status, and change nothing.
//
//	GET    /_mock/health                          {"status":"ok","time":...}
//	POST   /_mock/reset                           drop all state, reseed the demo fixture
//	GET    /_mock/state                           a Snapshot: accounts, billingAccounts, workspaces,
//	                                              subscriptions (with their bindings), purchases
//	POST   /_mock/fixture                         replace the state (as reset) with a Fixture applied, atomically;
//	                                              answers a FixtureResult; 400 naming the place (a JSON pointer)
//	GET    /_mock/fixture.schema.json             the fixture format's JSON Schema (draft 2020-12)
//	POST   /_mock/snapshot                        write the state file (WithStateFile, -state) now; 409 without one,
//	                                              500 when it cannot be written
//	GET    /_mock/purchases                       every Purchase
//	POST   /_mock/purchases                       add a Purchase; answers it with defaults filled in
//	POST   /_mock/purchases/{instanceId}/renew    renew (ChangeOptions {periodMonths}); answers a PurchaseChange
//	POST   /_mock/purchases/{instanceId}/expire   end the term now; answers a PurchaseChange
//	POST   /_mock/purchases/{instanceId}/freeze   freeze; answers a PurchaseChange
//	POST   /_mock/purchases/{instanceId}/unfreeze unfreeze; answers a PurchaseChange
//	POST   /_mock/purchases/{instanceId}/release  close (release); answers a PurchaseChange
//	POST   /_mock/purchases/{instanceId}/upgrade  upgrade (ChangeOptions {skuCode}); answers a PurchaseChange
//	GET    /_mock/marketplace/orders              every MarketplaceOrder
//	POST   /_mock/marketplace/orders              purchase (OrderRequest): newInstance to the vendor;
//	                                              answers the MarketplaceOrder, 201
//	GET    /_mock/marketplace/orders/{orderId}    one MarketplaceOrder
//	POST   /_mock/marketplace/orders/{orderId}/view  the buyer views the order: newInstance again (OrderView)
//	GET    /_mock/marketplace/deliveries          the delivery log (Delivery), ?activity=&instanceId=&orderId=
//	GET    /_mock/clock                           the mock's time (ClockState)
//	POST   /_mock/clock                           {"advance": "360h"} or {"set": RFC 3339}; runs what fell due
//	POST   /_mock/workspaces/{uuid}/unlock        unlock a locked workspace; answers the twapi.Workspace
//	GET    /_mock/enterprises                     every Enterprise of the joint service
//	POST   /_mock/enterprises                     create one (EnterpriseRequest); activating, then active (201)
//	GET    /_mock/enterprises/{tenantId}          one Enterprise
//	POST   /_mock/enterprises/{tenantId}          change its domain (EnterpriseChange); name and abbreviation: 409
//	DELETE /_mock/enterprises/{tenantId}          delete it (tenantSync flag 0)
//	GET    /_mock/enterprises/{tenantId}/application  the Application: client ID, secret in clear, redirect URIs
//	POST   /_mock/enterprises/{tenantId}/application/rotate-secret  a new client secret (applicationSync flag 2)
//	GET    /_mock/enterprises/{tenantId}/members  the Members, initial passwords in clear until changed
//	POST   /_mock/enterprises/{tenantId}/members  add a member (MemberRequest); 201 with the initial password
//	POST   /_mock/enterprises/{tenantId}/members/{userName}  change a member (MemberChange)
//	DELETE /_mock/enterprises/{tenantId}/members/{userName}  remove a member
//	POST   /_mock/enterprises/{tenantId}/members/{userName}/password  a new initial password; lifts a lock
//	POST   /_mock/enterprises/{tenantId}/authorizations    authorize members (AuthorizationRequest, agreement accepted)
//	POST   /_mock/enterprises/{tenantId}/deauthorizations  withdraw members' authorization
//	GET    /_mock/enterprises/{tenantId}/departments       the Departments, the root first
//	POST   /_mock/enterprises/{tenantId}/departments       add a Department (201)
//	POST   /_mock/enterprises/{tenantId}/departments/{orgCode}  rename or move a department
//	DELETE /_mock/enterprises/{tenantId}/departments/{orgCode}  remove an empty department
//	POST   /_mock/enterprises/{tenantId}/org-sync          send the department tree again (allOrgSync)
//	GET    /_mock/truewatch/tenants               what TrueWatch's vendor was told (TrueWatchTenant)
//	POST   /_mock/huawei-accounts                 add a HuaweiAccount; answers {"id":...}
//	POST   /_mock/billing-accounts                add a Billing Center account (BillingAccountSeed);
//	                                              answers the billing.BillingAccount
//	POST   /_mock/accounts                        add a console account (AccountSeed); answers the
//	                                              twapi.Account
//	POST   /_mock/workspaces                      add a workspace (WorkspaceSeed); answers the
//	                                              twapi.Workspace
//	POST   /_mock/bindings                        bind a Billing Center account to a subscription
//	                                              (BindingSeed); answers a SeededBinding, token in clear
//	GET    /_mock/operations                      the API operations (Operation), by the names faults take
//	GET    /_mock/faults                          the faults in place, each with its "id" and "hits"
//	POST   /_mock/faults                          add a Fault, by "operation" or "path" (durations in
//	                                              seconds or "1.5s"); answers {"id":...}; or an array of
//	                                              them, atomically, answering {"ids":[...]}; refused with
//	                                              {"error","pointer"}, 409 for a name taken
//	DELETE /_mock/faults                          clear faults
//	DELETE /_mock/faults/{id}                     remove one fault, by its id or name
//	GET    /_mock/outbox[?email=]                 verification emails sent (Email), oldest first
//	GET    /_mock/requests[?...]                  the request journal (RecordedRequest), oldest first;
//	                                              filters: operation, status, pathPrefix, since, traceId, limit
//	DELETE /_mock/requests                        empty the journal
//	GET    /_mock/openapi.yaml                    the Billing Center and workspace contract (api/openapi.yaml)
//	GET    /_mock/control.openapi.yaml            this control plane described (api/control.openapi.yaml)
//	GET    /_mock/namespaces                      the namespaces (NamespaceInfo), the default first
//	POST   /_mock/namespaces                      create one {name, strictness, demoFixture, idSeed}; 201 with
//	                                              its NamespaceInfo; 400 bad name, 409 taken, 429 the limit
//	GET    /_mock/namespaces/{name}               one namespace (NamespaceInfo); 404 unknown
//	DELETE /_mock/namespaces/{name}               delete one, its state and its keys; 404 unknown
//
// The namespaces' routes are the default namespace's alone. Every other
// route is also each namespace's, reached with the NamespaceHeader or
// under /ns/{name}: /ns/{name}/_mock/reset resets that namespace only.
//
// Every route here must be described in api/control.openapi.yaml and
// called by a method of package mockclient: the api tests fail for a
// route the document lacks (TestControlSpecDescribesEveryRoute), and
// mockclient's for an operation without a method
// (TestEveryOperationHasAMethod) or an operation or status its contract
// test never exercised (TestControlPlane).
func (s *Server) registerControl(mux registrar) {
	routes := s.controlRoutes()
	if s.parent == nil {
		routes = append(routes, s.namespaceRoutes()...)
	}
	for _, r := range routes {
		mux.HandleFunc(r.Method+" "+r.Path, r.h)
	}
}

func (s *Server) controlRoutes() []controlRoute {
	routes := []controlRoute{
		{ControlEndpoint{http.MethodGet, "/_mock/health", "health check and the mock's clock"},
			func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "time": s.Now().UTC().Format(time.RFC3339)})
			}},
		{ControlEndpoint{http.MethodPost, "/_mock/reset", "drop all state and faults, reseed the demo fixture"},
			func(w http.ResponseWriter, r *http.Request) {
				if err := s.Reset(); err != nil {
					status := http.StatusInternalServerError
					if ce := (*conflictError)(nil); errors.As(err, &ce) {
						status = http.StatusConflict // an access key another namespace took meanwhile
					}
					controlError(w, status, err)
					return
				}
				writeJSON(w, http.StatusOK, map[string]string{"status": "reset"})
			}},
		{ControlEndpoint{http.MethodGet, "/_mock/state", "snapshot: accounts, billing accounts, workspaces, subscriptions, purchases"},
			func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, s.Snapshot()) }},
		{ControlEndpoint{http.MethodGet, "/_mock/purchases", "every purchase"},
			func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, s.Purchases()) }},
		{ControlEndpoint{http.MethodPost, "/_mock/purchases", "add a purchase {accountId, instanceId, status, ...}"},
			controlAdd(s.AddPurchase)},
		{ControlEndpoint{http.MethodPost, "/_mock/huawei-accounts", "add a Huawei account {id, name, keys: [{ak, sk}]}"},
			controlAdd(func(a HuaweiAccount) (map[string]string, error) {
				return map[string]string{"id": a.ID}, s.AddHuaweiAccount(a)
			})},
		{ControlEndpoint{http.MethodPost, "/_mock/billing-accounts", "add a Billing Center account {username, email, companyName}"},
			controlAdd(s.SeedBillingAccount)},
		{ControlEndpoint{http.MethodPost, "/_mock/accounts", "add a console account {site, username, email, mobile}"},
			controlAdd(s.SeedAccount)},
		{ControlEndpoint{http.MethodPost, "/_mock/workspaces", "add a workspace {ownerAccountUUID, name, language, billingAccountUUID, settlement, ...}"},
			controlAdd(s.SeedWorkspace)},
		{ControlEndpoint{http.MethodPost, "/_mock/bindings", "bind {billingAccountId, huaweiAccountId, instanceId}; answers a token"},
			controlAdd(s.seedBinding)},
		{ControlEndpoint{http.MethodGet, "/_mock/operations", "the API operations, by the names faults take"},
			func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, s.Operations()) }},
		{ControlEndpoint{http.MethodGet, "/_mock/faults", "the faults added, with their hits"},
			func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, s.Faults()) }},
		{ControlEndpoint{http.MethodPost, "/_mock/faults", "add a fault {operation or method and path, status, times, delay, afterHandler, probability, latency, headers, accessKey, name, ...}, answering its id, or a script (an array of faults, added atomically), answering their ids"},
			s.handleAddFaults},
		{ControlEndpoint{http.MethodDelete, "/_mock/faults", "clear faults"},
			func(w http.ResponseWriter, r *http.Request) {
				s.ClearFaults()
				writeJSON(w, http.StatusOK, map[string]string{"status": "cleared"})
			}},
		{ControlEndpoint{http.MethodDelete, "/_mock/faults/{id}", "remove one fault by its id or name"},
			func(w http.ResponseWriter, r *http.Request) {
				id := r.PathValue("id")
				if !s.RemoveFault(id) {
					controlError(w, http.StatusNotFound, fmt.Errorf("mockserver: no fault %q", id))
					return
				}
				writeJSON(w, http.StatusOK, map[string]string{"id": id, "status": "removed"})
			}},
		{ControlEndpoint{http.MethodGet, "/_mock/outbox", "verification emails sent, oldest first (?email= filters)"},
			s.handleOutbox},
		{ControlEndpoint{http.MethodGet, "/_mock/requests", "the request journal, oldest first (?operation= &status= &pathPrefix= &since= &traceId= &limit= filter)"},
			s.handleRequests},
		{ControlEndpoint{http.MethodDelete, "/_mock/requests", "empty the request journal"},
			func(w http.ResponseWriter, r *http.Request) {
				s.ClearRequests()
				writeJSON(w, http.StatusOK, map[string]string{"status": "cleared"})
			}},
		{ControlEndpoint{http.MethodGet, "/_mock/openapi.yaml", "the Billing Center and workspace contract"},
			func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/yaml")
				_, _ = w.Write(api.Spec())
			}},
		{ControlEndpoint{http.MethodGet, "/_mock/control.openapi.yaml", "this control plane's own OpenAPI document"},
			func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/yaml")
				_, _ = w.Write(api.ControlSpec())
			}},
	}
	// The marketplace, the lifecycle and the clock come after POST
	// /_mock/purchases.
	routes = slices.Insert(routes, 5, s.marketRoutes()...)
	// The joint service comes after the marketplace's routes.
	i := slices.IndexFunc(routes, func(r controlRoute) bool { return r.Path == "/_mock/workspaces/{uuid}/unlock" })
	routes = slices.Insert(routes, i+1, s.jointRoutes()...)
	// Fixtures and snapshots come after reset and the state.
	i = slices.IndexFunc(routes, func(r controlRoute) bool { return r.Path == "/_mock/state" })
	return slices.Insert(routes, i+1, append(s.fixtureRoutes(), s.persistRoutes()...)...)
}

// marketRoutes are the control endpoints of the mock's KooGallery, the
// lifecycle of purchases, the clock and workspace unlocking.
func (s *Server) marketRoutes() []controlRoute {
	out := []controlRoute{}
	for _, a := range PurchaseActions() {
		out = append(out, controlRoute{ControlEndpoint{http.MethodPost, "/_mock/purchases/{instanceId}/" + string(a),
			actionSummaries[a]}, s.handlePurchaseAction(a)})
	}
	return append(out,
		controlRoute{ControlEndpoint{http.MethodGet, "/_mock/marketplace/orders", "every marketplace order, oldest first"},
			func(w http.ResponseWriter, r *http.Request) {
				s.catchUp(r.Context())
				writeJSON(w, http.StatusOK, s.Orders())
			}},
		controlRoute{ControlEndpoint{http.MethodPost, "/_mock/marketplace/orders",
			"purchase {huaweiAccountId, productId, skuCode, periodMonths}: newInstance to the vendor; answers the order (201)"},
			func(w http.ResponseWriter, r *http.Request) {
				var req OrderRequest
				if !decodeControl(w, r, &req) {
					return
				}
				o, err := s.PlaceOrder(r.Context(), req)
				if err != nil {
					controlError(w, marketStatus(err), err)
					return
				}
				writeJSON(w, http.StatusCreated, o)
			}},
		controlRoute{ControlEndpoint{http.MethodGet, "/_mock/marketplace/orders/{orderId}", "one marketplace order"},
			func(w http.ResponseWriter, r *http.Request) {
				s.catchUp(r.Context())
				o, ok := s.Order(r.PathValue("orderId"))
				if !ok {
					controlError(w, http.StatusNotFound, fmt.Errorf("%w %q", ErrUnknownOrder, r.PathValue("orderId")))
					return
				}
				writeJSON(w, http.StatusOK, o)
			}},
		controlRoute{ControlEndpoint{http.MethodPost, "/_mock/marketplace/orders/{orderId}/view",
			"the buyer views a delivered order: newInstance again, which must answer the same instance"},
			func(w http.ResponseWriter, r *http.Request) {
				if !decodeOptionalControl(w, r, &struct{}{}) {
					return
				}
				v, err := s.ViewOrder(r.Context(), r.PathValue("orderId"))
				if err != nil {
					controlError(w, marketStatus(err), err)
					return
				}
				writeJSON(w, http.StatusOK, v)
			}},
		controlRoute{ControlEndpoint{http.MethodGet, "/_mock/marketplace/deliveries",
			"every call made to the vendor and its answer, secrets redacted (?activity=&instanceId=&orderId=)"},
			s.handleDeliveries},
		controlRoute{ControlEndpoint{http.MethodGet, "/_mock/clock", "the mock's time"},
			func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, s.ClockState()) }},
		controlRoute{ControlEndpoint{http.MethodPost, "/_mock/clock",
			`move the clock {"advance": "360h"} or {"set": "2027-01-01T00:00:00Z"}, then run what fell due`},
			s.handleClockMove},
		controlRoute{ControlEndpoint{http.MethodPost, "/_mock/workspaces/{uuid}/unlock",
			"unlock a locked workspace (it stays on Billing Center settlement), as its owner does in the Billing Center"},
			func(w http.ResponseWriter, r *http.Request) {
				if !decodeOptionalControl(w, r, &struct{}{}) {
					return
				}
				ws, err := s.UnlockWorkspace(r.PathValue("uuid"))
				if err != nil {
					controlError(w, http.StatusNotFound, err)
					return
				}
				writeJSON(w, http.StatusOK, ws)
			}},
	)
}

var actionSummaries = map[PurchaseAction]string{
	ActionRenew:    "renew {periodMonths}: refreshInstance RENEWAL (and UNFREEZE if expired) to the vendor",
	ActionExpire:   "end the term now: updateInstanceStatus FREEZE to the vendor",
	ActionFreeze:   "freeze: updateInstanceStatus FREEZE to the vendor",
	ActionUnfreeze: "unfreeze: updateInstanceStatus UNFREEZE to the vendor",
	ActionRelease:  "close the purchase: releaseInstance to the vendor; its workspaces lock after the grace period",
	ActionUpgrade:  "upgrade {skuCode}: upgradeInstance to the vendor",
}

// controlAdd serves a control-plane POST that adds something: decode a T,
// add it, answer 201 with what add returns or a 4xx with its error: the
// status the API gives the same refusal (409 for a name taken, 404 for an
// unknown subscription), 409 for a Huawei account, access key or purchase
// that exists already, 400 otherwise.
func controlAdd[T, R any](add func(T) (R, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var v T
		if !decodeControl(w, r, &v) {
			return
		}
		out, err := add(v)
		if err != nil {
			status := http.StatusBadRequest
			var ce *conflictError
			if te := (*twError)(nil); errors.As(err, &te) && te.status >= 400 && te.status < 500 {
				status = te.status
			} else if errors.As(err, &ce) {
				status = http.StatusConflict
			}
			controlError(w, status, err)
			return
		}
		writeJSON(w, http.StatusCreated, out)
	}
}

// decodeControl decodes a control-plane body: exactly one JSON object, no
// unknown fields, each key spelled exactly and given once.
func decodeControl(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := io.ReadAll(r.Body)
	if err == nil {
		if t := bytes.TrimSpace(body); len(t) == 0 || t[0] != '{' {
			err = errors.New("the body must be a JSON object")
		}
	}
	if err == nil {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err = dec.Decode(v); err == nil {
			if _, tok := dec.Token(); tok != io.EOF {
				err = errors.New("the body must hold exactly one JSON object")
			} else if msg := keyProblem(body, reflect.TypeOf(v), false); msg != "" {
				err = errors.New(msg)
			}
		}
	}
	if err != nil {
		controlBodyError(w, err)
		return false
	}
	return true
}

// conflictError refuses to add what exists already (a Huawei account, an
// access key, a purchase): 409 on the control plane.
type conflictError struct{ msg string }

func (e *conflictError) Error() string { return e.msg }

func conflictf(format string, args ...any) error {
	return &conflictError{msg: fmt.Sprintf(format, args...)}
}

// controlBodyError answers a control body that could not be read or
// decoded: 413 when it was too large, 400 otherwise.
func controlBodyError(w http.ResponseWriter, err error) {
	status := http.StatusBadRequest
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		status = http.StatusRequestEntityTooLarge
	}
	controlError(w, status, err)
}

// decodeOptionalControl is decodeControl for a body that may be left out
// (empty, or only white space): then v keeps its zero value.
func decodeOptionalControl(w http.ResponseWriter, r *http.Request, v any) bool {
	if r.Body == nil {
		return true
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		controlBodyError(w, err)
		return false
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return true
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return decodeControl(w, r, v)
}

func controlError(w http.ResponseWriter, status int, err error) {
	writeJSON(w, status, map[string]string{"error": err.Error()})
}
