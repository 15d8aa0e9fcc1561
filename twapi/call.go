package twapi

// CallInfo describes how a call went: final HTTP status, trace and request
// IDs, the Idempotency-Key sent, attempts, and whether the server replayed a
// stored response. Ask for it with WithCallInfo; it is filled whether the
// call succeeded or failed (a call refused before sending leaves it zero).
type CallInfo struct {
	HTTPStatus     int    // final HTTP status (0 when no answer came)
	TraceID        string // the envelope's traceId
	RequestID      string // the X-Request-Id header
	IdempotencyKey string // the Idempotency-Key sent, if any
	Attempts       int    // HTTP attempts made
	Replayed       bool   // the server replayed a stored response (Idempotent-Replayed: true)
}

// PageInfo is the paging block of a list response, as TrueWatch's APIs
// send it.
type PageInfo struct {
	Count      int `json:"count"`      // items on this page
	PageIndex  int `json:"pageIndex"`  // this page, from 1
	PageSize   int `json:"pageSize"`   // items per page
	TotalCount int `json:"totalCount"` // items on all pages (0 when the service does not say)
}
