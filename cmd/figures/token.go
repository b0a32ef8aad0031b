package main

import (
	"errors"
	"fmt"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/figures-analytics/figures/internal/store"
)

func init() { register(newTokenCmd) }

func newTokenCmd() *cobra.Command {
	var storeURL string
	var t timeouts
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Manage the API's tokens and site administrators",
		Long: `token manages who may call the REST API (figures serve):

  API tokens, for scripts and the dashboard's token sign-in. A token reads
  one site (--site ID) or every site (--all). It is printed once, at
  creation; the store keeps only its SHA-256 hash.

  Site administrators: LMS users who, signed in with an Open edX JWT, read one
  site's data although they are not global staff. (Global staff and
  superusers, the JWT's administrator and superuser claims, read every site
  without a grant.)`,
	}
	cmd.PersistentFlags().StringVar(&storeURL, "store", "", "store database URL")
	t.register(cmd.PersistentFlags(), false)
	open := func(cmd *cobra.Command) (*store.Store, error) {
		if storeURL == "" {
			return nil, errors.New("--store is required (or FIGURES_STORE)")
		}
		return t.openStore(cmd.Context(), storeURL, false)
	}

	var (
		site int
		all  bool
		name string
	)
	create := &cobra.Command{
		Use:   "create --store URL (--site ID | --all) [--name NAME]",
		Short: "Create an API token and print it (once)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if all == (site != 0) {
				return errors.New("give either --site ID (a token for one site) or --all (a token for every site)")
			}
			st, err := open(cmd)
			if err != nil {
				return err
			}
			defer st.Close()
			var siteID *int
			if !all {
				siteID = &site
			}
			tok, rec, err := st.CreateAPIToken(cmd.Context(), name, siteID, time.Now())
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), tok)
			fmt.Fprintf(cmd.ErrOrStderr(), "token %d %q created for %s; it is shown only now: store it safely\n", rec.ID, name, scope(rec.SiteID))
			return nil
		},
	}
	create.Flags().IntVar(&site, "site", 0, "the site the token reads")
	create.Flags().BoolVar(&all, "all", false, "the token reads every site")
	create.Flags().StringVar(&name, "name", "", "a name to recognise the token by")

	list := &cobra.Command{
		Use:   "list --store URL",
		Short: "List the API tokens (never the tokens themselves)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := open(cmd)
			if err != nil {
				return err
			}
			defer st.Close()
			toks, err := st.ListAPITokens(cmd.Context())
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tNAME\tSCOPE\tCREATED\tREVOKED")
			for _, t := range toks {
				revoked := "-"
				if t.Revoked != nil {
					revoked = t.Revoked.Format(time.RFC3339)
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", t.ID, t.Name, scope(t.SiteID), t.Created.Format(time.RFC3339), revoked)
			}
			return tw.Flush()
		},
	}

	revoke := &cobra.Command{
		Use:   "revoke --store URL ID",
		Short: "Revoke an API token (by the id token list shows)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil {
				return fmt.Errorf("token id %q: want the number token list shows", args[0])
			}
			st, err := open(cmd)
			if err != nil {
				return err
			}
			defer st.Close()
			if err := st.RevokeAPIToken(cmd.Context(), id, time.Now()); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "token %d revoked\n", id)
			return nil
		},
	}

	var adminSite int
	grant := &cobra.Command{
		Use:   "admin-grant --store URL --site ID USERNAME",
		Short: "Let an LMS user (by JWT) read one site",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if adminSite == 0 {
				return errors.New("--site is required")
			}
			st, err := open(cmd)
			if err != nil {
				return err
			}
			defer st.Close()
			if err := st.GrantSiteAdmin(cmd.Context(), adminSite, args[0], time.Now()); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "%s administers site %d\n", args[0], adminSite)
			return nil
		},
	}
	grant.Flags().IntVar(&adminSite, "site", 0, "the site")
	ungrant := &cobra.Command{
		Use:   "admin-revoke --store URL --site ID USERNAME",
		Short: "Take a site back from an LMS user",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if adminSite == 0 {
				return errors.New("--site is required")
			}
			st, err := open(cmd)
			if err != nil {
				return err
			}
			defer st.Close()
			if err := st.RevokeSiteAdmin(cmd.Context(), adminSite, args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "%s no longer administers site %d\n", args[0], adminSite)
			return nil
		},
	}
	ungrant.Flags().IntVar(&adminSite, "site", 0, "the site")
	admins := &cobra.Command{
		Use:   "admin-list --store URL",
		Short: "List the site administrators",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := open(cmd)
			if err != nil {
				return err
			}
			defer st.Close()
			list, err := st.ListSiteAdmins(cmd.Context())
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SITE\tUSERNAME\tGRANTED")
			for _, a := range list {
				fmt.Fprintf(tw, "%d\t%s\t%s\n", a.SiteID, a.Username, a.Created.Format(time.RFC3339))
			}
			return tw.Flush()
		},
	}
	cmd.AddCommand(create, list, revoke, grant, ungrant, admins)
	return cmd
}

func scope(siteID *int) string {
	if siteID == nil {
		return "all sites"
	}
	return fmt.Sprintf("site %d", *siteID)
}
