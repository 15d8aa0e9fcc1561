package mockserver_test

import (
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/basic"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/region"
	iam "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/iam/v3"
	iammodel "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/iam/v3/model"
	iamregion "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/iam/v3/region"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/truewatch-labs/marketplace-go/mockserver"
)

// TestHuaweiRegionsAreTheSDKs: the regions the mock knows are exactly
// those of the official SDK's IAM region table.
func TestHuaweiRegionsAreTheSDKs(t *testing.T) {
	ids := mockserver.RegionIDs()
	for _, id := range ids {
		_, err := iamregion.SafeValueOf(id)
		assert.NoError(t, err, id)
	}
	// The SDK lists its regions in the error for an unknown one.
	_, err := iamregion.SafeValueOf("no-such-region")
	require.Error(t, err)
	sdk := regexp.MustCompile(`[a-z]+(-[a-z0-9]+)+`).FindAllString(strings.SplitN(err.Error(), "no-such-region", 2)[1], -1)
	slices.Sort(sdk)
	assert.Equal(t, slices.Compact(sdk), ids)
}

// TestHuaweiMistypedRegionFailsAsInProduction: basic credentials look the
// project up by region name; a region that does not exist has no project,
// and the SDK fails as it does against Huawei.
func TestHuaweiMistypedRegionFailsAsInProduction(t *testing.T) {
	srv := mockserver.Start(t, mockserver.WithoutDemoFixture())
	a := newHWAcct(t, srv, "", false)
	build := func(regionID string) (*basic.Credentials, error) {
		cred, err := basic.NewCredentialsBuilder().WithAk(a.ak).WithSk(a.sk).WithIamEndpointOverride(srv.HuaweiEndpoint()).SafeBuild()
		require.NoError(t, err)
		_, err = iam.IamClientBuilder().WithRegion(region.NewRegion(regionID, srv.HuaweiEndpoint())).WithCredential(cred).SafeBuild()
		return cred, err
	}
	cred, err := build("ap-southeast-3")
	require.NoError(t, err)
	assert.Len(t, cred.ProjectId, 32)

	_, err = build("ap-southeast-9")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "confirm that the project exists")

	_, err = srv.AddPurchase(mockserver.Purchase{AccountID: a.id, InstanceID: "r-1", RegionCode: "ap-southeast-9"})
	assert.ErrorContains(t, err, "does not exist", "a purchase lives in a region that exists")
	_, err = srv.AddPurchase(mockserver.Purchase{AccountID: a.id, InstanceID: "r-1", RegionCode: "cn-north-4"})
	assert.NoError(t, err)
}

// TestHuaweiProjectsArePaged: KeystoneListProjects pages with page and
// per_page and links to the next and previous pages; every region has a
// project, and the filters apply.
func TestHuaweiProjectsArePaged(t *testing.T) {
	srv := mockserver.Start(t, mockserver.WithoutDemoFixture())
	a := newHWAcct(t, srv, "", false)
	c := a.iam(t)
	all, err := c.KeystoneListProjects(&iammodel.KeystoneListProjectsRequest{})
	require.NoError(t, err)
	require.Len(t, *all.Projects, len(mockserver.RegionIDs()))
	assert.Empty(t, all.Links.Next, "not paged: no next link")

	var names []string
	for page := int32(1); ; page++ {
		resp, err := c.KeystoneListProjects(&iammodel.KeystoneListProjectsRequest{Page: ptr(page), PerPage: ptr(int32(10))})
		require.NoError(t, err)
		for _, p := range *resp.Projects {
			names = append(names, p.Name)
			assert.Equal(t, a.id, p.DomainId)
		}
		if page > 1 {
			assert.Contains(t, resp.Links.Previous, "page="+strconv.Itoa(int(page-1)))
		} else {
			assert.Empty(t, resp.Links.Previous)
		}
		if resp.Links.Next == "" {
			assert.Len(t, *resp.Projects, len(mockserver.RegionIDs())-int(page-1)*10)
			break
		}
		assert.Len(t, *resp.Projects, 10)
		assert.Contains(t, resp.Links.Next, "page="+strconv.Itoa(int(page+1)))
	}
	assert.Equal(t, mockserver.RegionIDs(), names)

	for _, req := range []iammodel.KeystoneListProjectsRequest{
		{Enabled: ptr(false)}, {IsDomain: ptr(true)}, {DomainId: ptr("ffffffffffffffffffffffffffffffff")},
		{ParentId: ptr("ffffffffffffffffffffffffffffffff")}, {Name: ptr("ap-southeast-9")},
	} {
		resp, err := c.KeystoneListProjects(&req)
		require.NoError(t, err)
		assert.Empty(t, *resp.Projects, "%+v", req)
	}
	one, err := c.KeystoneListProjects(&iammodel.KeystoneListProjectsRequest{Name: ptr("cn-north-4"), DomainId: &a.id, Enabled: ptr(true)})
	require.NoError(t, err)
	require.Len(t, *one.Projects, 1)

	for _, q := range []string{"page=1", "per_page=5", "page=0&per_page=5", "page=1&per_page=5001", "enabled=yes"} {
		assertKeystoneError(t, a.raw(t, http.MethodGet, "/v3/projects?"+q, "", nil), 400)
	}
}

