package mockserver

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// IAM's Keystone list parameters.
const (
	iamPerPageMax = 5000
	iamDefaultPer = 5000
)

// iamLinks are the links of a Keystone list: next and previous are null
// unless the list is paged and there is such a page.
type iamLinks struct {
	Self     string  `json:"self"`
	Next     *string `json:"next"`
	Previous *string `json:"previous"`
}

// iamSelf is the links of one resource.
type iamSelf struct {
	Self string `json:"self"`
}

type iamDomain struct {
	ID          string  `json:"id"`
	Name        string  `json:"name"`
	Enabled     bool    `json:"enabled"`
	Description string  `json:"description"`
	Links       iamSelf `json:"links"`
}

type iamProject struct {
	ID          string  `json:"id"`
	Name        string  `json:"name"`
	DomainID    string  `json:"domain_id"`
	ParentID    string  `json:"parent_id"`
	Enabled     bool    `json:"enabled"`
	IsDomain    bool    `json:"is_domain"`
	Description string  `json:"description"`
	Links       iamSelf `json:"links"`
}

type iamRegion struct {
	ID             string            `json:"id"`
	Type           string            `json:"type"`
	Description    string            `json:"description"`
	ParentRegionID *string           `json:"parent_region_id"`
	Locales        map[string]string `json:"locales"`
	Links          iamSelf           `json:"links"`
}

type iamUser struct {
	ID                string  `json:"id"`
	Name              string  `json:"name"`
	DomainID          string  `json:"domain_id"`
	Enabled           bool    `json:"enabled"`
	PasswordExpiresAt string  `json:"password_expires_at"`
	Links             iamSelf `json:"links"`
}

type iamCredential struct {
	UserID      string `json:"user_id"`
	Access      string `json:"access"`
	Status      string `json:"status"`
	CreateTime  string `json:"create_time"`
	Description string `json:"description"`
}

func (s *Server) listLinks(r *http.Request) iamLinks {
	return iamLinks{Self: s.url + r.URL.RequestURI()}
}

// iamListAuthDomains answers with the caller's account, or an empty list
// for an account whose HideDomain is set. The "domains" key is always
// present: the SDK dereferences it.
func (s *Server) iamListAuthDomains(w http.ResponseWriter, r *http.Request, c *hwCaller) {
	if err := hwCheckQuery(r, r.URL.Query()); err != nil {
		hwBadRequest(w, r, err.Error())
		return
	}
	domains := []iamDomain{}
	if !c.account.HideDomain {
		domains = append(domains, iamDomain{ID: c.account.ID, Name: c.account.Name, Enabled: true,
			Links: iamSelf{Self: s.url + "/v3/domains/" + c.account.ID}})
	}
	writeJSON(w, http.StatusOK, map[string]any{"domains": domains, "links": iamSelf{Self: s.url + r.URL.RequestURI()}})
}

// hwProjectFor is the account's project in region: the account's ProjectID
// in the demo region, a stable derived ID elsewhere.
func (s *Server) hwProjectFor(acc HuaweiAccount, region string) iamProject {
	id := acc.ProjectID
	if region != DemoRegion {
		sum := sha256.Sum256([]byte("project|" + acc.ID + "|" + region))
		id = hex.EncodeToString(sum[:16])
	}
	return iamProject{ID: id, Name: region, DomainID: acc.ID, ParentID: acc.ID, Enabled: true,
		Links: iamSelf{Self: s.url + "/v3/projects/" + id}}
}

// hwProjects are the account's projects: one per region, by name.
func (s *Server) hwProjects(acc HuaweiAccount) []iamProject {
	out := make([]iamProject, len(hwRegions))
	for i, reg := range hwRegions {
		out[i] = s.hwProjectFor(acc, reg.ID)
	}
	return out
}

