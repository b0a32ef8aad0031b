package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/figures-analytics/figures/internal/database/dbtest"
	"github.com/figures-analytics/figures/internal/store"
	"github.com/figures-analytics/figures/internal/store/storetest"
)

func TestAPITokensAndSiteAdmins(t *testing.T) {
	dbtest.Each(t, dbtest.Stores(), func(t *testing.T, k dbtest.Kind) {
		st := storetest.Open(t, k)
		db, ctx := st.DB(), context.Background()
		now := time.Date(2024, 3, 1, 10, 0, 0, 123456000, time.UTC)
		if _, err := db.Exec(ctx, "INSERT INTO figures_site (id, domain, name, org_filter, modified) VALUES (3, 'x.example.com', 'X', '[]', ?)", db.Time(now)); err != nil {
			t.Fatal(err)
		}
		three, nine := 3, 9
		if _, _, err := st.CreateAPIToken(ctx, "nowhere", &nine, now); err == nil {
			t.Fatal("token for a missing site: no error")
		}
		tokSite, rec, err := st.CreateAPIToken(ctx, "site three", &three, now)
		if err != nil {
			t.Fatal(err)
		}
		tokAll, _, err := st.CreateAPIToken(ctx, "all", nil, now)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(tokSite, store.APITokenPrefix) || len(tokSite) != len(store.APITokenPrefix)+43 || tokSite == tokAll {
			t.Fatalf("tokens %q %q", tokSite, tokAll)
		}
		// Only the hash is stored.
		var n int
		if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM figures_apitoken WHERE token_hash = ? OR token_hash = ?", tokSite, store.HashAPIToken(tokSite)).Scan(&n); err != nil || n != 1 {
			t.Fatalf("stored rows matching: %d %v", n, err)
		}
		got, err := st.LookupAPIToken(ctx, store.HashAPIToken(tokSite))
		if err != nil || got.ID != rec.ID || got.Name != "site three" || got.SiteID == nil || *got.SiteID != 3 || !got.Created.Equal(now) || got.Revoked != nil {
			t.Fatalf("lookup: %+v %v", got, err)
		}
		if got, err := st.LookupAPIToken(ctx, store.HashAPIToken(tokAll)); err != nil || got.SiteID != nil {
			t.Fatalf("lookup all: %+v %v", got, err)
		}
		if _, err := st.LookupAPIToken(ctx, store.HashAPIToken("fgt_nope")); !errors.Is(err, store.ErrAPINotFound) {
			t.Fatalf("unknown token: %v", err)
		}
		later := now.Add(time.Hour)
		if err := st.RevokeAPIToken(ctx, rec.ID, later); err != nil {
			t.Fatal(err)
		}
		if err := st.RevokeAPIToken(ctx, rec.ID, later.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := st.RevokeAPIToken(ctx, 999, later); !errors.Is(err, store.ErrAPINotFound) {
			t.Fatalf("revoke unknown: %v", err)
		}
		if _, err := st.LookupAPIToken(ctx, store.HashAPIToken(tokSite)); !errors.Is(err, store.ErrAPINotFound) {
			t.Fatalf("revoked token found: %v", err)
		}
		list, err := st.ListAPITokens(ctx)
		if err != nil || len(list) != 2 || list[0].Name != "site three" || list[0].Revoked == nil || !list[0].Revoked.Equal(later) ||
			list[1].Name != "all" || list[1].Revoked != nil {
			t.Fatalf("list: %+v %v", list, err)
		}

		if err := st.GrantSiteAdmin(ctx, 3, "carol", now); err != nil {
			t.Fatal(err)
		}
		if err := st.GrantSiteAdmin(ctx, 3, "carol", now); err != nil {
			t.Fatalf("second grant: %v", err)
		}
		if err := st.GrantSiteAdmin(ctx, 9, "carol", now); err == nil {
			t.Fatal("grant on a missing site: no error")
		}
		if err := st.GrantSiteAdmin(ctx, 3, " ", now); err == nil {
			t.Fatal("grant to no one: no error")
		}
		if sites, err := st.SiteAdminSites(ctx, "carol"); err != nil || len(sites) != 1 || sites[0] != 3 {
			t.Fatalf("sites of carol: %v %v", sites, err)
		}
		if sites, err := st.SiteAdminSites(ctx, "dave"); err != nil || len(sites) != 0 {
			t.Fatalf("sites of dave: %v %v", sites, err)
		}
		if admins, err := st.ListSiteAdmins(ctx); err != nil || len(admins) != 1 || admins[0].Username != "carol" || !admins[0].Created.Equal(now) {
			t.Fatalf("admins: %+v %v", admins, err)
		}
		if err := st.RevokeSiteAdmin(ctx, 3, "carol"); err != nil {
			t.Fatal(err)
		}
		if err := st.RevokeSiteAdmin(ctx, 3, "carol"); !errors.Is(err, store.ErrAPINotFound) {
			t.Fatalf("second revoke: %v", err)
		}
	})
}
