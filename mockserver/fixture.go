package mockserver

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/internal/rules"
	"github.com/truewatch-labs/marketplace-go/twapi"
)

// FixtureVersion is the version of the fixture format this mock reads.
const FixtureVersion = 1

// fixtureSchema is the fixture format's JSON Schema (draft 2020-12),
// served at GET /_mock/fixture.schema.json.
//
//go:embed fixture.schema.json
var fixtureSchema []byte

// FixtureSchema returns the JSON Schema (draft 2020-12) of the fixture
// format, the document GET /_mock/fixture.schema.json serves.
func FixtureSchema() []byte { return bytes.Clone(fixtureSchema) }

// Fixture is what a test wants present when the server starts or resets:
// Huawei accounts and their purchases, Billing Center accounts, console
// accounts, workspaces and bindings. In JSON (docs/fixtures.md,
// fixture.schema.json) its keys are camelCase and every list may be left
// out. Entries are applied in the order of the fields below, each through
// the seeding function of its kind (AddHuaweiAccount, AddPurchase,
// SeedBillingAccount, SeedAccount, SeedWorkspace, SeedBinding), so the
// rules are those of seeding; the fixture applies on top of the demo
// fixture unless the server was built WithoutDemoFixture.
//
// Huawei accounts and purchases carry their own IDs (account ID, instance
// ID), by which other entries name them. Billing Center and console
// accounts get their IDs from the mock, so a fixture gives each a Ref, a
// name of its own unique among entries of the kind, by which workspaces
// and bindings name them.
type Fixture struct {
	// Version must be FixtureVersion.
	Version         int                     `json:"version"`
	HuaweiAccounts  []HuaweiAccount         `json:"huaweiAccounts,omitempty"`
	Purchases       []Purchase              `json:"purchases,omitempty"`
	BillingAccounts []FixtureBillingAccount `json:"billingAccounts,omitempty"`
	Accounts        []FixtureAccount        `json:"accounts,omitempty"`
	Workspaces      []FixtureWorkspace      `json:"workspaces,omitempty"`
	Bindings        []FixtureBinding        `json:"bindings,omitempty"`
}

// FixtureBillingAccount is a Billing Center account of a fixture: a
// BillingAccountSeed with the Ref workspaces and bindings name it by.
type FixtureBillingAccount struct {
	// Ref names the account within the fixture: 1 to 64 letters, digits,
	// '.', '_' and '-', starting with a letter or digit.
	Ref string `json:"ref"`
	BillingAccountSeed
}

// FixtureAccount is a console account of a fixture: an AccountSeed with
// the Ref workspaces name their owner by.
type FixtureAccount struct {
	// Ref names the account within the fixture, as FixtureBillingAccount's.
	Ref string `json:"ref"`
	AccountSeed
}

// FixtureWorkspace is a workspace of a fixture: a WorkspaceSeed whose
// owner and Billing Center account are named by their fixture Refs.
type FixtureWorkspace struct {
	// Owner is the Ref of the console account that owns it (required).
	Owner string `json:"owner"`
	// BillingAccount is the Ref of the Billing Center account it is
	// associated with, if any.
	BillingAccount string           `json:"billingAccount,omitempty"`
	Name           string           `json:"name"`
	Language       twapi.Language   `json:"language,omitempty"`
	Settlement     twapi.Settlement `json:"settlement,omitzero"`
	IsLocked       bool             `json:"isLocked,omitempty"`
	CreateAt       time.Time        `json:"createAt,omitzero"`
}

// FixtureBinding binds a fixture's Billing Center account (by Ref) to a
// purchase in use, as SeedBinding does.
type FixtureBinding struct {
	BillingAccount  string `json:"billingAccount"`
	HuaweiAccountID string `json:"huaweiAccountId"`
	InstanceID      string `json:"instanceId"`
}

// FixtureResult is what applying a fixture made: the IDs the mock gave
// the entries named by Ref, the workspaces' IDs in fixture order and a
// token per binding (in clear, as POST /_mock/bindings answers it).
type FixtureResult struct {
	BillingAccounts map[string]string `json:"billingAccounts"`
	Accounts        map[string]string `json:"accounts"`
	Workspaces      []string          `json:"workspaces"`
	Bindings        []SeededBinding   `json:"bindings"`
}

