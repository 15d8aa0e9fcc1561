package mockserver

import (
	"context"
	"errors"
	"net/http"
)

// jointStatus is the control-plane status of a joint-service error: 404
// for what does not exist, 409 for a conflict (taken, immutable, still
// activating, not allowed), 403 for a Huawei account not real-name
// verified, 400 otherwise.
func jointStatus(err error) int {
	var ce *conflictError
	switch {
	case errors.Is(err, ErrUnknownEnterprise), errors.Is(err, ErrUnknownMember), errors.Is(err, ErrUnknownDepartment):
		return http.StatusNotFound
	case errors.Is(err, ErrEnterpriseActivating), errors.Is(err, ErrImmutable), errors.As(err, &ce):
		return http.StatusConflict
	}
	return marketStatus(err)
}

// jointRoute is a control handler of the joint service: decode a body of
// type T (none for struct{} with optional), run do, answer status with its
// result or the error's status.
func jointRoute[T, R any](optional bool, status int, do func(ctx context.Context, r *http.Request, v T) (R, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var v T
		ok := false
		if optional {
			ok = decodeOptionalControl(w, r, &v)
		} else {
			ok = decodeControl(w, r, &v)
		}
		if !ok {
			return
		}
		out, err := do(r.Context(), r, v)
		if err != nil {
			controlError(w, jointStatus(err), err)
			return
		}
		writeJSON(w, status, out)
	}
}

// jointGet is a control GET of the joint service; it first runs what fell
// due on the clock (an activation).
func (s *Server) jointGet(get func(r *http.Request) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.catchUp(r.Context())
		out, err := get(r)
		if err != nil {
			controlError(w, jointStatus(err), err)
			return
		}
		writeJSON(w, http.StatusOK, out)
	}
}

type none struct{}

type passwordReset struct {
	InitialPassword string `json:"initialPassword,omitempty"`
}

