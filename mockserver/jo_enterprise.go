package mockserver

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/truewatch-labs/marketplace-go/apierror"
	"github.com/truewatch-labs/marketplace-go/koogallery"
)

// The buyer's console of the joint service: enterprises, departments,
// members and their authorization. Every method checks everything before
// it changes anything, so a refused call changes nothing and sends
// nothing; a change the vendor must know of is delivered (jo_sync.go)
// before the method returns, or queued behind the enterprise's earlier
// calls.

// CreateEnterprise creates an enterprise for a joint-operation purchase
// (ErrUnknownHuaweiAccount, ErrUnknownInstance; a purchase not in use is
// ErrNotAllowed; a domain or abbreviation taken, or a purchase that has an
// enterprise, a conflict). It starts activating, and becomes active after
// WithEnterpriseActivation on the mock's clock (AdvanceClock runs it),
// when the vendor is sent tenantSync, applicationSync and allOrgSync. It
// starts with its root department and the application, whose credentials
// EnterpriseApplication reads.
func (s *Server) CreateEnterprise(ctx context.Context, req EnterpriseRequest) (Enterprise, error) {
	if ctx == nil {
		return Enterprise{}, errors.New("mockserver: nil context")
	}
	if err := req.validate(); err != nil {
		return Enterprise{}, err
	}
	s.catchUp(ctx)
	s.mu.Lock()
	e, err := s.newEnterpriseLocked(req)
	if err != nil {
		s.mu.Unlock()
		return Enterprise{}, err
	}
	now := s.Now()
	var first *deliveryJob
	if s.cfg.activation == 0 {
		first = s.activateLocked(e.pub.TenantID, now)
	} else {
		s.scheduleLocked(dueEvent{at: e.pub.ActiveAt, enterprise: e.pub.TenantID})
	}
	s.mu.Unlock()
	s.deliverKit(ctx, now, first)
	return s.enterpriseOr(e)
}

// enterpriseOr reads e's public record.
func (s *Server) enterpriseOr(e *enterprise) (Enterprise, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.publicEnterpriseLocked(e), nil
}

func (s *Server) newEnterpriseLocked(req EnterpriseRequest) (*enterprise, error) {
	j := &s.st.joint
	acc := s.st.huawei.accounts[req.HuaweiAccountID]
	p := s.st.huawei.byInst[req.InstanceID]
	switch {
	case acc == nil:
		return nil, fmt.Errorf("%w %s", ErrUnknownHuaweiAccount, req.HuaweiAccountID)
	case p == nil || p.AccountID != req.HuaweiAccountID:
		return nil, fmt.Errorf("%w %s of Huawei account %s", ErrUnknownInstance, req.InstanceID, req.HuaweiAccountID)
	case p.Status != PurchaseInUse:
		return nil, fmt.Errorf("%w: purchase %s is %s, not in use", ErrNotAllowed, req.InstanceID, p.Status)
	case j.byInstance[req.InstanceID] != "":
		return nil, conflictf("mockserver: purchase %s has an enterprise already (%s)", req.InstanceID, j.byInstance[req.InstanceID])
	case j.byDomain[req.Domain] != "":
		return nil, conflictf("mockserver: the domain %s is taken", req.Domain)
	case j.byAbbr[fold(req.Abbreviation)] != "":
		return nil, conflictf("mockserver: the abbreviation %s is taken", req.Abbreviation)
	}
	now := s.Now().UTC()
	id := s.ids.hex32("tenant")
	e := &enterprise{pub: Enterprise{TenantID: id, HuaweiAccountID: req.HuaweiAccountID, InstanceID: req.InstanceID,
		OrderID: p.OrderID, Name: req.Name, Domain: req.Domain, Abbreviation: req.Abbreviation,
		Status: EnterpriseActivating, CreatedAt: now, ActiveAt: now.Add(s.cfg.activation)},
		members: map[string]*member{}, depts: map[string]*Department{}, kit: &kitQueue{}}
	e.depts[RootDepartment] = &Department{OrgCode: RootDepartment, Name: req.Name}
	e.dOrder = []string{RootDepartment}
	e.app = Application{AppID: s.ids.hex32("app"), TenantID: id, ClientID: s.ids.hex32("client"),
		ClientSecret: newClientSecret(), RedirectURIs: s.redirectURIs(), SignInURL: s.signInURL()}
	j.enterprises[id] = e
	j.order = append(j.order, id)
	j.byDomain[req.Domain] = id
	j.byAbbr[fold(req.Abbreviation)] = id
	j.byInstance[req.InstanceID] = id
	return e, nil
}

