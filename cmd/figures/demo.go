package main

import (
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/spf13/cobra"

	"github.com/figures-analytics/figures/internal/demo"
	"github.com/figures-analytics/figures/internal/store"
	"github.com/figures-analytics/figures/internal/web"
)

func init() { register(newDemoCmd) }

func newDemoCmd() *cobra.Command {
	var (
		dir     string
		addr    string
		noServe bool
		seed    uint64
		days    int
	)
	cmd := &cobra.Command{
		Use:   "demo [--dir DIR] [--addr HOST:PORT] [--no-serve]",
		Short: "Build a demo installation on synthetic data and serve its dashboard",
		Long: `demo needs no set-up: it builds a synthetic Open edX LMS in SQLite under --dir
(the two real demo courses plus generated ones, several sites, a few hundred
learners and their history), imports the course outlines, runs the pipeline
(next workflow) for every day of the history, prints a summary, creates an API
token for every site and serves the dashboard and the API, printing a sign-in
link that opens the dashboard at once. Running it again rebuilds the demo.

The demo's databases stay in --dir, so the other commands work on them:
  figures run --lms sqlite:///DIR/lms.db --store sqlite:///DIR/figures.db`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			w := cmd.OutOrStdout()
			progress, finish := progressFunc()
			fmt.Fprintf(w, "building the demo in %s ...\n", dir)
			res, err := demo.Build(ctx, demo.Options{Dir: dir, Seed: seed, Days: days, Progress: progress})
			finish()
			if err != nil {
				return err
			}
			res.PrintSummary(w)
			st, err := store.Open(ctx, res.StoreURL)
			if err != nil {
				return err
			}
			token, _, err := st.CreateAPIToken(ctx, "figures demo", nil, time.Now())
			st.Close()
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "\nLMS:   %s\nstore: %s\n", res.LMSURL, res.StoreURL)
			if noServe {
				fmt.Fprintf(w, "\nserve it with:\n  %s serve --store %s --lms %s --addr %s\nthen open %s\n",
					invocation(), res.StoreURL, res.LMSURL, addr, web.SignInURL("http://"+addr, token))
				return nil
			}
			srv, cleanup, err := buildServer(ctx, serveOptions{storeURL: res.StoreURL, lmsURL: res.LMSURL, addr: addr,
				liveTTL: 5 * time.Minute, dbConns: 8})
			if err != nil {
				return err
			}
			defer cleanup()
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return fmt.Errorf("listen on %s: %w (choose another with --addr)", addr, err)
			}
			fmt.Fprintf(w, "\nThe dashboard is ready. Sign in (this link carries an all-sites API token):\n\n  %s\n\nAPI: http://%s/figures/api/  (Authorization: Bearer %s)\nPress Ctrl-C to stop.\n",
				web.SignInURL("http://"+ln.Addr().String(), token), ln.Addr(), token)
			slog.Debug("serving the demo", "addr", ln.Addr().String())
			return runServer(ctx, srv, ln)
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "./figures-demo", "directory for the demo's databases and OLX exports")
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8000", "address to serve the dashboard on")
	cmd.Flags().BoolVar(&noServe, "no-serve", false, "build and print the summary, then exit")
	cmd.Flags().Uint64Var(&seed, "seed", 1, "synthetic dataset seed")
	cmd.Flags().IntVar(&days, "days", 0, "days of history (default: the small dataset's 60)")
	return cmd
}
