package billing

// The wire forms of the requests with secrets: what twcore.Post sends for
// them (see there why).

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
