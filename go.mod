module github.com/truewatch-labs/marketplace-go

go 1.25

require github.com/hashicorp/go-retryablehttp v0.7.8

require github.com/hashicorp/go-cleanhttp v0.5.2 // indirect
