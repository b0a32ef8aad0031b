package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/figures-analytics/figures/internal/store"
)

func init() { register(newMigrateCmd) }

func newMigrateCmd() *cobra.Command {
	var storeURL string
	var t timeouts
	cmd := &cobra.Command{
		Use:   "migrate --store URL",
		Short: "Create or update the store's tables",
		Long: `migrate applies the store's embedded migrations (SQLite, MySQL/MariaDB or
PostgreSQL). Every command that writes to the store migrates it first, so
this is only needed to prepare a store ahead of time.

A store whose schema a newer figures migrated is refused, by migrate and by
every other command, with an error naming both schema versions: run the
release that migrated it, or a later one.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if storeURL == "" {
				return fmt.Errorf("--store is required (or FIGURES_STORE)")
			}
			st, err := t.openStore(cmd.Context(), storeURL, false)
			if err != nil {
				return err
			}
			defer st.Close()
			fmt.Fprintf(cmd.OutOrStdout(), "store %s is up to date (schema version %d)\n", st.DB().Location(), store.KnownVersion())
			return nil
		},
	}
	cmd.Flags().StringVar(&storeURL, "store", "", "store database URL")
	t.register(cmd.Flags(), false)
	return cmd
}
