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
// WithSTSEndpoint and WithBSSEndpoint override one service. Unlike the
// SDK's HUAWEICLOUD_SDK_IAM_ENDPOINT and HUAWEICLOUD_SDK_STS_ENDPOINT, which
// force https://, these accept http:// URLs. Endpoints must have no path:
// the SDK serves every API at the host's root.
//
// # Account ID
//
// AccountID calls IAM KeystoneListAuthDomains and, when the list is empty
// (IAM users without permission to see their domain), STS
// GetCallerIdentity, as the SDK's own discovery does; unlike the SDK, the
// STS fallback also works on endpoints outside the SDK's STS table. The
// package never uses the SDK's automatic discovery (clients are built with
// endpoints, not regions), so it is not affected by the SDK's process-wide
// domain-ID cache. That cache is keyed by AK only and never expires: code
// that also builds SDK clients with WithRegion shares one discovered ID per
// AK for the whole process, and tests that do so against several mock
// servers must give each test its own AK.
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
// A purchase's InstanceID is reported as its BSS resource_id. Huawei does
// not document whether a SaaS purchase's resource_id equals the
// seller-side instance ID the buyer sees in Purchased Services; if it does
// not for your product, map it with WithInstanceIDFunc.
//
// # Errors and retries
//
// Failed calls return *apierror.Error (Service "huawei-iam", "huawei-sts"
// or "huawei-bss") carrying the HTTP status, Huawei's error_code and
// error_msg and the X-Request-Id. It matches apierror.ErrUnauthorized
// (HTTP 401, APIGW.0301), ErrForbidden, ErrNotFound, ErrRateLimited,
// ErrServer and ErrTransport with errors.Is, and unwraps to the SDK's
// *sdkerr.ServiceResponseError with errors.As. A 2xx whose body cannot be
// decoded matches ErrMalformedResponse. Invalid arguments are refused
// before any call with *apierror.ValidationError.
//
// All calls are read-only and are retried on throttling, 5xx (except 501)
// and connection errors per WithRetryPolicy (the SDK's
// HttpConfig.WithRetries does nothing). Waits honour the context, and each
// attempt is bounded by WithTimeout.
package huawei
