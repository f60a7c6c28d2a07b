package server

import "net/http"

// Access is the portal's access requests: staff ask for an account.
type Access struct{}

// requestRoutes registers the access requests' pages when they are on.
func (s *Server) requestRoutes(mux *http.ServeMux) {
	if s.cfg.Access == nil {
		return
	}
}
