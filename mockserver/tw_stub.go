package mockserver

import "net/http"

// Placeholder until the TrueWatch half lands (tw_*.go replace this file).

type twState struct{}

func newTWState() twState { return twState{} }

func (s *Server) registerTrueWatch(mux *http.ServeMux) {}

// releaseSubscriptionLocked applies a purchase's release to the TrueWatch
// half: workspaces settled by it are locked and fall back to Billing Center
// settlement; its Billing Center binding is removed. Caller holds s.mu.
func (s *Server) releaseSubscriptionLocked(p *Purchase) {}