// FixtureError says where a fixture is wrong: Pointer is a JSON pointer
// (RFC 6901) to the value, such as "/accounts/2/email" ("" for the whole
// document), and Reason why. It never holds a secret key or token.
type FixtureError struct {
	Pointer string
	Reason  string
	err     error
}

func (e *FixtureError) Error() string {
	at := e.Pointer
	if at == "" {
		at = "the document"
	}
	return "mockserver: invalid fixture at " + at + ": " + e.Reason
}

// Unwrap returns the seeding error behind the refusal, if any.
func (e *FixtureError) Unwrap() error { return e.err }

// fieldError names the field of a seed that an error is about, so that a
// fixture's error can point at it; its message is the error's.
type fieldError struct {
	field string // dotted: "settlement.instanceId", "keys.0.ak"
	err   error
}

func (e *fieldError) Error() string { return e.err.Error() }
func (e *fieldError) Unwrap() error { return e.err }

func atField(field string, err error) error { return &fieldError{field: field, err: err} }

// DecodeFixture reads a fixture from JSON, strictly: one object, keys
// spelled exactly and given once, no unknown keys, no null, values of the
// right type, "version" FixtureVersion. Its error is a *FixtureError.
// Whether the entries can be applied (formats, references, uniqueness) is
// checked when they are (WithFixture, LoadFixture).
func DecodeFixture(data []byte) (Fixture, error) {
	var syntax any
	if err := json.Unmarshal(data, &syntax); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			line, col := lineCol(data, se.Offset)
			return Fixture{}, &FixtureError{Reason: fmt.Sprintf("malformed JSON at line %d, column %d: %s", line, col, se.Error())}
		}
		return Fixture{}, &FixtureError{Reason: "malformed JSON: " + err.Error()}
	}
	obj, ok := syntax.(map[string]any)
	if !ok {
		return Fixture{}, &FixtureError{Reason: "a fixture is a JSON object"}
	}
	switch v, ok := obj["version"]; {
	case !ok:
		return Fixture{}, &FixtureError{Pointer: "/version", Reason: fmt.Sprintf("is required: this mock reads version %d", FixtureVersion)}
	case v != float64(FixtureVersion):
		return Fixture{}, &FixtureError{Pointer: "/version", Reason: fmt.Sprintf("version %s is not supported: this mock reads version %d",
			compactJSON(v), FixtureVersion)}
	}
	if fe := walkStrict(data, reflect.TypeFor[Fixture](), ""); fe != nil {
		return Fixture{}, fe
	}
	var f Fixture
	if err := json.Unmarshal(data, &f); err != nil {
		return Fixture{}, &FixtureError{Reason: err.Error()}
	}
	return f, nil
}

// ReadFixture reads a fixture from r (DecodeFixture).
func ReadFixture(r io.Reader) (Fixture, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return Fixture{}, fmt.Errorf("mockserver: reading the fixture: %w", err)
	}
	return DecodeFixture(data)
}

// WithFixture makes the server start with f applied (after the demo
// fixture unless WithoutDemoFixture); Reset goes back to it. New fails,
// with a *FixtureError, if f cannot be applied.
func WithFixture(f Fixture) Option {
	return func(cfg *config) error {
		cfg.fixture = &f
		return nil
	}
}

// WithFixtureFile is WithFixture with the fixture read from a JSON file
// (DecodeFixture); the error names the file.
func WithFixtureFile(path string) Option {
	return func(cfg *config) error {
		data, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("mockserver: fixture file: %w", err)
		}
		f, err := DecodeFixture(data)
		if err != nil {
			return &fixtureFileError{path: path, err: err}
		}
		cfg.fixture, cfg.fixturePath = &f, path
		return nil
	}
}

// fixtureFileError names the fixture file an error is about.
type fixtureFileError struct {
	path string
	err  error
}

func (e *fixtureFileError) Error() string {
	return "mockserver: fixture file " + e.path + ": " + strings.TrimPrefix(e.err.Error(), "mockserver: ")
}

func (e *fixtureFileError) Unwrap() error { return e.err }

