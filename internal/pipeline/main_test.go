package pipeline_test

import (
	"os"
	"testing"

	"github.com/figures-analytics/figures/internal/database/dbtest"
)

// The tests share their MariaDB and PostgreSQL databases through dbtest's
// pool: most of them run on every store.
func TestMain(m *testing.M) { os.Exit(dbtest.Main(m)) }
