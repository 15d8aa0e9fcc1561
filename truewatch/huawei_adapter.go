package truewatch

import "errors"

// newHuaweiClient makes the Huawei client from the builder's settings.
func (a *Activation) newHuaweiClient() (huaweiAPI, error) {
	return nil, errors.New("not available yet")
}