// newClientSecret is an application's client secret: 64 hex characters
// from crypto/rand.
func newClientSecret() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

// activationDueLocked says whether tenant's activation at at is still
// pending.
func (s *Server) activationDueLocked(tenant string, at time.Time) bool {
	e := s.st.joint.enterprises[tenant]
	return e != nil && e.pub.Status == EnterpriseActivating && e.pub.ActiveAt.Equal(at)
}

// activateLocked makes an enterprise active and queues what the vendor is
// told: tenantSync, applicationSync and allOrgSync. It returns the first
// delivery to make.
func (s *Server) activateLocked(tenant string, at time.Time) *deliveryJob {
	e := s.st.joint.enterprises[tenant]
	if e == nil || e.pub.Status != EnterpriseActivating {
		return nil
	}
	e.pub.Status, e.pub.ActiveAt = EnterpriseActive, at.UTC()
	first := s.kitJobLocked(e, s.tenantEvent(e, koogallery.FlagAdd))
	if ev, err := s.applicationEvent(e, koogallery.FlagAdd); err == nil {
		s.kitJobLocked(e, ev)
	}
	s.kitJobLocked(e, s.allOrgEvent(e))
	return first
}

// publicEnterpriseLocked is e as the console shows it.
func (s *Server) publicEnterpriseLocked(e *enterprise) Enterprise {
	out := e.pub
	out.IdentityProvider = s.idpBase(e.pub.Domain)
	out.LoginURL = out.IdentityProvider + idpPortalPath + "?" + url.Values{"appId": {e.app.AppID}}.Encode()
	out.Members, out.Departments = len(e.members), len(e.depts)
	return out
}

// Enterprises lists every enterprise, oldest first.
func (s *Server) Enterprises() []Enterprise {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []Enterprise{}
	for _, id := range s.st.joint.order {
		out = append(out, s.publicEnterpriseLocked(s.st.joint.enterprises[id]))
	}
	return out
}

// Enterprise reads one enterprise by tenant ID.
func (s *Server) Enterprise(tenantID string) (Enterprise, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, err := s.enterpriseLocked(tenantID, false)
	if err != nil {
		return Enterprise{}, err
	}
	return s.publicEnterpriseLocked(e), nil
}

// enterpriseLocked finds an enterprise; active requires it to be active.
func (s *Server) enterpriseLocked(tenantID string, active bool) (*enterprise, error) {
	e := s.st.joint.enterprises[tenantID]
	switch {
	case e == nil:
		return nil, fmt.Errorf("%w %q", ErrUnknownEnterprise, tenantID)
	case active && e.pub.Status != EnterpriseActive:
		return nil, fmt.Errorf("%w: %s becomes active at %s", ErrEnterpriseActivating, tenantID, e.pub.ActiveAt.Format(time.RFC3339))
	}
	return e, nil
}

// EnterpriseApplication reads the application of an enterprise: its
// client ID, client secret (in clear: mock data) and redirect URIs, and
// the identity provider's endpoints.
func (s *Server) EnterpriseApplication(tenantID string) (Application, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, err := s.enterpriseLocked(tenantID, false)
	if err != nil {
		return Application{}, err
	}
	return s.publicAppLocked(e), nil
}

func (s *Server) publicAppLocked(e *enterprise) Application {
	a := e.app
	a.RedirectURIs = slices.Clone(a.RedirectURIs)
	base := s.idpBase(e.pub.Domain)
	a.Discovery = base + idpDiscoveryPath
	a.AuthorizeURL, a.TokenURL, a.UserInfoURL = base+koogallery.LoginAuthorizePath, base+koogallery.LoginTokenPath, base+koogallery.LoginUserInfoPath
	a.OrgIDUserInfoURL, a.LogoutURL = base+koogallery.LoginOrgIDUserInfoPath, base+koogallery.LoginLogoutPath
	return a
}

