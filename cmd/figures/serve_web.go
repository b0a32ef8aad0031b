package main

import (
	"log/slog"
	"net/http"

	"github.com/figures-analytics/figures/internal/web"
)

// The dashboard is served beside the API: /figures/ and every path below
// it that the API's more specific /figures/api/ patterns do not take.
func init() { serveMounts = append(serveMounts, mountDashboard) }

func mountDashboard(mux *http.ServeMux, d serveDeps) error {
	h, err := web.New(web.Config{Auth: d.Auth, Logger: slog.Default()})
	if err != nil {
		return err
	}
	mux.Handle(web.Path, h)
	return nil
}
