package mockserver

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"regexp"
)

// hwRegionName is the shape of a Huawei region ID (ap-southeast-1).
var hwRegionName = regexp.MustCompile(`^[a-z]{2,4}(-[a-z0-9]{1,16}){1,3}$`)

type iamLinks struct {
	Self     string  `json:"self"`
	Next     *string `json:"next,omitempty"`
	Previous *string `json:"previous,omitempty"`
}

type iamDomain struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Enabled     bool     `json:"enabled"`
	Description string   `json:"description"`
	Links       iamLinks `json:"links"`
}

type iamProject struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	DomainID    string   `json:"domain_id"`
	ParentID    string   `json:"parent_id"`
	Enabled     bool     `json:"enabled"`
	IsDomain    bool     `json:"is_domain"`
	Description string   `json:"description"`
	Links       iamLinks `json:"links"`
}

func (s *Server) selfLink(r *http.Request) iamLinks {
	return iamLinks{Self: s.url + r.URL.Path}
}

// iamListAuthDomains answers with the caller's account, or an empty list
// for an account whose HideDomain is set. The "domains" key is always
// present: the SDK dereferences it.
func (s *Server) iamListAuthDomains(w http.ResponseWriter, r *http.Request, c *hwCaller) {
	if err := hwCheckQuery(r.URL.Query()); err != nil {
		hwBadRequest(w, r, err.Error())
		return
	}
	domains := []iamDomain{}
	if !c.account.HideDomain {
		domains = append(domains, iamDomain{ID: c.account.ID, Name: c.account.Name, Enabled: true,
			Links: iamLinks{Self: s.url + "/v3/domains/" + c.account.ID}})
	}
	writeJSON(w, http.StatusOK, map[string]any{"domains": domains, "links": s.selfLink(r)})
}

// projectFor is the account's project in region: the account's ProjectID
// in the demo region, a stable derived ID elsewhere.
func hwProjectFor(acc HuaweiAccount, region string) iamProject {
	id := acc.ProjectID
	if region != DemoRegion {
		sum := sha256.Sum256([]byte("project|" + acc.ID + "|" + region))
		id = hex.EncodeToString(sum[:16])
	}
	return iamProject{ID: id, Name: region, DomainID: acc.ID, ParentID: acc.ID, Enabled: true}
}

// iamListProjects answers GET /v3/projects?name={region} with exactly one
// project (what basic credentials need); an unknown name gives none.
func (s *Server) iamListProjects(w http.ResponseWriter, r *http.Request, c *hwCaller) {
	q := r.URL.Query()
	if err := hwCheckQuery(q, "name", "domain_id", "enabled", "is_domain", "parent_id", "page", "per_page"); err != nil {
		hwBadRequest(w, r, err.Error())
		return
	}
	if d := q.Get("domain_id"); d != "" && d != c.account.ID {
		writeJSON(w, http.StatusOK, map[string]any{"projects": []iamProject{}, "links": s.selfLink(r)})
		return
	}
	projects := []iamProject{}
	name := q.Get("name")
	switch {
	case name == "":
		projects = append(projects, hwProjectFor(c.account, DemoRegion))
	case hwRegionName.MatchString(name):
		projects = append(projects, hwProjectFor(c.account, name))
	}
	for i := range projects {
		projects[i].Links = iamLinks{Self: s.url + "/v3/projects/" + projects[i].ID}
	}
	writeJSON(w, http.StatusOK, map[string]any{"projects": projects, "links": s.selfLink(r)})
}

// iamListAuthProjects lists the projects the caller can access.
func (s *Server) iamListAuthProjects(w http.ResponseWriter, r *http.Request, c *hwCaller) {
	if err := hwCheckQuery(r.URL.Query()); err != nil {
		hwBadRequest(w, r, err.Error())
		return
	}
	p := hwProjectFor(c.account, DemoRegion)
	p.Links = iamLinks{Self: s.url + "/v3/projects/" + p.ID}
	writeJSON(w, http.StatusOK, map[string]any{"projects": []iamProject{p}, "links": s.selfLink(r)})
}

// iamShowUser shows an IAM user of the caller's account.
func (s *Server) iamShowUser(w http.ResponseWriter, r *http.Request, c *hwCaller) {
	if err := hwCheckQuery(r.URL.Query()); err != nil {
		hwBadRequest(w, r, err.Error())
		return
	}
	id := r.PathValue("user_id")
	for _, k := range c.account.Keys {
		if k.UserID == id {
			writeJSON(w, http.StatusOK, map[string]any{"user": map[string]any{
				"id": k.UserID, "name": k.UserName, "domain_id": c.account.ID, "enabled": true,
				"links": iamLinks{Self: s.url + "/v3/users/" + k.UserID}}})
			return
		}
	}
	hwFail(w, r, hwMissing, "Could not find user: "+id)
}

// iamShowCredential shows a permanent access key of the caller's account.
func (s *Server) iamShowCredential(w http.ResponseWriter, r *http.Request, c *hwCaller) {
	if err := hwCheckQuery(r.URL.Query()); err != nil {
		hwBadRequest(w, r, err.Error())
		return
	}
	ak := r.PathValue("access_key")
	for _, k := range c.account.Keys {
		if k.AK == ak && k.SecurityToken == "" {
			writeJSON(w, http.StatusOK, map[string]any{"credential": map[string]any{
				"user_id": k.UserID, "access": k.AK, "status": "active", "create_time": "2020-01-08 02:26:19.0",
				"last_use_time": s.Now().UTC().Format("2006-01-02 15:04:05.0"), "description": ""}})
			return
		}
	}
	hwFail(w, r, hwMissing, "Could not find credential: "+ak)
}

// stsCallerIdentity answers STS GetCallerIdentity: the account ID even for
// accounts whose IAM domain list is hidden.
func (s *Server) stsCallerIdentity(w http.ResponseWriter, r *http.Request, c *hwCaller) {
	if err := hwCheckQuery(r.URL.Query()); err != nil {
		hwBadRequest(w, r, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{
		"account_id":    c.account.ID,
		"principal_id":  c.key.UserID,
		"principal_urn": "iam::" + c.account.ID + ":user:" + c.key.UserName,
	})
}
