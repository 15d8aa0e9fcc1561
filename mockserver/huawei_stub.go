package mockserver

import "net/http"

// Placeholder until the Huawei half lands (huawei_*.go replace this file).
func (s *Server) registerHuawei(mux *http.ServeMux) {}
