// Package huawei finds a buyer's Huawei Cloud account ID and TrueWatch
// purchases on Huawei Cloud Marketplace (KooGallery). Every call goes
// through the official SDK, github.com/huaweicloud/huaweicloud-sdk-go-v3:
// IAM (services/iam/v3), STS (services/sts/v1) and BSS (services/bssintl/v2
// for international accounts, services/bss/v2 for Chinese mainland ones).
// The package adds what the SDK lacks: contexts, a retry policy, typed
// errors, iterators, and constructors that never touch the network.
//
//	c, err := huawei.NewClient(huawei.WithCredentialsFromEnv())
//	acc, err := c.AccountID(ctx)                 // IAM, falling back to STS
//	p, err := c.ActiveTrueWatchPurchase(ctx)     // the one purchase in use
//	for p, err := range c.Purchases(ctx, nil) {  // every TrueWatch purchase
//		...
//	}
//
// # Credentials and endpoints
//
// Credentials are an AK/SK pair (plus a security token for temporary keys),
// given with WithCredentials or read from HUAWEICLOUD_SDK_AK,
// HUAWEICLOUD_SDK_SK, HUAWEICLOUD_SDK_SECURITY_TOKEN and
// HUAWEICLOUD_SDK_DOMAIN_ID by WithCredentialsFromEnv. They are required:
// unlike the SDK, which silently asks the ECS metadata service when both
// are empty, NewClient refuses.
//
// The region (default ap-southeast-1) picks the IAM and STS endpoints from
// the SDK's tables (which honour the SDK's HUAWEICLOUD_SDK_REGION_* and
// regions-file overrides); BSS uses its site's global endpoint. WithEndpoint
// sends everything to one URL (the mock server), WithIAMEndpoint,
// WithSTSEndpoint and WithBSSEndpoint override one service. Endpoints must
// have no path: the SDK serves every API at the host's root.
//
// The SDK also reads HUAWEICLOUD_SDK_IAM_ENDPOINT and
// HUAWEICLOUD_SDK_STS_ENDPOINT, but only for its own automatic domain-ID
// and project-ID discovery, and it forces https: any value not starting
// with https:// gets it prepended, so http://127.0.0.1:8080 becomes
// https://http://127.0.0.1:8080 and no http:// mock server can be reached
// that way. This package does not read them: use WithIAMEndpoint and
// WithSTSEndpoint, which accept http:// and https:// URLs alike.
//
// # Account ID
//
// AccountID calls IAM KeystoneListAuthDomains and, when the list is empty
// (IAM users without permission to see their domain), STS
// GetCallerIdentity, as the SDK's own discovery does; unlike the SDK, the
// STS fallback also works on endpoints outside the SDK's STS table. The ID
// found is kept by the Client for its BSS calls; WithDomainID skips the
// lookup altogether.
//
// The SDK's own discovery (run when an SDK client is built with WithRegion
// and global credentials without a domain ID) stores the discovered ID in
// a process-wide cache keyed by the AK alone (not by endpoint), which
// never expires. This package never relies on it: it builds SDK
// clients with explicit endpoints and passes the domain ID it looked up
// itself, so two Clients with the same AK against different servers (say,
// two mock servers in one test binary) each get their own answer. Code
// that also builds SDK clients with WithRegion in the same process still
// shares the SDK's cache; tests that do so against several mock servers
// must give each test its own AK.
//
// # Purchases
//
// Purchases come from BSS ListPayPerUseCustomerResources (POST
// /v2/orders/suscriptions/resources/query), which lists yearly/monthly
// subscription resources. Marketplace purchases are recognised by product
// ID on the client (WithProductIDs, default TrueWatchProductID), not by a
// server-side service-type filter: Huawei does not document which service
// type code (hws.service.type.marketplace or an hws.service.type.mkp.*
// code) a SaaS purchase carries.
//
// BSS reports no marketplace instance ID: a subscription resource has a
// resource_id, and the instance ID the buyer copies from Purchased
// Services (and the seller's KooGallery notification carries) is not among
// its fields. The package therefore reports a purchase's InstanceID as its
// BSS resource_id, the one stable identifier BSS gives, and Purchase finds
// a purchase by either. Huawei does not document that the two are equal
// for SaaS products; if they differ for yours, give WithInstanceIDFunc a
// function that derives the instance ID from the Purchase (its resource
// ID, resource name or spec code), and every call (Purchases, Purchase,
// ActiveTrueWatchPurchase) uses it.
//
// When the instance IDs are known with their orders (the seller is told
// orderId and orderLineId with every newInstance), PurchaseForOrder and
// MatchInstances match purchases to instances by order instead, which
// holds whatever BSS reports as resource_id: BSS lists the resources an
// order bought (order_id, server-side), and the order's lines tell several
// apart. The mock serves both cases (mockserver.WithBSSResourceIDs). The
// activation needs neither: an instance ID given by the user (or by the
// marketplace's activation link) is the authority.
//
// # Orders
//
// Order fetches an order and its lines by ID (ShowCustomerOrderDetails).
// BSS does not say which order bought a purchase; OrderFor finds it by
// listing the account's completed orders around the purchase's effective
// time (ListCustomerOrders) and matching their lines' product and term
// against the purchase. See OrderFor for the rule and its limits.
//
// # Permissions
//
// Every call is read-only. An account's own (root) keys may make them
// all; an IAM user's keys need:
//
//   - account ID: permission to see the account (domain) in IAM, or else
//     STS GetCallerIdentity (sts:callerIdentity:get). Without either, give
//     the ID with WithDomainID; no IAM or STS call is made then.
//   - purchases (ListPurchases, Purchases, Purchase,
//     ActiveTrueWatchPurchase): BSS read access to yearly/monthly
//     subscriptions (billing:subscription:view under identity policies).
//   - orders (Order, OrderFor): BSS read access to orders (bss:order:view).
//
// A missing permission is HTTP 403 (matching apierror.ErrForbidden), except
// for IAM, which lists no domain instead (see ErrAccountIDUnavailable).
//
// # Errors and retries
//
// Failed calls return *apierror.Error (Service "huawei-iam", "huawei-sts"
// or "huawei-bss"), as every client of this module does, carrying the HTTP
// status, Huawei's error_code and error_msg, the X-Request-Id, the attempts
// made and the last answer's Retry-After. It matches
// apierror.ErrUnauthorized (HTTP 401, APIGW.0301), ErrForbidden,
// ErrNotFound, ErrRateLimited, ErrServer and ErrTransport with errors.Is,
// and unwraps to the SDK's *sdkerr.ServiceResponseError with errors.As. A
// 2xx whose body cannot be decoded or lacks what the API promises (a domain
// list, a purchase's resource_id or status, a list's total_count, the list
// itself while items remain) matches ErrMalformedResponse: a truncated
// answer is never read as "nothing (more) to list". What the client
// concludes from good answers is an *apierror.Error too (HTTPStatus 0),
// whose cause says what: *NotFoundError, *PurchaseSelectionError,
// *OrderMatchError, or *apierror.PagingError when BSS repeats a page or
// ignores the offset (every listing checks, so none asks for pages for
// ever). Invalid arguments are refused before any call with
// *apierror.ValidationError, bad options by NewClient with
// *apierror.OptionError.
//
// Retries use the module's one HTTP core (the same retry.Policy, Retry-After
// parsing, in seconds or as an HTTP date, and classification as the
// billing and workspace clients), placed under the SDK as its round
// tripper: throttling (429, APIGW.0308), 5xx except 501, and connection
// errors are retried per WithRetryPolicy (the SDK's HttpConfig.WithRetries
// does nothing). Waits honour the context, each attempt is bounded by
// WithTimeout, and the failed answer's body is closed before each wait.
//
// Every call is read-only (BSS's resource query is a POST that changes
// nothing), so every call may be repeated. The SDK signs a request once,
// before the transport, and each attempt re-sends it as signed: Huawei
// accepts a signature within 15 minutes of its X-Sdk-Date, and no retry
// starts later than RetrySignatureWindow after signing (the rest is left
// for clock skew); a call stopped there returns its last failure.
package huawei