// UpdateEnterprise changes an enterprise's domain (tenantSync flag 2). A
// name or abbreviation other than the enterprise's is ErrImmutable; a
// domain taken, a conflict. The enterprise must be active.
func (s *Server) UpdateEnterprise(ctx context.Context, tenantID string, ch EnterpriseChange) (Enterprise, error) {
	if ctx == nil {
		return Enterprise{}, errors.New("mockserver: nil context")
	}
	var p apierror.Problems
	if ch.Domain != "" {
		checkDomain(&p, "domain", ch.Domain)
	}
	if err := p.Err("UpdateEnterprise"); err != nil {
		return Enterprise{}, err
	}
	s.mu.Lock()
	e, err := s.enterpriseLocked(tenantID, true)
	switch {
	case err != nil:
	case ch.Name != "" && ch.Name != e.pub.Name:
		err = fmt.Errorf("%w: an enterprise's name can never change", ErrImmutable)
	case ch.Abbreviation != "" && ch.Abbreviation != e.pub.Abbreviation:
		err = fmt.Errorf("%w: an enterprise's abbreviation can never change", ErrImmutable)
	case ch.Domain != "" && ch.Domain != e.pub.Domain && s.st.joint.byDomain[ch.Domain] != "":
		err = conflictf("mockserver: the domain %s is taken", ch.Domain)
	}
	if err != nil || ch.Domain == "" || ch.Domain == e.pub.Domain {
		s.mu.Unlock()
		if err != nil {
			return Enterprise{}, err
		}
		return s.enterpriseOr(e)
	}
	j := &s.st.joint
	delete(j.byDomain, e.pub.Domain)
	e.pub.Domain = ch.Domain
	j.byDomain[ch.Domain] = tenantID
	job := s.kitJobLocked(e, s.tenantEvent(e, koogallery.FlagModify))
	s.mu.Unlock()
	s.deliverKit(ctx, s.Now(), job)
	return s.enterpriseOr(e)
}

// DeleteEnterprise deletes an enterprise, its members and departments: an
// active one is sent tenantSync flag 0 (after its earlier calls); one
// still activating was never told to the vendor. Its members' logins end.
func (s *Server) DeleteEnterprise(ctx context.Context, tenantID string) error {
	if ctx == nil {
		return errors.New("mockserver: nil context")
	}
	s.mu.Lock()
	e, err := s.enterpriseLocked(tenantID, false)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	var job *deliveryJob
	if e.pub.Status == EnterpriseActive {
		job = s.kitJobLocked(e, s.tenantEvent(e, koogallery.FlagDelete))
	}
	j := &s.st.joint
	delete(j.enterprises, tenantID)
	j.order = slices.DeleteFunc(j.order, func(id string) bool { return id == tenantID })
	delete(j.byDomain, e.pub.Domain)
	delete(j.byAbbr, fold(e.pub.Abbreviation))
	delete(j.byInstance, e.pub.InstanceID)
	s.st.joint.idp.revokeTenantLocked(tenantID)
	s.mu.Unlock()
	s.deliverKit(ctx, s.Now(), job)
	return nil
}

// RotateClientSecret gives the enterprise's application a new client
// secret (applicationSync flag 2); the old one stops working at once.
func (s *Server) RotateClientSecret(ctx context.Context, tenantID string) (Application, error) {
	if ctx == nil {
		return Application{}, errors.New("mockserver: nil context")
	}
	s.mu.Lock()
	e, err := s.enterpriseLocked(tenantID, true)
	if err != nil {
		s.mu.Unlock()
		return Application{}, err
	}
	old := e.app.ClientSecret
	e.app.ClientSecret = newClientSecret()
	ev, err := s.applicationEvent(e, koogallery.FlagModify)
	if err != nil {
		e.app.ClientSecret = old
		s.mu.Unlock()
		return Application{}, err
	}
	job := s.kitJobLocked(e, ev)
	s.mu.Unlock()
	s.deliverKit(ctx, s.Now(), job)
	return s.EnterpriseApplication(tenantID)
}

// --- members -----------------------------------------------------------------

