package mockserver

import (
	"slices"
	"strings"
)

// hwRegion is a Huawei Cloud region as IAM's KeystoneListRegions shows it.
type hwRegion struct {
	ID   string
	EnUS string // the English display name
	ZhCN string // the Chinese display name
}

// hwRegions are the regions that exist: exactly the regions of the
// official SDK's IAM region table (services/iam/v3/region, v0.1.207),
// sorted by ID. Every account has one project in each, named after it, and
// IAM answers projects for these names only, so a mistyped region fails as
// it does against Huawei (the SDK's basic credentials find no project and
// report "confirm that the project exists"). The display names are the
// console's, as far as the mock knows them; Huawei does not publish the
// table IAM answers with.
var hwRegions = sortedRegions([]hwRegion{
	{ID: "af-south-1", EnUS: "AF-Johannesburg", ZhCN: "非洲-约翰内斯堡"},
	{ID: "ae-ad-1", EnUS: "ME-Abu Dhabi", ZhCN: "中东-阿布扎比"},
	{ID: "ap-southeast-1", EnUS: "CN-Hong Kong", ZhCN: "中国-香港"},
	{ID: "ap-southeast-2", EnUS: "AP-Bangkok", ZhCN: "亚太-曼谷"},
	{ID: "ap-southeast-3", EnUS: "AP-Singapore", ZhCN: "亚太-新加坡"},
	{ID: "ap-southeast-4", EnUS: "AP-Jakarta", ZhCN: "亚太-雅加达"},
	{ID: "cn-east-2", EnUS: "CN East-Shanghai2", ZhCN: "华东-上海二"},
	{ID: "cn-east-3", EnUS: "CN East-Shanghai1", ZhCN: "华东-上海一"},
	{ID: "cn-east-4", EnUS: "CN East2", ZhCN: "华东二"},
	{ID: "cn-east-5", EnUS: "CN East-Qingdao", ZhCN: "华东-青岛"},
	{ID: "cn-north-1", EnUS: "CN North-Beijing1", ZhCN: "华北-北京一"},
	{ID: "cn-north-2", EnUS: "CN North-Beijing2", ZhCN: "华北-北京二"},
	{ID: "cn-north-4", EnUS: "CN North-Beijing4", ZhCN: "华北-北京四"},
	{ID: "cn-north-9", EnUS: "CN North-Ulanqab1", ZhCN: "华北-乌兰察布一"},
	{ID: "cn-north-12", EnUS: "CN North-Ulanqab2", ZhCN: "华北-乌兰察布二"},
	{ID: "cn-south-1", EnUS: "CN South-Guangzhou", ZhCN: "华南-广州"},
	{ID: "cn-south-2", EnUS: "CN South-Shenzhen", ZhCN: "华南-深圳"},
	{ID: "cn-southwest-2", EnUS: "CN Southwest-Guiyang1", ZhCN: "西南-贵阳一"},
	{ID: "eu-west-0", EnUS: "EU-Paris", ZhCN: "欧洲-巴黎"},
	{ID: "eu-west-101", EnUS: "EU-Dublin", ZhCN: "欧洲-都柏林"},
	{ID: "la-north-2", EnUS: "LA-Mexico City2", ZhCN: "拉美-墨西哥城二"},
	{ID: "la-south-2", EnUS: "LA-Santiago", ZhCN: "拉美-圣地亚哥"},
	{ID: "me-east-1", EnUS: "ME-Riyadh", ZhCN: "中东-利雅得"},
	{ID: "my-kualalumpur-1", EnUS: "AP-Kuala Lumpur", ZhCN: "亚太-吉隆坡"},
	{ID: "na-mexico-1", EnUS: "LA-Mexico City1", ZhCN: "拉美-墨西哥城一"},
	{ID: "ru-moscow-1", EnUS: "RU-Moscow", ZhCN: "俄罗斯-莫斯科"},
	{ID: "sa-brazil-1", EnUS: "LA-Sao Paulo1", ZhCN: "拉美-圣保罗一"},
	{ID: "tr-west-1", EnUS: "TR-Istanbul", ZhCN: "土耳其-伊斯坦布尔"},
})

func sortedRegions(rs []hwRegion) []hwRegion {
	slices.SortFunc(rs, func(a, b hwRegion) int { return strings.Compare(a.ID, b.ID) })
	return rs
}

// hwRegionByID finds a region that exists.
func hwRegionByID(id string) (hwRegion, bool) {
	i, ok := slices.BinarySearchFunc(hwRegions, id, func(r hwRegion, id string) int { return strings.Compare(r.ID, id) })
	if !ok {
		return hwRegion{}, false
	}
	return hwRegions[i], true
}

// RegionIDs lists the Huawei regions the mock knows, sorted: the regions of
// the official SDK's IAM region table. IAM answers a project for each, and
// a purchase's RegionCode must be one of them.
func RegionIDs() []string {
	out := make([]string, len(hwRegions))
	for i, r := range hwRegions {
		out[i] = r.ID
	}
	return out
}