// LoadFixture replaces the state with a fresh one, as Reset does (the demo
// fixture unless WithoutDemoFixture, no faults, an empty journal), with f
// applied, and makes f the fixture Reset goes back to. It is atomic: the
// new state is built aside and swapped in only when every entry applied;
// otherwise nothing changes and the error is a *FixtureError naming the
// entry.
func (s *Server) LoadFixture(f Fixture) (FixtureResult, error) {
	st, ids, res, err := s.buildState(&f)
	if err != nil {
		return FixtureResult{}, err
	}
	if err := s.install(st, ids, &f); err != nil {
		return FixtureResult{}, err
	}
	return res, nil
}

// applyFixture seeds f into s, a scratch server no request sees.
func (s *Server) applyFixture(f *Fixture) (FixtureResult, error) {
	res := FixtureResult{BillingAccounts: map[string]string{}, Accounts: map[string]string{}, Workspaces: []string{}, Bindings: []SeededBinding{}}
	if f.Version != FixtureVersion {
		return res, &FixtureError{Pointer: "/version", Reason: fmt.Sprintf("version %d is not supported: this mock reads version %d", f.Version, FixtureVersion)}
	}
	for i, a := range f.HuaweiAccounts {
		if err := s.AddHuaweiAccount(a); err != nil {
			return res, entryError(fmt.Sprintf("/huaweiAccounts/%d", i), err, nil)
		}
	}
	for i, p := range f.Purchases {
		if _, err := s.AddPurchase(p); err != nil {
			return res, entryError(fmt.Sprintf("/purchases/%d", i), err, nil)
		}
	}
	if err := seedRefs("/billingAccounts", f.BillingAccounts, res.BillingAccounts, func(b FixtureBillingAccount) (string, string, error) {
		out, err := s.SeedBillingAccount(b.BillingAccountSeed)
		return b.Ref, out.ID, err
	}); err != nil {
		return res, err
	}
	if err := seedRefs("/accounts", f.Accounts, res.Accounts, func(a FixtureAccount) (string, string, error) {
		out, err := s.SeedAccount(a.AccountSeed)
		return a.Ref, out.ID, err
	}); err != nil {
		return res, err
	}
	wsFields := map[string]string{"ownerAccountUUID": "owner", "billingAccountUUID": "billingAccount"}
	for i, w := range f.Workspaces {
		at := fmt.Sprintf("/workspaces/%d", i)
		owner, ok := res.Accounts[w.Owner]
		if !ok {
			return res, &FixtureError{Pointer: at + "/owner", Reason: fmt.Sprintf("no console account of the fixture has the ref %q", w.Owner)}
		}
		var bc string
		if w.BillingAccount != "" {
			if bc, ok = res.BillingAccounts[w.BillingAccount]; !ok {
				return res, &FixtureError{Pointer: at + "/billingAccount",
					Reason: fmt.Sprintf("no Billing Center account of the fixture has the ref %q", w.BillingAccount)}
			}
		}
		out, err := s.SeedWorkspace(WorkspaceSeed{OwnerAccountID: owner, Name: w.Name, Language: w.Language, BillingAccountID: bc,
			Settlement: w.Settlement, IsLocked: w.IsLocked, CreateAt: w.CreateAt})
		if err != nil {
			return res, entryError(at, err, wsFields)
		}
		res.Workspaces = append(res.Workspaces, out.ID)
	}
	for i, b := range f.Bindings {
		at := fmt.Sprintf("/bindings/%d", i)
		bc, ok := res.BillingAccounts[b.BillingAccount]
		if !ok {
			return res, &FixtureError{Pointer: at + "/billingAccount",
				Reason: fmt.Sprintf("no Billing Center account of the fixture has the ref %q", b.BillingAccount)}
		}
		var p apierror.Problems
		rules.HuaweiAccountID(&p, "huaweiAccountId", b.HuaweiAccountID)
		rules.InstanceID(&p, "instanceId", b.InstanceID)
		if err := p.Err("SeedBinding"); err != nil {
			return res, entryError(at, err, nil)
		}
		out, err := s.seedBinding(BindingSeed{BillingAccountID: bc, HuaweiAccountID: b.HuaweiAccountID, InstanceID: b.InstanceID})
		if err != nil {
			return res, entryError(at, err, nil)
		}
		out.BillingAccountID = bc
		res.Bindings = append(res.Bindings, out)
	}
	return res, nil
}

