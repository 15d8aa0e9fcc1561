package workspace

// The wire forms of the requests with secrets: what twcore.Post sends for
// them (see there why).

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
