package mockserver

// state is everything the mock knows. It is guarded by Server.mu.
type state struct {
	huawei huaweiState
	tw     twState
	mkt    marketState
	joint  jointState
}

func newState() *state {
	st := &state{huawei: huaweiState{accounts: map[string]*HuaweiAccount{}, keys: map[string]*keyRef{},
		byInst: map[string]*Purchase{}, byAccount: map[string][]*Purchase{},
		orderIDs: map[string]struct{}{}}}
	st.tw = newTWState()
	st.mkt = newMarketState()
	st.joint = newJointState()
	return st
}