// seedRefs seeds entries named by refs, checking each ref before seeding
// its entry, and records the ID each got in ids.
func seedRefs[T any](list string, entries []T, ids map[string]string, seed func(T) (ref, id string, err error)) error {
	for i, e := range entries {
		at := list + "/" + strconv.Itoa(i)
		ref, id, err := seed(e)
		if rerr := checkRef(at, ref, ids); rerr != nil {
			return rerr
		}
		if err != nil {
			return entryError(at, err, nil)
		}
		ids[ref] = id
	}
	return nil
}

// fixtureRef is the form of a Ref.
var fixtureRef = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

func checkRef(at, ref string, seen map[string]string) error {
	switch {
	case !fixtureRef.MatchString(ref):
		return &FixtureError{Pointer: at + "/ref", Reason: "a ref is 1 to 64 letters, digits, '.', '_' and '-', starting with a letter or digit"}
	case seen[ref] != "":
		return &FixtureError{Pointer: at + "/ref", Reason: fmt.Sprintf("the ref %q is given to two entries", ref)}
	}
	return nil
}

// entryError turns a seeding error into a FixtureError pointing at the
// field it is about, when it says which: a validation problem's field, a
// fieldError's, or the field of a name or email taken. rename maps a
// seed's field names to the fixture's.
func entryError(at string, err error, rename map[string]string) error {
	field := ""
	var fe *fieldError
	var ve *apierror.ValidationError
	var te *twError
	switch {
	case errors.As(err, &ve) && len(ve.Problems) > 0:
		field = ve.Problems[0].Field
	case errors.As(err, &fe):
		field = fe.field
	case errors.As(err, &te) && te.code == apierror.CodeUsernameTaken:
		field = "username"
	case errors.As(err, &te) && te.code == apierror.CodeEmailTaken:
		field = "email"
	}
	ptr := at
	if field != "" {
		parts := strings.Split(field, ".")
		if r, ok := rename[parts[0]]; ok {
			parts[0] = r
		}
		for _, p := range parts {
			ptr += "/" + pointerEscape(p)
		}
	}
	return &FixtureError{Pointer: ptr, Reason: strings.TrimPrefix(err.Error(), "mockserver: "), err: err}
}

