package billing

import "encoding/json"

// secret.String encodes as "[REDACTED]" everywhere. The types below carry
// secrets on the wire, so their MarshalJSON puts those fields in clear; the
// embedded copy keeps every other field's encoding, and the outer fields,
// being shallower, win over the embedded secret ones.

// MarshalJSON encodes the request for the wire, password and code in clear.
func (r RegisterRequest) MarshalJSON() ([]byte, error) {
	type plain RegisterRequest
	return json.Marshal(struct {
		plain
		Password  string `json:"password"`
		EmailCode string `json:"emailCode"`
	}{plain(r), r.Password.Reveal(), r.EmailCode.Reveal()})
}

// MarshalJSON encodes the request for the wire, code in clear.
func (r BindAccountRequest) MarshalJSON() ([]byte, error) {
	type plain BindAccountRequest
	return json.Marshal(struct {
		plain
		EmailCode string `json:"emailCode"`
	}{plain(r), r.EmailCode.Reveal()})
}

// MarshalJSON encodes the result for the wire, token in clear.
func (r BindAccountResult) MarshalJSON() ([]byte, error) {
	type plain BindAccountResult
	return json.Marshal(struct {
		plain
		Token string `json:"token"`
	}{plain(r), r.Token.Reveal()})
}
