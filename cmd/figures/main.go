// Command figures collects Open edX learner-progress and course metrics
// from an LMS database, read-only, into its own store, and serves them as a
// Figures-compatible REST API and a dashboard.
//
// This package only wires the internal packages to the command line; each
// command lives in its own file.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/figures-analytics/figures/internal/config"
)

// exitError carries a process exit status other than 1 out of a command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func newRoot() *cobra.Command {
	var (
		configPath string
		logLevel   string
		logFormat  string
	)
	root := &cobra.Command{
		Use:   "figures",
		Short: "Open edX learner-progress and course metrics",
		Long: `figures reads an Open edX LMS database (read-only: a replica is ideal),
computes Figures' daily site, course and per-enrollment metrics into its own
store, and serves them as a Figures-compatible REST API and a dashboard.

Settings come from flags, then FIGURES_* environment variables (the flag
name upper-cased, dashes as underscores: --store is FIGURES_STORE), then the
YAML file given with --config (or FIGURES_CONFIG), whose keys are flag names.

Database locations are URLs:
  sqlite:///relative/path.db   sqlite:////absolute/path.db
  mysql://user:pass@host:3306/db   mysql://user@localhost/db?socket=/run/mysqld/mysqld.sock
  postgres://user:pass@host:5432/db   (store only)

Start with: figures demo`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			if err := setupLogging(logLevel, logFormat); err != nil {
				return err
			}
			if configPath == "" {
				configPath = os.Getenv("FIGURES_CONFIG")
			}
			file, err := config.Load(configPath)
			if err != nil {
				return err
			}
			return config.Apply(cmd, file)
		},
	}
	root.PersistentFlags().StringVar(&configPath, "config", "", "YAML settings file (keys are flag names)")
	root.PersistentFlags().StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn or error")
	root.PersistentFlags().StringVar(&logFormat, "log-format", "text", "log format: text or json")
	for _, add := range commands {
		root.AddCommand(add())
	}
	return root
}

// commands are the subcommand constructors, registered by each command's file.
var commands []func() *cobra.Command

func register(c func() *cobra.Command) { commands = append(commands, c) }

func setupLogging(level, format string) error {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: l}
	var h slog.Handler
	switch format {
	case "text":
		h = slog.NewTextHandler(os.Stderr, opts)
	case "json":
		h = slog.NewJSONHandler(os.Stderr, opts)
	default:
		return fmt.Errorf("--log-format %q: want text or json", format)
	}
	slog.SetDefault(slog.New(h))
	return nil
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := newRoot().ExecuteContext(ctx)
	if err == nil {
		return
	}
	fmt.Fprintln(os.Stderr, "figures:", err)
	var ee *exitError
	if errors.As(err, &ee) {
		os.Exit(ee.code)
	}
	os.Exit(1)
}