func pointerEscape(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// walkStrict checks raw, a JSON value decoding into t, as DecodeFixture
// promises, and returns where it first is not.
func walkStrict(raw []byte, t reflect.Type, ptr string) *FixtureError {
	raw = bytes.TrimSpace(raw)
	if string(raw) == "null" {
		return &FixtureError{Pointer: ptr, Reason: "must not be null: leave it out"}
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if fields := jsonFields(t); t.Kind() == reflect.Struct && fields != nil {
		if len(raw) == 0 || raw[0] != '{' {
			return &FixtureError{Pointer: ptr, Reason: "must be an object"}
		}
		optional := optionalFields(t)
		dec := json.NewDecoder(bytes.NewReader(raw))
		_, _ = dec.Token()
		seen := map[string]bool{}
		for dec.More() {
			tok, _ := dec.Token()
			key, _ := tok.(string)
			at := ptr + "/" + pointerEscape(key)
			var v json.RawMessage
			if err := dec.Decode(&v); err != nil {
				return &FixtureError{Pointer: at, Reason: err.Error()}
			}
			if seen[key] {
				return &FixtureError{Pointer: at, Reason: "is given more than once"}
			}
			seen[key] = true
			ft, ok := fields[key]
			if !ok {
				reason := "is not a field here"
				for k := range fields {
					if strings.EqualFold(k, key) {
						reason += fmt.Sprintf(" (field names are case-sensitive: %q)", k)
					}
				}
				return &FixtureError{Pointer: at, Reason: reason}
			}
			if fe := walkStrict(v, ft, at); fe != nil {
				return fe
			}
			if optional[key] && isEmptyValue(v, ft) {
				return &FixtureError{Pointer: at, Reason: "is empty: leave it out to take the default"}
			}
		}
		return nil
	}
	if t.Kind() == reflect.Slice {
		if len(raw) == 0 || raw[0] != '[' {
			return &FixtureError{Pointer: ptr, Reason: "must be an array"}
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		_, _ = dec.Token()
		for i := 0; dec.More(); i++ {
			var v json.RawMessage
			if err := dec.Decode(&v); err != nil {
				return &FixtureError{Pointer: ptr + "/" + strconv.Itoa(i), Reason: err.Error()}
			}
			if fe := walkStrict(v, t.Elem(), ptr+"/"+strconv.Itoa(i)); fe != nil {
				return fe
			}
		}
		return nil
	}
	if err := json.Unmarshal(raw, reflect.New(t).Interface()); err != nil {
		return &FixtureError{Pointer: ptr, Reason: leafReason(t, err)}
	}
	return nil
}

// optionalFields are the JSON names of t's fields (embedded structs'
// included) that are left out when empty (omitempty, omitzero): given
// empty, they would silently take their default, so a fixture must leave
// them out instead. Booleans are exempt: false is a meaningful value to
// write.
func optionalFields(t reflect.Type) map[string]bool {
	out := map[string]bool{}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			for k, v := range optionalFields(f.Type) {
				out[k] = v
			}
			continue
		}
		if name == "" {
			name = f.Name
		}
		if f.Type.Kind() != reflect.Bool && (strings.Contains(opts, "omitempty") || strings.Contains(opts, "omitzero")) {
			out[name] = true
		}
	}
	return out
}

// isEmptyValue reports whether raw decodes into t's zero value.
func isEmptyValue(raw []byte, t reflect.Type) bool {
	v := reflect.New(t)
	if json.Unmarshal(raw, v.Interface()) != nil {
		return false
	}
	e := v.Elem()
	if e.Kind() == reflect.Slice {
		return false // an empty list is a list with nothing in it
	}
	return e.IsZero()
}

// leafReason says why a value does not decode into t.
func leafReason(t reflect.Type, err error) string {
	switch {
	case t == reflect.TypeFor[time.Time]():
		return "must be an RFC 3339 time such as 2027-01-01T00:00:00Z"
	case t == reflect.TypeFor[twapi.Timestamp]():
		return "must be a number of Unix seconds"
	}
	var ute *json.UnmarshalTypeError
	if errors.As(err, &ute) {
		want := map[reflect.Kind]string{reflect.String: "a string", reflect.Bool: "true or false", reflect.Int: "an integer",
			reflect.Int64: "an integer", reflect.Float64: "a number"}[t.Kind()]
		if want == "" {
			want = "a " + t.Kind().String()
		}
		return fmt.Sprintf("must be %s, not %s", want, ute.Value)
	}
	return err.Error()
}

func lineCol(data []byte, off int64) (int, int) {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	before := data[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	return line, int(off) - bytes.LastIndexByte(before, '\n')
}

func compactJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil || len(b) > 40 {
		return "given"
	}
	return string(b)
}

// fixtureRoutes are the control endpoints of fixtures.
func (s *Server) fixtureRoutes() []controlRoute {
	return []controlRoute{
		{ControlEndpoint{http.MethodPost, "/_mock/fixture",
			"replace the state with a fresh one (as reset) and the fixture in the body applied, atomically; answers the IDs and tokens made"},
			func(w http.ResponseWriter, r *http.Request) {
				body, err := io.ReadAll(r.Body)
				if err != nil {
					controlBodyError(w, err)
					return
				}
				f, err := DecodeFixture(body)
				if err != nil {
					controlError(w, http.StatusBadRequest, err)
					return
				}
				res, err := s.LoadFixture(f)
				var fe *FixtureError
				var ce *conflictError
				switch {
				case err != nil && !errors.As(err, &fe) && errors.As(err, &ce):
					// An access key of another namespace (install).
					controlError(w, http.StatusConflict, err)
					return
				case err != nil:
					controlError(w, http.StatusBadRequest, err)
					return
				}
				writeJSON(w, http.StatusOK, res)
			}},
		{ControlEndpoint{http.MethodGet, "/_mock/fixture.schema.json", "the JSON Schema (draft 2020-12) of fixtures"},
			func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/schema+json")
				_, _ = w.Write(fixtureSchema)
			}},
	}
}
