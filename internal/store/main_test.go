package store_test

import (
	"os"
	"testing"

	"github.com/figures-analytics/figures/internal/database/dbtest"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }
