package truewatch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/huawei"
	"github.com/truewatch-labs/marketplace-go/internal/telemetry"
	"github.com/truewatch-labs/marketplace-go/retry"
	"github.com/truewatch-labs/marketplace-go/secret"
	"github.com/truewatch-labs/marketplace-go/site"
)

// DefaultMaxCodeAttempts is how many times a step asks the CodeProvider for
// a verification code before giving up with a *CodeError.
const DefaultMaxCodeAttempts = 3

// resendInterval is how long the Billing Center refuses a new code for the
// same email and purpose; waited when a send was refused as too soon
// without a Retry-After.
const resendInterval = 60 * time.Second

// codeLifetime is how long a verification code works after it was sent
// (api/openapi.yaml, sendVerificationCode).
const codeLifetime = 10 * time.Minute

// Clock tells the activation what time it is (WithClock).
//
// A Clock that also has a method Sleep(ctx context.Context, d
// time.Duration) error, as *mockserver.ManualClock has, also does the
// activation's waits: for a verification code to be sendable again, and
// between the retries of the clients the builder makes. Giving the mock's
// ManualClock to both the mock and the activation keeps the two on one
// time, every wait moving it on at once.
//
// Tests rarely need a Clock: run them in a testing/synctest bubble (with a
// mock server built mockserver.WithoutListener), and every wait, of the
// activation, its clients and the mock alike, passes at once in the
// bubble's fake time, with nothing injected.
type Clock interface{ Now() time.Time }

// sleeper is a Clock that also waits.
type sleeper interface {
	Sleep(ctx context.Context, d time.Duration) error
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// RegisterInfo is what registering a new Billing Center account needs: the
// basic and enterprise information and the first workspace. Registration
// creates a TrueWatch account and a Billing Center account, creates the
// workspace on the activation's site and binds it to the subscription.
type RegisterInfo struct {
	// Basic information.
	Username string
	Password secret.String
	// PasswordConfirm, when set, must equal Password.
	PasswordConfirm secret.String
	Email           string
	Phone           string // optional
	// Enterprise information.
	Company billing.Company
	// Activation.
	WorkspaceName     string
	WorkspaceLanguage Language
	TermsAccepted     bool
}

// CreateWorkspaceInfo creates a workspace for an existing TrueWatch account
// on the activation's site, after binding the Billing Center account.
type CreateWorkspaceInfo struct {
	Name     string
	Language Language
	// Email is the email the TrueWatch account registered with; it receives
	// a verification code.
	Email         string
	TermsAccepted bool
}

// NewAccountInfo registers a new TrueWatch account on the activation's site
// and creates its first workspace, after binding the Billing Center account.
type NewAccountInfo struct {
	WorkspaceName     string
	WorkspaceLanguage Language
	Username          string
	Password          secret.String
	PasswordConfirm   secret.String
	Email             string
	Phone             string // optional
	TermsAccepted     bool
}

// Activation is a fluent, immutable builder for the activation of a
// TrueWatch subscription bought on Huawei Cloud Marketplace. Each With…
// (or branch) method returns a new builder with its input recorded (and
// any problem with it noted), leaving the receiver as it was: one base
// builder can be shared, also between goroutines, and branched into many
// activations that never see each other's settings:
//
//	base := truewatch.NewActivation().WithBillingURL(url).WithCodes(codes)
//	us := base.WithSite(truewatch.SiteUS1).Register(info)
//	eu := base.WithSite(truewatch.SiteEU1).BindBillingAccount("ada", email).CreateWorkspace(ws)
//
// Builders derived from one another share only what is given by reference:
// a Store (and the default in-memory store NewActivation makes, so that
// twin runs of one activation meet its lease), the clients, the HTTP
// client, the code provider, the event function and the logger.
//
// Nothing touches the network until Plan or Run, and Plan and Run refuse
// the builder with one *apierror.ValidationError listing every problem.
//
// The branch methods (Register, or BindBillingAccount and a workspace
// choice) say how to activate. With none, the activation only checks
// (BranchCheck): Run succeeds when the subscription is already activated
// and otherwise fails with a *NeedsBranchError, changing nothing.
//
// Plan and Run may be called any number of times, also concurrently; a
// Plan can itself be run (Plan.Run), without repeating its look-ups.
type Activation struct {
	problems apierror.Problems

	// Clients, given or built.
	billingAPI     billingAPI
	workspaceAPI   workspaceAPI
	huaweiAPI      huaweiAPI
	billingURL     string
	endpoints      *site.Endpoints
	huaweiEndpoint string
	huaweiAK       string
	huaweiSK       secret.String
	huaweiToken    secret.String
	huaweiFromEnv  bool // credentials from the environment were asked for
	// huaweiDomain is the account ID HUAWEICLOUD_SDK_DOMAIN_ID gave
	// (WithHuaweiCredentialsFromEnv).
	huaweiDomain string
	httpClient   *http.Client
	retryPolicy  *retry.Policy
	prover       OwnershipProver
	link         *billing.ActivationLink
	audience     string
	telemetry    telemetry.Providers

	// Identity.
	accountID  string
	instanceID string
	site       Site
	siteSet    bool

	// Branch.
	register    *RegisterInfo
	bindAccount *bindAccountInfo
	wsChoices   []string // the workspace selectors called, for contradiction checks
	bindWSID    string
	bindWSName  string
	create      *CreateWorkspaceInfo
	newAccount  *NewAccountInfo

	// Behaviour.
	codes           CodeProvider
	store           Store
	events          func(Event)
	log             *slog.Logger
	clock           Clock
	maxCodeAttempts int
	leaseOwner      string
	leaseTTL        time.Duration
	leaseWait       time.Duration

	// twMade and hwMade are the clients the builder made (see made).
	twMade, hwMade *made

	// mem is the in-memory store used when WithStore was not called: one
	// for NewActivation and every builder derived from it, made on first
	// use.
	mem *lazyStore
}

// lazyStore is a MemoryStore made on first use.
type lazyStore struct {
	once sync.Once
	s    *MemoryStore
}

func (l *lazyStore) get() *MemoryStore {
	l.once.Do(func() { l.s = NewMemoryStore() })
	return l.s
}

type bindAccountInfo struct {
	username string
	email    string
}

// NewActivation returns an empty builder: an in-memory store, the system
// clock, no logging, DefaultMaxCodeAttempts. The zero Activation is the
// same, but each builder derived from a zero one by a With… call has an
// in-memory store of its own.
func NewActivation() *Activation { return &Activation{mem: &lazyStore{}} }

// with returns a copy of a changed by fn, with none of the clients a
// made: every With… and branch method is one (or derive, which keeps
// them), so that the receiver never changes.
func (a *Activation) with(fn func(c *Activation)) *Activation { return a.derive(keepNone, fn) }

// keep says which of the clients a builder made a derived builder keeps:
// those its change does not touch.
type keep uint8

const (
	keepNone      keep = 0
	keepTrueWatch keep = 1 << iota // the billing and workspace clients
	keepHuawei                     // the Huawei client
	keepClients   = keepTrueWatch | keepHuawei
)

// derive is with, keeping the clients k names. The copy shares nothing fn
// may change: the slices it appends to are clipped (an append copies), and
// the pointer fields are replaced, never written through.
func (a *Activation) derive(k keep, fn func(c *Activation)) *Activation {
	var c Activation
	if a != nil {
		c = *a
	}
	c.problems = slices.Clip(c.problems)
	c.wsChoices = slices.Clip(c.wsChoices)
	if c.mem == nil {
		c.mem = &lazyStore{}
	}
	if k&keepTrueWatch == 0 || c.twMade == nil {
		c.twMade = &made{}
	}
	if k&keepHuawei == 0 || c.hwMade == nil {
		c.hwMade = &made{}
	}
	fn(&c)
	return &c
}

// logger is the configured logger, or one that discards.
func (a *Activation) logger() *slog.Logger {
	if a.log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return a.log
}

// now is the configured clock, or the system's.
func (a *Activation) now() Clock {
	if a.clock == nil {
		return systemClock{}
	}
	return a.clock
}

// sleeper is how the activation waits: the clock's Sleep, else nil (a
// timer that stops when the context is done).
func (a *Activation) sleeper() func(context.Context, time.Duration) error {
	if s, ok := a.clock.(sleeper); ok {
		return s.Sleep
	}
	return nil
}

// codeAttempts is the configured number of codes a step asks for.
func (a *Activation) codeAttempts() int {
	if a.maxCodeAttempts < 1 {
		return DefaultMaxCodeAttempts
	}
	return a.maxCodeAttempts
}

// checkpoints is the configured store, or the in-memory one shared by the
// builders derived from one NewActivation, and by their Plans and Runs.
func (a *Activation) checkpoints() Store {
	if a.store != nil {
		return a.store
	}
	if a.mem == nil {
		return NewMemoryStore() // a zero Activation, never derived
	}
	return a.mem.get()
}

// problem returns a copy of a with a problem noted.
func (a *Activation) problem(field, format string, args ...any) *Activation {
	return a.derive(keepClients, func(c *Activation) { c.problems.Add(field, format, args...) })
}

// WithBillingURL sets the Billing Center base URL; the builder makes the
// billing client from it (with WithHTTPClient, WithRetryPolicy, WithLogger).
func (a *Activation) WithBillingURL(url string) *Activation {
	if url == "" {
		return a.problem("billingURL", "is empty")
	}
	return a.derive(keepHuawei, func(c *Activation) { c.billingURL = url })
}

// WithSiteEndpoints sets where each site's services are (site.UnderBase for
// the mock server); the builder makes the workspace client from it. Without
// it the public TrueWatch hosts are used.
func (a *Activation) WithSiteEndpoints(e site.Endpoints) *Activation {
	return a.derive(keepHuawei, func(c *Activation) { c.endpoints = &e })
}

// WithHuaweiEndpoint points every Huawei service (IAM, BSS) at url, for the
// mock server. It applies to the Huawei client the builder makes.
func (a *Activation) WithHuaweiEndpoint(url string) *Activation {
	if url == "" {
		return a.problem("huaweiEndpoint", "is empty")
	}
	return a.derive(keepTrueWatch, func(c *Activation) { c.huaweiEndpoint = url })
}

// WithHuaweiCredentials sets the Huawei Cloud access key the builder's
// Huawei client signs with: to look up the account ID (IAM) and the
// instance ID (BSS) when they are not given, and to prove to the Billing
// Center that the caller controls the account (see OwnershipProver). The
// secret key never leaves the process.
func (a *Activation) WithHuaweiCredentials(ak string, sk secret.String) *Activation {
	if ak == "" || sk.IsZero() {
		return a.problem("huaweiCredentials", "access key and secret key are required")
	}
	return a.derive(keepTrueWatch, func(c *Activation) { c.huaweiAK, c.huaweiSK = ak, sk })
}

// WithHuaweiSecurityToken adds the security token of temporary Huawei
// credentials.
func (a *Activation) WithHuaweiSecurityToken(token secret.String) *Activation {
	return a.derive(keepTrueWatch, func(c *Activation) { c.huaweiToken = token })
}

// WithHuaweiCredentialsFromEnv reads the Huawei credentials from the
// environment when it is called, as huawei.WithCredentialsFromEnv does:
// HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK (both required), and when set
// HUAWEICLOUD_SDK_SECURITY_TOKEN and HUAWEICLOUD_SDK_DOMAIN_ID (the
// account ID, which is then not looked up through IAM by the Huawei
// client). Reading them here, not at Run, keeps a builder what it was when
// made.
func (a *Activation) WithHuaweiCredentialsFromEnv() *Activation {
	ak, sk := os.Getenv(huawei.EnvAccessKey), secret.String(os.Getenv(huawei.EnvSecretKey))
	return a.derive(keepTrueWatch, func(c *Activation) {
		c.huaweiFromEnv = true
		if ak == "" || sk.IsZero() {
			c.problems.Add("huaweiCredentials", "%s and %s must both be set in the environment", huawei.EnvAccessKey, huawei.EnvSecretKey)
			return
		}
		c.huaweiAK, c.huaweiSK = ak, sk
		c.huaweiToken = secret.String(os.Getenv(huawei.EnvSecurityToken))
		c.huaweiDomain = os.Getenv(huawei.EnvDomainID)
	})
}

// OwnershipProver proves to the Billing Center that the caller controls the
// Huawei account being activated; it is billing.OwnershipProver,
// re-exported. The Huawei client the builder makes from Huawei credentials
// (or the one given with WithHuaweiClient) is the prover unless
// WithOwnershipProver names another.
type OwnershipProver = billing.OwnershipProver

// WithOwnershipProver sets how the activation proves ownership of the
// Huawei account: a prover of your own, for proofs that do not come from
// AK/SK credentials in this process (a signing service; for the
// marketplace's activation link, use WithActivationLink). By default the
// Huawei client signs the
// proofs. Without either, Plan still reads what it can, and Run refuses any
// change with an *OwnershipProofError.
func (a *Activation) WithOwnershipProver(p OwnershipProver) *Activation {
	if p == nil {
		return a.problem("ownershipProver", "is nil")
	}
	return a.derive(keepClients, func(c *Activation) { c.prover = p })
}

// WithActivationLink proves ownership of the Huawei account with the
// marketplace's activation link, for a buyer without Huawei credentials:
// the front-end URL TrueWatch answered KooGallery's newInstance with, which
// Huawei Cloud's Purchased Services shows the buyer ("Start using"). It
// also gives the Huawei account ID and the instance ID the link is for, so
// nothing is looked up through Huawei. The link works for that instance
// only, until it expires, and for one activation: the first register or
// bind of a Billing Center account uses it up; after it the link still
// reads the subscription and binds that same Billing Center account again
// (so an interrupted activation finishes), and nothing else. See
// billing.ActivationLink; the token is a secret and never printed or
// logged. It excludes WithOwnershipProver.
func (a *Activation) WithActivationLink(link string) *Activation {
	l, err := billing.ParseActivationLink(link)
	var ve *apierror.ValidationError
	switch {
	case errors.As(err, &ve):
		return a.derive(keepClients, func(c *Activation) {
			for _, p := range ve.Problems {
				c.problems.Add(p.Field, "%s", p.Message)
			}
		})
	case err != nil:
		return a.problem("activationLink", "%v", err)
	}
	return a.derive(keepClients, func(c *Activation) { c.link = l })
}

// WithAudience sets the audience the proofs of ownership name, for the
// billing client the builder makes (see billing.WithAudience): by default
// the Billing Center URL given to WithBillingURL.
func (a *Activation) WithAudience(audience string) *Activation {
	if audience == "" {
		return a.problem("audience", "is empty")
	}
	return a.derive(keepHuawei, func(c *Activation) { c.audience = audience })
}

// WithHTTPClient sets the HTTP client of the clients the builder makes.
func (a *Activation) WithHTTPClient(hc *http.Client) *Activation {
	if hc == nil {
		return a.problem("httpClient", "is nil")
	}
	return a.with(func(c *Activation) { c.httpClient = hc })
}

// WithRetryPolicy sets the retry policy of the clients the builder makes.
// Unless the policy has its own Sleep, they wait through the activation's
// clock when it sleeps (WithClock).
func (a *Activation) WithRetryPolicy(p retry.Policy) *Activation {
	return a.with(func(c *Activation) { c.retryPolicy = &p })
}

// WithHuaweiAccountID gives the Huawei Cloud account ID (32 lower-case hex
// characters, Huawei console: My Credentials > Account ID), so it is not
// looked up through IAM.
func (a *Activation) WithHuaweiAccountID(id string) *Activation {
	return a.derive(keepTrueWatch, func(c *Activation) {
		c.accountID = id
		if id == "" {
			c.problems.Add("huaweiAccountId", "is empty (leave it out to look it up)")
		}
	})
}

// WithInstanceID gives the marketplace instance ID (Purchased Services >
// Resource Details), so it is not looked up among the purchases.
func (a *Activation) WithInstanceID(id string) *Activation {
	return a.derive(keepClients, func(c *Activation) {
		c.instanceID = id
		if id == "" {
			c.problems.Add("instanceId", "is empty (leave it out to look it up)")
		}
	})
}

// WithSite chooses the TrueWatch site of the workspace. It is required
// with a branch: a workspace's site is chosen once and never changes. A
// check (no branch) may leave it out; the Result then carries the site of
// the settled workspace.
func (a *Activation) WithSite(s Site) *Activation {
	return a.derive(keepClients, func(c *Activation) { c.site, c.siteSet = s, true })
}

// Register chooses the branch for a subscription with no Billing Center
// account: register one (with a TrueWatch account and the first workspace).
// It contradicts BindBillingAccount. A subscription that is already
// activated is left as it is.
func (a *Activation) Register(info RegisterInfo) *Activation {
	return a.derive(keepClients, func(c *Activation) {
		if c.register != nil && *c.register != info {
			c.problems.Add("register", "Register was called twice with different information; call it once")
		}
		c.register = &info
	})
}

// BindBillingAccount chooses the branch for an existing Billing Center
// account: bind it, by username, after verifying its registered email. One
// of BindWorkspaceByID, BindWorkspaceByName, CreateWorkspace or
// RegisterAndCreateWorkspace must then say which workspace to bind. When
// the account is already bound but no workspace is settled, the activation
// continues with the workspace step.
func (a *Activation) BindBillingAccount(username, email string) *Activation {
	info := bindAccountInfo{username: username, email: email}
	return a.derive(keepClients, func(c *Activation) {
		if c.bindAccount != nil && *c.bindAccount != info {
			c.problems.Add("bindBillingAccount", "BindBillingAccount was called twice with different accounts; call it once")
		}
		c.bindAccount = &info
	})
}

// BindWorkspaceByID binds an existing workspace of the Billing Center
// account, by ID. It must be on the activation's site.
func (a *Activation) BindWorkspaceByID(id string) *Activation {
	return a.derive(keepClients, func(c *Activation) {
		if slices.Contains(c.wsChoices, "BindWorkspaceByID") && c.bindWSID != id {
			c.problems.Add("bindWorkspaceById", "BindWorkspaceByID was called twice with different IDs; call it once")
		}
		c.wsChoices = append(c.wsChoices, "BindWorkspaceByID")
		c.bindWSID = id
	})
}

// BindWorkspaceByName binds the existing workspace of the Billing Center
// account with this name on the activation's site.
func (a *Activation) BindWorkspaceByName(name string) *Activation {
	return a.derive(keepClients, func(c *Activation) {
		if slices.Contains(c.wsChoices, "BindWorkspaceByName") && c.bindWSName != name {
			c.problems.Add("bindWorkspaceByName", "BindWorkspaceByName was called twice with different names; call it once")
		}
		c.wsChoices = append(c.wsChoices, "BindWorkspaceByName")
		c.bindWSName = name
	})
}

// CreateWorkspace creates a workspace for an existing TrueWatch account.
func (a *Activation) CreateWorkspace(info CreateWorkspaceInfo) *Activation {
	return a.derive(keepClients, func(c *Activation) {
		if c.create != nil && *c.create != info {
			c.problems.Add("createWorkspace", "CreateWorkspace was called twice with different information; call it once")
		}
		c.wsChoices = append(c.wsChoices, "CreateWorkspace")
		c.create = &info
	})
}

// RegisterAndCreateWorkspace registers a new TrueWatch account and creates
// its first workspace.
func (a *Activation) RegisterAndCreateWorkspace(info NewAccountInfo) *Activation {
	return a.derive(keepClients, func(c *Activation) {
		if c.newAccount != nil && *c.newAccount != info {
			c.problems.Add("registerAndCreateWorkspace", "RegisterAndCreateWorkspace was called twice with different information; call it once")
		}
		c.wsChoices = append(c.wsChoices, "RegisterAndCreateWorkspace")
		c.newAccount = &info
	})
}

// WithCodes sets where verification codes come from: PromptCodes,
// CodesFromOutbox, or your own CodeProvider. Required with a branch; a
// check (no branch) sends no code.
func (a *Activation) WithCodes(p CodeProvider) *Activation {
	if p == nil {
		return a.problem("codes", "provider is nil")
	}
	return a.derive(keepClients, func(c *Activation) { c.codes = p })
}

// WithStore sets where progress is checkpointed and leases are kept
// (default: in memory). Give the same store (a FileStore, a database store,
// or your own that passes storetest.Run) to a later Run, or to the Runs of
// other processes, to resume and to keep them apart.
func (a *Activation) WithStore(s Store) *Activation {
	if s == nil {
		return a.problem("store", "is nil")
	}
	return a.derive(keepClients, func(c *Activation) { c.store = s })
}

// WithLeaseOwner names the owner of the leases Run claims (see Store), for
// people reading a *LeaseHeldError or the store: a worker's name, say. The
// default is the host name, the process ID and a random suffix. Two Runs
// never share a lease, whatever their owner's name.
func (a *Activation) WithLeaseOwner(owner string) *Activation {
	if owner == "" {
		return a.problem("leaseOwner", "is empty")
	}
	return a.derive(keepClients, func(c *Activation) { c.leaseOwner = owner })
}

// WithLeaseTTL sets how long Run's lease lasts unless renewed (default
// DefaultLeaseTTL); Run renews it every third of ttl. After a crash, another
// run can take the activation over once ttl has passed.
func (a *Activation) WithLeaseTTL(ttl time.Duration) *Activation {
	if ttl < 10*time.Millisecond {
		return a.problem("leaseTTL", "must be at least 10ms, not %s", ttl)
	}
	return a.derive(keepClients, func(c *Activation) { c.leaseTTL = ttl })
}

// WithLeaseWait makes Run wait up to d for a lease another run holds,
// instead of failing at once with a *LeaseHeldError (the default). A run of
// the same activation with the same Store holds it: with a wait, the
// second run starts once the first released the lease, finds its work in
// the checkpoint and the subscription, and succeeds with the same
// workspace.
func (a *Activation) WithLeaseWait(d time.Duration) *Activation {
	if d < 0 {
		return a.problem("leaseWait", "is negative")
	}
	return a.derive(keepClients, func(c *Activation) { c.leaseWait = d })
}

// WithEvents reports progress to fn: steps started, finished, failed and
// skipped, retries with their reason and wait, code requests. fn is called
// synchronously from Run.
func (a *Activation) WithEvents(fn func(Event)) *Activation {
	return a.derive(keepClients, func(c *Activation) { c.events = fn })
}

// WithLogger logs the activation's progress (and, for the clients the
// builder makes, their calls) to l. Secrets are never logged.
func (a *Activation) WithLogger(l *slog.Logger) *Activation {
	if l == nil {
		return a.problem("logger", "is nil")
	}
	return a.with(func(c *Activation) { c.log = l })
}

// WithClock sets the clock used to decide how long to wait before a new
// verification code may be sent. A clock with a Sleep method (see Clock),
// such as the mock's *mockserver.ManualClock, also does every wait of the
// activation and of the clients the builder makes, moving the clock on
// instead of sleeping.
func (a *Activation) WithClock(clk Clock) *Activation {
	if clk == nil {
		return a.problem("clock", "is nil")
	}
	return a.with(func(c *Activation) { c.clock = clk })
}

// WithMaxCodeAttempts sets how many codes a step asks for before giving up
// (default DefaultMaxCodeAttempts).
func (a *Activation) WithMaxCodeAttempts(n int) *Activation {
	if n < 1 {
		return a.problem("maxCodeAttempts", "must be at least 1")
	}
	return a.derive(keepClients, func(c *Activation) { c.maxCodeAttempts = n })
}

// String describes the activation's identity and branch without any secret,
// so that printing an Activation (%v, %+v, %#v) never reveals a password,
// secret key or token.
func (a *Activation) String() string {
	if a == nil {
		return "truewatch.Activation(nil)"
	}
	return fmt.Sprintf("truewatch.Activation{site: %s, branch: %s, huaweiAccountID: %s, instanceID: %s, problems: %d}",
		a.site, a.branch(), a.accountID, a.instanceID, len(a.problems))
}

// GoString is String, for %#v.
func (a *Activation) GoString() string { return a.String() }
