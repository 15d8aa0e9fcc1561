module github.com/truewatch-labs/marketplace-go

go 1.25

require github.com/hashicorp/go-retryablehttp v0.7.8

require (
	github.com/getkin/kin-openapi v0.153.0 // indirect
	github.com/hashicorp/go-cleanhttp v0.5.2 // indirect
	github.com/huaweicloud/huaweicloud-sdk-go-v3 v0.1.207 // indirect
	github.com/jarcoal/httpmock v1.4.2 // indirect
	github.com/stretchr/testify v1.12.1 // indirect
)
