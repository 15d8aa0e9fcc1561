package billing

// The request and result types hold their secrets as secret.String, which
// redacts itself in JSON, fmt and slog, however the value is nested. Only
// the request the HTTP core encodes for the wire carries them: each call
// sends its request's wire form, an unexported struct built at send time
// whose secret fields are plain strings. The embedded pointer keeps every
// other field's encoding, and the outer fields, being shallower, win over
// the embedded secret ones.

// wirer is a request with secrets, which gives its wire form.
type wirer interface{ wire() any }

// wireBody is what the core encodes for req: its wire form when it has
// secrets, else req itself. req must not be nil.
func wireBody(req any) any {
	if w, ok := req.(wirer); ok {
		return w.wire()
	}
	return req
}

func (r *RegisterRequest) wire() any {
	type plain RegisterRequest
	return struct {
		*plain
		Password  string `json:"password"`
		EmailCode string `json:"emailCode"`
	}{(*plain)(r), r.Password.Reveal(), r.EmailCode.Reveal()}
}

func (r *BindAccountRequest) wire() any {
	type plain BindAccountRequest
	return struct {
		*plain
		EmailCode string `json:"emailCode"`
	}{(*plain)(r), r.EmailCode.Reveal()}
}
