package huawei

import (
	"context"
	"encoding/json"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core"
	bss "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/bss/v2"
	bssintl "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/bssintl/v2"

	"github.com/truewatch-labs/marketplace-go/apierror"
)

// bssCall makes one BSS call with the client's retries: on BSS
// international, or on BSS for the Chinese mainland with
// WithChineseMainland. The two services' models are identical on the wire,
// so the mainland request and answer are converted through JSON and
// callers handle the international models only. A nil answer is an
// ErrMalformedResponse.
func bssCall[IReq, IResp, CReq, CResp any](ctx context.Context, c *Client, domainID, op string, req *IReq,
	onIntl func(*bssintl.BssintlClient, *IReq) (*IResp, error),
	onMainland func(*bss.BssClient, *CReq) (*CResp, error)) (*IResp, error) {
	resp, err := invoke(ctx, c, c.bssService(domainID), op, func(hc *core.HcHttpClient) (*IResp, error) {
		if !c.cfg.chineseMainland {
			return onIntl(bssintl.NewBssintlClient(hc), req)
		}
		var mreq CReq
		if err := convert(req, &mreq); err != nil {
			return nil, err
		}
		r, err := onMainland(bss.NewBssClient(hc), &mreq)
		if err != nil || r == nil {
			return nil, err
		}
		var out IResp
		return &out, convert(r, &out)
	})
	if err == nil && resp == nil {
		return nil, malformed(ServiceBSS, op, "", "empty response")
	}
	return resp, err
}

// bssDomainID refuses invalid arguments (problems) before any call, then
// gives the account ID BSS calls carry.
func (c *Client) bssDomainID(ctx context.Context, op string, problems apierror.Problems) (string, error) {
	if err := problems.Err(op); err != nil {
		return "", err
	}
	return c.domainID(ctx)
}

// convert copies between the BSS and BSS international models.
func convert(in, out any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, out)
}

// pageTotal checks the paging of a BSS list answer fetched from offset:
// total_count must be present and not negative, and the list (named
// items) may be absent only when no item remains. Without these checks a
// truncated answer would end the listing early and look like "no more
// purchases" instead of an error.
func pageTotal(op, items string, total *int32, listed bool, offset int) (int, error) {
	if total == nil {
		return 0, malformed(ServiceBSS, op, "", "no total_count in the response")
	}
	if *total < 0 {
		return 0, malformed(ServiceBSS, op, "", "negative total_count %d", *total)
	}
	if !listed && int(*total) > offset {
		return 0, malformed(ServiceBSS, op, "", "no %s in the response, though total_count is %d", items, *total)
	}
	return int(*total), nil
}