// AddMember adds a member with an initial password, which they must change
// at their first login. The first member of an enterprise is pre-filled
// from the Huawei account's real-name information (MemberRequest). The
// member is not authorized yet (AuthorizeMembers), so the vendor is told
// nothing. The answer carries the initial password in clear.
func (s *Server) AddMember(ctx context.Context, tenantID string, req MemberRequest) (Member, error) {
	if ctx == nil {
		return Member{}, errors.New("mockserver: nil context")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, err := s.enterpriseLocked(tenantID, true)
	if err != nil {
		return Member{}, err
	}
	prefill := !e.prefilled
	if prefill {
		if acc := s.st.huawei.accounts[e.pub.HuaweiAccountID]; acc != nil {
			req.UserName = cmpOr(req.UserName, acc.Name)
			req.Name = cmpOr(req.Name, acc.RealName, acc.Name)
			req.Email = cmpOr(req.Email, acc.Email)
			req.Mobile = cmpOr(req.Mobile, acc.Mobile)
			req.Role = cmpOr(req.Role, "admin")
		}
	}
	req.Role = cmpOr(req.Role, "user")
	req.Department = cmpOr(req.Department, RootDepartment)
	var p apierror.Problems
	memberProblems(&p, &req)
	if err := p.Err("AddMember"); err != nil {
		return Member{}, err
	}
	switch {
	case e.depts[req.Department] == nil:
		return Member{}, fmt.Errorf("%w %q", ErrUnknownDepartment, req.Department)
	case e.members[fold(req.UserName)] != nil:
		return Member{}, conflictf("mockserver: the enterprise has a member %s already", req.UserName)
	}
	pw := req.InitialPassword
	for pw == "" || checkPasswordFor(pw, req.UserName) != nil {
		pw = newPassword()
	}
	m := &member{pub: Member{ID: s.ids.hex32("member"), UserName: req.UserName, Name: req.Name, Department: req.Department,
		Email: req.Email, Mobile: req.Mobile, Position: req.Position, EmployeeCode: req.EmployeeCode, Role: req.Role,
		Enabled: true, MustChangePassword: true, InitialPassword: pw, CreatedAt: s.Now().UTC()}}
	m.setPassword(pw)
	e.members[fold(req.UserName)] = m
	e.mOrder = append(e.mOrder, fold(req.UserName))
	e.prefilled = true
	return s.publicMemberLocked(m), nil
}

func checkPasswordFor(pw, user string) error {
	var p apierror.Problems
	checkMemberPassword(&p, "password", pw, user)
	return p.Err("password")
}

// cmpOr is the first non-empty string.
func cmpOr(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

func (s *Server) publicMemberLocked(m *member) Member {
	out := m.pub
	if !out.LockedUntil.After(s.Now()) {
		out.LockedUntil = time.Time{}
	}
	return out
}

// Members lists an enterprise's members, in the order they were added.
func (s *Server) Members(tenantID string) ([]Member, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, err := s.enterpriseLocked(tenantID, false)
	if err != nil {
		return nil, err
	}
	out := []Member{}
	for _, k := range e.mOrder {
		out = append(out, s.publicMemberLocked(e.members[k]))
	}
	return out, nil
}

// memberLocked finds a member of an active enterprise.
func (s *Server) memberLocked(tenantID, user string) (*enterprise, *member, error) {
	e, err := s.enterpriseLocked(tenantID, true)
	if err != nil {
		return nil, nil, err
	}
	m := e.members[fold(user)]
	if m == nil {
		return nil, nil, fmt.Errorf("%w %q in enterprise %s", ErrUnknownMember, user, tenantID)
	}
	return e, m, nil
}

// UpdateMember changes a member; an authorized member's change reaches the
// vendor (authSync flag 2). A UserName other than the member's is
// ErrImmutable.
func (s *Server) UpdateMember(ctx context.Context, tenantID, user string, ch MemberChange) (Member, error) {
	if ctx == nil {
		return Member{}, errors.New("mockserver: nil context")
	}
	s.mu.Lock()
	e, m, err := s.memberLocked(tenantID, user)
	if err != nil {
		s.mu.Unlock()
		return Member{}, err
	}
	if ch.UserName != "" && ch.UserName != m.pub.UserName {
		s.mu.Unlock()
		return Member{}, fmt.Errorf("%w: a member's user name can never change", ErrImmutable)
	}
	next := MemberRequest{UserName: m.pub.UserName, Name: cmpOr(ch.Name, m.pub.Name),
		Department: cmpOr(ch.Department, m.pub.Department), Email: cmpOr(ch.Email, m.pub.Email),
		Mobile: cmpOr(ch.Mobile, m.pub.Mobile), Position: cmpOr(ch.Position, m.pub.Position),
		EmployeeCode: cmpOr(ch.EmployeeCode, m.pub.EmployeeCode), Role: cmpOr(ch.Role, m.pub.Role)}
	var p apierror.Problems
	memberProblems(&p, &next)
	if err := p.Err("UpdateMember"); err != nil {
		s.mu.Unlock()
		return Member{}, err
	}
	if e.depts[next.Department] == nil {
		s.mu.Unlock()
		return Member{}, fmt.Errorf("%w %q", ErrUnknownDepartment, next.Department)
	}
	m.pub.Name, m.pub.Department, m.pub.Email, m.pub.Mobile = next.Name, next.Department, next.Email, next.Mobile
	m.pub.Position, m.pub.EmployeeCode, m.pub.Role = next.Position, next.EmployeeCode, next.Role
	if ch.Enabled != nil {
		m.pub.Enabled = *ch.Enabled
		if !m.pub.Enabled {
			s.st.joint.idp.revokeMemberLocked(tenantID, m.pub.ID)
		}
	}
	var job *deliveryJob
	if m.pub.Authorized {
		job = s.kitJobLocked(e, s.authEvent(e, koogallery.FlagModify, m))
	}
	out := s.publicMemberLocked(m)
	s.mu.Unlock()
	s.deliverKit(ctx, s.Now(), job)
	return out, nil
}

// RemoveMember removes a member; an authorized one is deleted at the
// vendor too (authSync flag 0). Their logins end.
func (s *Server) RemoveMember(ctx context.Context, tenantID, user string) error {
	if ctx == nil {
		return errors.New("mockserver: nil context")
	}
	s.mu.Lock()
	e, m, err := s.memberLocked(tenantID, user)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	var job *deliveryJob
	if m.pub.Authorized {
		job = s.kitJobLocked(e, s.authEvent(e, koogallery.FlagDelete, m))
	}
	delete(e.members, fold(user))
	e.mOrder = slices.DeleteFunc(e.mOrder, func(k string) bool { return k == fold(user) })
	s.st.joint.idp.revokeMemberLocked(tenantID, m.pub.ID)
	s.mu.Unlock()
	s.deliverKit(ctx, s.Now(), job)
	return nil
}

// ResetMemberPassword gives a member a new initial password (generated
// when pw is empty), which they must change at their next login, and
// lifts a lock. It answers the member with the password in clear.
func (s *Server) ResetMemberPassword(tenantID, user, pw string) (Member, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, m, err := s.memberLocked(tenantID, user)
	if err != nil {
		return Member{}, err
	}
	if pw != "" {
		var p apierror.Problems
		checkMemberPassword(&p, "initialPassword", pw, m.pub.UserName)
		if err := p.Err("ResetMemberPassword"); err != nil {
			return Member{}, err
		}
	}
	for pw == "" || checkPasswordFor(pw, m.pub.UserName) != nil {
		pw = newPassword()
	}
	m.setPassword(pw)
	m.pub.InitialPassword, m.pub.MustChangePassword, m.pub.LockedUntil, m.failed = pw, true, time.Time{}, 0
	return s.publicMemberLocked(m), nil
}

// AuthorizeMembers authorizes members for the application, the buyer
// accepting the agreement (AgreementAccepted must be true): authSync flag
// 1 with the members not authorized yet, who can then log in. Members
// authorized already are left as they are.
func (s *Server) AuthorizeMembers(ctx context.Context, tenantID string, req AuthorizationRequest) ([]Member, error) {
	return s.authorize(ctx, tenantID, req, true)
}

// DeauthorizeMembers withdraws members' authorization: authSync flag 3
// with those authorized; their logins and tokens end at once.
func (s *Server) DeauthorizeMembers(ctx context.Context, tenantID string, req AuthorizationRequest) ([]Member, error) {
	return s.authorize(ctx, tenantID, req, false)
}

const maxAuthorizeBatch = 500

func (s *Server) authorize(ctx context.Context, tenantID string, req AuthorizationRequest, grant bool) ([]Member, error) {
	if ctx == nil {
		return nil, errors.New("mockserver: nil context")
	}
	op := "DeauthorizeMembers"
	if grant {
		op = "AuthorizeMembers"
	}
	var p apierror.Problems
	switch {
	case len(req.UserNames) == 0:
		p.Add("userNames", "is required")
	case len(req.UserNames) > maxAuthorizeBatch:
		p.Add("userNames", "must name at most %d members", maxAuthorizeBatch)
	}
	if grant && !req.AgreementAccepted {
		p.Add("agreementAccepted", "must be true: the buyer accepts the application's agreement")
	}
	if err := p.Err(op); err != nil {
		return nil, err
	}
	s.mu.Lock()
	e, err := s.enterpriseLocked(tenantID, true)
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	var ms, changed []*member
	seen := map[string]bool{}
	for _, u := range req.UserNames {
		m := e.members[fold(u)]
		if m == nil {
			s.mu.Unlock()
			return nil, fmt.Errorf("%w %q in enterprise %s", ErrUnknownMember, u, tenantID)
		}
		if !seen[fold(u)] {
			seen[fold(u)] = true
			ms = append(ms, m)
			if m.pub.Authorized != grant {
				changed = append(changed, m)
			}
		}
	}
	flag := koogallery.FlagCancelAuth
	if grant {
		flag = koogallery.FlagAdd
	}
	for _, m := range changed {
		m.pub.Authorized = grant
		if !grant {
			s.st.joint.idp.revokeMemberLocked(tenantID, m.pub.ID)
		}
	}
	var job *deliveryJob
	if len(changed) > 0 {
		job = s.kitJobLocked(e, s.authEvent(e, flag, changed...))
	}
	out := make([]Member, len(ms))
	for i, m := range ms {
		out[i] = s.publicMemberLocked(m)
	}
	s.mu.Unlock()
	s.deliverKit(ctx, s.Now(), job)
	return out, nil
}

// --- departments -------------------------------------------------------------

func checkDepartment(p *apierror.Problems, d Department) {
	if !orgCode.MatchString(d.OrgCode) {
		p.Add("orgCode", "must be 1 to 64 letters, digits, '-' or '_'")
	}
	checkText(p, "name", d.Name, true, 64)
	if d.ParentCode != "" && !orgCode.MatchString(d.ParentCode) {
		p.Add("parentCode", "must be an org code: 1 to 64 letters, digits, '-' or '_'")
	}
}

// Departments lists an enterprise's departments, the root first.
func (s *Server) Departments(tenantID string) ([]Department, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, err := s.enterpriseLocked(tenantID, false)
	if err != nil {
		return nil, err
	}
	out := make([]Department, 0, len(e.dOrder))
	for _, c := range e.dOrder {
		out = append(out, *e.depts[c])
	}
	return out, nil
}

// AddDepartment adds a department under ParentCode (default the root):
// singleOrgSync flag 1.
func (s *Server) AddDepartment(ctx context.Context, tenantID string, d Department) (Department, error) {
	if ctx == nil {
		return Department{}, errors.New("mockserver: nil context")
	}
	d.ParentCode = cmpOr(d.ParentCode, RootDepartment)
	var p apierror.Problems
	checkDepartment(&p, d)
	if err := p.Err("AddDepartment"); err != nil {
		return Department{}, err
	}
	s.mu.Lock()
	e, err := s.enterpriseLocked(tenantID, true)
	switch {
	case err != nil:
	case e.depts[d.OrgCode] != nil:
		err = conflictf("mockserver: the enterprise has a department %s already", d.OrgCode)
	case e.depts[d.ParentCode] == nil:
		err = fmt.Errorf("%w %q (the parent)", ErrUnknownDepartment, d.ParentCode)
	}
	if err != nil {
		s.mu.Unlock()
		return Department{}, err
	}
	rec := d
	e.depts[d.OrgCode] = &rec
	e.dOrder = append(e.dOrder, d.OrgCode)
	job := s.kitJobLocked(e, s.orgEvent(e, rec, koogallery.FlagAdd))
	s.mu.Unlock()
	s.deliverKit(ctx, s.Now(), job)
	return rec, nil
}

// UpdateDepartment renames a department or moves it under another parent
// (not under itself or its own descendants): singleOrgSync flag 2. An
// OrgCode other than the department's is ErrImmutable; the root cannot
// move.
func (s *Server) UpdateDepartment(ctx context.Context, tenantID, code string, ch Department) (Department, error) {
	if ctx == nil {
		return Department{}, errors.New("mockserver: nil context")
	}
	s.mu.Lock()
	e, err := s.enterpriseLocked(tenantID, true)
	if err != nil {
		s.mu.Unlock()
		return Department{}, err
	}
	d := e.depts[code]
	if d == nil {
		s.mu.Unlock()
		return Department{}, fmt.Errorf("%w %q", ErrUnknownDepartment, code)
	}
	next := Department{OrgCode: d.OrgCode, Name: cmpOr(ch.Name, d.Name), ParentCode: cmpOr(ch.ParentCode, d.ParentCode)}
	var p apierror.Problems
	checkDepartment(&p, next)
	switch {
	case ch.OrgCode != "" && ch.OrgCode != d.OrgCode:
		err = fmt.Errorf("%w: a department's org code can never change", ErrImmutable)
	case p.Err("UpdateDepartment") != nil:
		err = p.Err("UpdateDepartment")
	case code == RootDepartment && ch.ParentCode != "":
		err = fmt.Errorf("%w: the root department has no parent", ErrImmutable)
	case next.ParentCode != "" && e.depts[next.ParentCode] == nil:
		err = fmt.Errorf("%w %q (the parent)", ErrUnknownDepartment, next.ParentCode)
	case next.ParentCode != "" && e.descendsLocked(next.ParentCode, code):
		err = conflictf("mockserver: department %s cannot move under itself or its own descendant %s", code, next.ParentCode)
	}
	if err != nil {
		s.mu.Unlock()
		return Department{}, err
	}
	*d = next
	job := s.kitJobLocked(e, s.orgEvent(e, next, koogallery.FlagModify))
	s.mu.Unlock()
	s.deliverKit(ctx, s.Now(), job)
	return next, nil
}

// descendsLocked says whether code is anc or one of its descendants.
func (e *enterprise) descendsLocked(code, anc string) bool {
	for i := 0; code != "" && i <= len(e.depts); i++ {
		if code == anc {
			return true
		}
		code = e.depts[code].ParentCode
	}
	return false
}

// RemoveDepartment removes a department that has no members and no
// sub-departments (a conflict otherwise; the root stays): singleOrgSync
// flag 0.
func (s *Server) RemoveDepartment(ctx context.Context, tenantID, code string) error {
	if ctx == nil {
		return errors.New("mockserver: nil context")
	}
	s.mu.Lock()
	e, err := s.enterpriseLocked(tenantID, true)
	if err == nil {
		err = e.removableLocked(code)
	}
	if err != nil {
		s.mu.Unlock()
		return err
	}
	d := *e.depts[code]
	delete(e.depts, code)
	e.dOrder = slices.DeleteFunc(e.dOrder, func(c string) bool { return c == code })
	job := s.kitJobLocked(e, s.orgEvent(e, d, koogallery.FlagDelete))
	s.mu.Unlock()
	s.deliverKit(ctx, s.Now(), job)
	return nil
}

func (e *enterprise) removableLocked(code string) error {
	if e.depts[code] == nil {
		return fmt.Errorf("%w %q", ErrUnknownDepartment, code)
	}
	if code == RootDepartment {
		return fmt.Errorf("%w: the root department cannot be removed", ErrImmutable)
	}
	for _, m := range e.members {
		if m.pub.Department == code {
			return conflictf("mockserver: department %s has members (%s)", code, m.pub.UserName)
		}
	}
	for _, d := range e.depts {
		if d.ParentCode == code {
			return conflictf("mockserver: department %s has sub-departments (%s)", code, d.OrgCode)
		}
	}
	return nil
}

// SyncDepartments sends the enterprise's whole department tree again
// (allOrgSync), as KooGallery's full sync does.
func (s *Server) SyncDepartments(ctx context.Context, tenantID string) error {
	if ctx == nil {
		return errors.New("mockserver: nil context")
	}
	s.mu.Lock()
	e, err := s.enterpriseLocked(tenantID, true)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	job := s.kitJobLocked(e, s.allOrgEvent(e))
	s.mu.Unlock()
	s.deliverKit(ctx, s.Now(), job)
	return nil
}