// jointRoutes are the control endpoints of the joint service: the buyer's
// console (enterprises, members, departments, authorization) and what
// TrueWatch's vendor was told.
func (s *Server) jointRoutes() []controlRoute {
	const e = "/_mock/enterprises"
	const t = e + "/{tenantId}"
	tid := func(r *http.Request) string { return r.PathValue("tenantId") }
	ok := map[string]string{"status": "ok"}
	ep := func(method, path, summary string, h http.HandlerFunc) controlRoute {
		return controlRoute{ControlEndpoint{method, path, summary}, h}
	}
	return []controlRoute{
		ep(http.MethodGet, e, "every enterprise of the joint service (Enterprise), oldest first",
			s.jointGet(func(*http.Request) (any, error) { return s.Enterprises(), nil })),
		ep(http.MethodPost, e, "create an enterprise {huaweiAccountId, instanceId, name, domain, abbreviation}; activating, then active (201)",
			jointRoute(false, http.StatusCreated, func(ctx context.Context, _ *http.Request, v EnterpriseRequest) (Enterprise, error) {
				return s.CreateEnterprise(ctx, v)
			})),
		ep(http.MethodGet, t, "one enterprise", s.jointGet(func(r *http.Request) (any, error) { return s.Enterprise(tid(r)) })),
		ep(http.MethodPost, t, "change the domain {domain} (tenantSync flag 2); name and abbreviation never change (409)",
			jointRoute(false, http.StatusOK, func(ctx context.Context, r *http.Request, v EnterpriseChange) (Enterprise, error) {
				return s.UpdateEnterprise(ctx, tid(r), v)
			})),
		ep(http.MethodDelete, t, "delete the enterprise (tenantSync flag 0)",
			jointRoute(true, http.StatusOK, func(ctx context.Context, r *http.Request, _ none) (map[string]string, error) {
				return ok, s.DeleteEnterprise(ctx, tid(r))
			})),
		ep(http.MethodGet, t+"/application", "the application: client ID, client secret (in clear), redirect URIs, endpoints",
			s.jointGet(func(r *http.Request) (any, error) { return s.EnterpriseApplication(tid(r)) })),
		ep(http.MethodPost, t+"/application/rotate-secret", "a new client secret (applicationSync flag 2)",
			jointRoute(true, http.StatusOK, func(ctx context.Context, r *http.Request, _ none) (Application, error) {
				return s.RotateClientSecret(ctx, tid(r))
			})),
		ep(http.MethodGet, t+"/members", "the members (Member), initial passwords in clear until changed",
			s.jointGet(func(r *http.Request) (any, error) { return s.Members(tid(r)) })),
		ep(http.MethodPost, t+"/members", "add a member {userName, name, department, email, mobile, role, initialPassword, ...} (201)",
			jointRoute(false, http.StatusCreated, func(ctx context.Context, r *http.Request, v MemberRequest) (Member, error) {
				return s.AddMember(ctx, tid(r), v)
			})),
		ep(http.MethodPost, t+"/members/{userName}", "change a member {name, department, email, mobile, role, enabled, ...} (authSync flag 2 when authorized)",
			jointRoute(false, http.StatusOK, func(ctx context.Context, r *http.Request, v MemberChange) (Member, error) {
				return s.UpdateMember(ctx, tid(r), r.PathValue("userName"), v)
			})),
		ep(http.MethodDelete, t+"/members/{userName}", "remove a member (authSync flag 0 when authorized)",
			jointRoute(true, http.StatusOK, func(ctx context.Context, r *http.Request, _ none) (map[string]string, error) {
				return ok, s.RemoveMember(ctx, tid(r), r.PathValue("userName"))
			})),
		ep(http.MethodPost, t+"/members/{userName}/password", "a new initial password {initialPassword} (generated when empty), which lifts a lock",
			jointRoute(true, http.StatusOK, func(_ context.Context, r *http.Request, v passwordReset) (Member, error) {
				return s.ResetMemberPassword(tid(r), r.PathValue("userName"), v.InitialPassword)
			})),
		ep(http.MethodPost, t+"/authorizations", "authorize members {userNames, agreementAccepted: true} (authSync flag 1)",
			jointRoute(false, http.StatusOK, func(ctx context.Context, r *http.Request, v AuthorizationRequest) ([]Member, error) {
				return s.AuthorizeMembers(ctx, tid(r), v)
			})),
		ep(http.MethodPost, t+"/deauthorizations", "withdraw members' authorization {userNames} (authSync flag 3)",
			jointRoute(false, http.StatusOK, func(ctx context.Context, r *http.Request, v AuthorizationRequest) ([]Member, error) {
				return s.DeauthorizeMembers(ctx, tid(r), v)
			})),
		ep(http.MethodGet, t+"/departments", "the departments (Department), the root first",
			s.jointGet(func(r *http.Request) (any, error) { return s.Departments(tid(r)) })),
		ep(http.MethodPost, t+"/departments", "add a department {orgCode, name, parentCode} (singleOrgSync flag 1, 201)",
			jointRoute(false, http.StatusCreated, func(ctx context.Context, r *http.Request, v Department) (Department, error) {
				return s.AddDepartment(ctx, tid(r), v)
			})),
		ep(http.MethodPost, t+"/departments/{orgCode}", "rename or move a department {name, parentCode} (singleOrgSync flag 2)",
			jointRoute(false, http.StatusOK, func(ctx context.Context, r *http.Request, v Department) (Department, error) {
				return s.UpdateDepartment(ctx, tid(r), r.PathValue("orgCode"), v)
			})),
		ep(http.MethodDelete, t+"/departments/{orgCode}", "remove an empty department (singleOrgSync flag 0)",
			jointRoute(true, http.StatusOK, func(ctx context.Context, r *http.Request, _ none) (map[string]string, error) {
				return ok, s.RemoveDepartment(ctx, tid(r), r.PathValue("orgCode"))
			})),
		ep(http.MethodPost, t+"/org-sync", "send the whole department tree again (allOrgSync)",
			jointRoute(true, http.StatusOK, func(ctx context.Context, r *http.Request, _ none) (map[string]string, error) {
				return ok, s.SyncDepartments(ctx, tid(r))
			})),
		ep(http.MethodGet, "/_mock/truewatch/tenants", "what TrueWatch's vendor was told of enterprises (TrueWatchTenant)",
			s.jointGet(func(*http.Request) (any, error) { return s.TrueWatchTenants(), nil })),
	}
}