// iamListProjects answers KeystoneListProjects: the caller's projects,
// one per region that exists, filtered as IAM filters them (by name, the
// one basic credentials ask for; domain_id, parent_id, enabled, is_domain)
// and paged with page and per_page (which IAM requires together; per_page
// 1 to 5000), with next and previous links.
func (s *Server) iamListProjects(w http.ResponseWriter, r *http.Request, c *hwCaller) {
	q := r.URL.Query()
	if err := hwCheckQuery(r, q, "name", "domain_id", "enabled", "is_domain", "parent_id", "page", "per_page"); err != nil {
		hwBadRequest(w, r, err.Error())
		return
	}
	var problems []string
	for _, name := range []string{"enabled", "is_domain"} {
		if v := q.Get(name); q.Has(name) && v != "true" && v != "false" {
			problems = append(problems, name+" must be true or false")
		}
	}
	if q.Has("page") != q.Has("per_page") {
		problems = append(problems, "page and per_page must be given together")
	}
	page, err := hwQueryInt(q, "page", 1, 1, 1<<30)
	if err != nil {
		problems = append(problems, err.Error())
	}
	per, err := hwQueryInt(q, "per_page", iamDefaultPer, 1, iamPerPageMax)
	if err != nil {
		problems = append(problems, err.Error())
	}
	if len(problems) > 0 {
		hwBadRequest(w, r, strings.Join(problems, "; "))
		return
	}
	match := []iamProject{}
	for _, p := range s.hwProjects(c.account) {
		switch {
		case q.Has("name") && q.Get("name") != p.Name,
			q.Has("domain_id") && q.Get("domain_id") != p.DomainID,
			q.Has("parent_id") && q.Get("parent_id") != p.ParentID,
			q.Get("enabled") == "false", q.Get("is_domain") == "true":
			continue
		}
		match = append(match, p)
	}
	lo, hi := hwPage(len(match), (page-1)*per, per)
	links := s.listLinks(r)
	if q.Has("page") {
		links.Next, links.Previous = s.pageLinks(r, page, hi < len(match))
	}
	writeJSON(w, http.StatusOK, map[string]any{"projects": match[lo:hi], "links": links})
}

// pageLinks are the next and previous links of a paged Keystone list.
func (s *Server) pageLinks(r *http.Request, page int, more bool) (next, prev *string) {
	at := func(p int) *string {
		q := r.URL.Query()
		q.Set("page", strconv.Itoa(p))
		u := s.url + r.URL.Path + "?" + q.Encode()
		return &u
	}
	if more {
		next = at(page + 1)
	}
	if page > 1 {
		prev = at(page - 1)
	}
	return next, prev
}

// iamListAuthProjects lists the projects the caller can access: all of the
// account's.
func (s *Server) iamListAuthProjects(w http.ResponseWriter, r *http.Request, c *hwCaller) {
	if err := hwCheckQuery(r, r.URL.Query()); err != nil {
		hwBadRequest(w, r, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"projects": s.hwProjects(c.account), "links": s.listLinks(r)})
}

// iamShowProject shows one of the caller's projects; another account's
// project, like one that does not exist, is not found.
func (s *Server) iamShowProject(w http.ResponseWriter, r *http.Request, c *hwCaller) {
	if err := hwCheckQuery(r, r.URL.Query()); err != nil {
		hwBadRequest(w, r, err.Error())
		return
	}
	id := r.PathValue("project_id")
	projects := s.hwProjects(c.account)
	if i := slices.IndexFunc(projects, func(p iamProject) bool { return p.ID == id }); i >= 0 {
		writeJSON(w, http.StatusOK, map[string]any{"project": projects[i]})
		return
	}
	hwFail(w, r, hwMissing, "Could not find project: "+id+".")
}

func (s *Server) iamRegionOf(reg hwRegion) iamRegion {
	return iamRegion{ID: reg.ID, Type: "public", Locales: map[string]string{"zh-cn": reg.ZhCN, "en-us": reg.EnUS},
		Links: iamSelf{Self: s.url + "/v3/regions/" + reg.ID}}
}

// iamListRegions answers KeystoneListRegions: every region that exists.
func (s *Server) iamListRegions(w http.ResponseWriter, r *http.Request, c *hwCaller) {
	if err := hwCheckQuery(r, r.URL.Query()); err != nil {
		hwBadRequest(w, r, err.Error())
		return
	}
	regions := make([]iamRegion, len(hwRegions))
	for i, reg := range hwRegions {
		regions[i] = s.iamRegionOf(reg)
	}
	writeJSON(w, http.StatusOK, map[string]any{"regions": regions, "links": s.listLinks(r)})
}

// iamShowRegion answers KeystoneShowRegion.
func (s *Server) iamShowRegion(w http.ResponseWriter, r *http.Request, c *hwCaller) {
	if err := hwCheckQuery(r, r.URL.Query()); err != nil {
		hwBadRequest(w, r, err.Error())
		return
	}
	id := r.PathValue("region_id")
	reg, ok := hwRegionByID(id)
	if !ok {
		hwFail(w, r, hwMissing, "Could not find region: "+id+".")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"region": s.iamRegionOf(reg)})
}