// TestHuaweiIAMReadCalls: the cheap read-only IAM calls around an
// activation, through the official SDK.
func TestHuaweiIAMReadCalls(t *testing.T) {
	srv := mockserver.Start(t, mockserver.WithoutDemoFixture())
	a := newHWAcct(t, srv, "", false)
	c := a.iam(t)

	regions, err := c.KeystoneListRegions(&iammodel.KeystoneListRegionsRequest{})
	require.NoError(t, err)
	require.Len(t, *regions.Regions, len(mockserver.RegionIDs()))
	reg, err := c.KeystoneShowRegion(&iammodel.KeystoneShowRegionRequest{RegionId: "ap-southeast-1"})
	require.NoError(t, err)
	assert.Equal(t, "ap-southeast-1", reg.Region.Id)
	assert.Equal(t, "CN-Hong Kong", reg.Region.Locales.EnUs)
	_, err = c.KeystoneShowRegion(&iammodel.KeystoneShowRegionRequest{RegionId: "ap-southeast-9"})
	assert.Equal(t, 404, sdkErr(t, err).StatusCode)

	auth, err := c.KeystoneListAuthProjects(&iammodel.KeystoneListAuthProjectsRequest{})
	require.NoError(t, err)
	require.Len(t, *auth.Projects, len(mockserver.RegionIDs()))
	p := (*auth.Projects)[0]
	shown, err := c.KeystoneShowProject(&iammodel.KeystoneShowProjectRequest{ProjectId: p.Id})
	require.NoError(t, err)
	assert.Equal(t, p.Name, shown.Project.Name)
	assert.Equal(t, a.id, shown.Project.DomainId)
	other := newHWAcct(t, srv, "other", false)
	_, err = other.iam(t).KeystoneShowProject(&iammodel.KeystoneShowProjectRequest{ProjectId: p.Id})
	assert.Equal(t, 404, sdkErr(t, err).StatusCode, "another account's project does not exist for the caller")

	users, err := c.KeystoneListUsers(&iammodel.KeystoneListUsersRequest{})
	require.NoError(t, err)
	require.Len(t, *users.Users, 1)
	assert.Equal(t, a.userID, (*users.Users)[0].Id)
	assert.Equal(t, a.id, (*users.Users)[0].DomainId)
	none, err := c.KeystoneListUsers(&iammodel.KeystoneListUsersRequest{Name: ptr("bob")})
	require.NoError(t, err)
	assert.Empty(t, *none.Users)

	keys, err := c.ListPermanentAccessKeys(&iammodel.ListPermanentAccessKeysRequest{UserId: &a.userID})
	require.NoError(t, err)
	require.Len(t, *keys.Credentials, 1)
	assert.Equal(t, a.ak, (*keys.Credentials)[0].Access)
	assert.NotContains(t, keys.String(), a.sk)
}
