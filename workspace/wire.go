package workspace

import "encoding/json"

// secret.String encodes as "[REDACTED]" everywhere. The requests below carry
// secrets on the wire, so their MarshalJSON puts those fields in clear; the
// embedded copy keeps every other field's encoding, and the outer fields,
// being shallower, win over the embedded secret ones.

// MarshalJSON encodes the request for the wire, code in clear.
func (r CreateWorkspaceRequest) MarshalJSON() ([]byte, error) {
	type plain CreateWorkspaceRequest
	return json.Marshal(struct {
		plain
		EmailCode string `json:"emailCode"`
	}{plain(r), r.EmailCode.Reveal()})
}

// MarshalJSON encodes the request for the wire, password and code in clear.
func (r RegisterAndCreateRequest) MarshalJSON() ([]byte, error) {
	type plain RegisterAndCreateRequest
	return json.Marshal(struct {
		plain
		Password        string `json:"password"`
		PasswordConfirm string `json:"passwordConfirm"`
		EmailCode       string `json:"emailCode"`
	}{plain(r), r.Password.Reveal(), r.PasswordConfirm.Reveal(), r.EmailCode.Reveal()})
}