// iamUsers are the account's IAM users: the owners of its keys, once each.
func (s *Server) iamUsers(acc HuaweiAccount) []iamUser {
	var out []iamUser
	for _, k := range acc.Keys {
		if slices.ContainsFunc(out, func(u iamUser) bool { return u.ID == k.UserID }) {
			continue
		}
		out = append(out, iamUser{ID: k.UserID, Name: k.UserName, DomainID: acc.ID, Enabled: true,
			Links: iamSelf{Self: s.url + "/v3/users/" + k.UserID}})
	}
	return out
}

// iamListUsers answers KeystoneListUsers, filtered by name, domain_id and
// enabled.
func (s *Server) iamListUsers(w http.ResponseWriter, r *http.Request, c *hwCaller) {
	q := r.URL.Query()
	if err := hwCheckQuery(r, q, "domain_id", "enabled", "name", "password_expires_at"); err != nil {
		hwBadRequest(w, r, err.Error())
		return
	}
	if v := q.Get("enabled"); q.Has("enabled") && v != "true" && v != "false" {
		hwBadRequest(w, r, "enabled must be true or false")
		return
	}
	users := []iamUser{}
	for _, u := range s.iamUsers(c.account) {
		switch {
		case q.Has("name") && q.Get("name") != u.Name,
			q.Has("domain_id") && q.Get("domain_id") != u.DomainID,
			q.Get("enabled") == "false", q.Has("password_expires_at"):
			continue
		}
		users = append(users, u)
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": users, "links": s.listLinks(r)})
}

// iamShowUser shows an IAM user of the caller's account.
func (s *Server) iamShowUser(w http.ResponseWriter, r *http.Request, c *hwCaller) {
	if err := hwCheckQuery(r, r.URL.Query()); err != nil {
		hwBadRequest(w, r, err.Error())
		return
	}
	id := r.PathValue("user_id")
	users := s.iamUsers(c.account)
	if i := slices.IndexFunc(users, func(u iamUser) bool { return u.ID == id }); i >= 0 {
		writeJSON(w, http.StatusOK, map[string]any{"user": users[i]})
		return
	}
	hwFail(w, r, hwMissing, "Could not find user: "+id)
}

// iamCredentials are the permanent access keys of the caller's account.
func iamCredentials(acc HuaweiAccount) []iamCredential {
	var out []iamCredential
	for _, k := range acc.Keys {
		if k.SecurityToken == "" {
			out = append(out, iamCredential{UserID: k.UserID, Access: k.AK, Status: "active",
				CreateTime: "2020-01-08 02:26:19.0"})
		}
	}
	return out
}

// iamListCredentials answers ListPermanentAccessKeys: the permanent keys
// of one user (user_id) or of every user of the caller's account.
func (s *Server) iamListCredentials(w http.ResponseWriter, r *http.Request, c *hwCaller) {
	q := r.URL.Query()
	if err := hwCheckQuery(r, q, "user_id"); err != nil {
		hwBadRequest(w, r, err.Error())
		return
	}
	out := []iamCredential{}
	for _, k := range iamCredentials(c.account) {
		if !q.Has("user_id") || q.Get("user_id") == k.UserID {
			out = append(out, k)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"credentials": out})
}

// iamShowCredential shows a permanent access key of the caller's account.
func (s *Server) iamShowCredential(w http.ResponseWriter, r *http.Request, c *hwCaller) {
	if err := hwCheckQuery(r, r.URL.Query()); err != nil {
		hwBadRequest(w, r, err.Error())
		return
	}
	ak := r.PathValue("access_key")
	for _, k := range iamCredentials(c.account) {
		if k.Access == ak {
			writeJSON(w, http.StatusOK, map[string]any{"credential": map[string]any{
				"user_id": k.UserID, "access": k.Access, "status": k.Status, "create_time": k.CreateTime,
				"last_use_time": s.Now().UTC().Format("2006-01-02 15:04:05.0"), "description": k.Description}})
			return
		}
	}
	hwFail(w, r, hwMissing, "Could not find credential: "+ak)
}

// stsCallerIdentity answers STS GetCallerIdentity: the account ID even for
// accounts whose IAM domain list is hidden.
func (s *Server) stsCallerIdentity(w http.ResponseWriter, r *http.Request, c *hwCaller) {
	if err := hwCheckQuery(r, r.URL.Query()); err != nil {
		hwBadRequest(w, r, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{
		"account_id":    c.account.ID,
		"principal_id":  c.key.UserID,
		"principal_urn": "iam::" + c.account.ID + ":user:" + c.key.UserName,
	})
}
