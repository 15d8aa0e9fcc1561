package workspace

// The requests hold their secrets as secret.String, which redacts itself in
// JSON, fmt and slog, however the value is nested. Only the request the HTTP
// core encodes for the wire carries them: each call sends its request's
// wire form, an unexported struct built at send time whose secret fields
// are plain strings. The embedded pointer keeps every other field's
// encoding, and the outer fields, being shallower, win over the embedded
// secret ones.

func (r *CreateWorkspaceRequest) wire() any {
	type plain CreateWorkspaceRequest
	return struct {
		*plain
		EmailCode string `json:"emailCode"`
	}{(*plain)(r), r.EmailCode.Reveal()}
}

func (r *RegisterAndCreateRequest) wire() any {
	type plain RegisterAndCreateRequest
	return struct {
		*plain
		Password        string `json:"password"`
		PasswordConfirm string `json:"passwordConfirm"`
		EmailCode       string `json:"emailCode"`
	}{(*plain)(r), r.Password.Reveal(), r.PasswordConfirm.Reveal(), r.EmailCode.Reveal()}
}
