package pgstore_test

import (
	"context"
	"testing"

	"github.com/truewatch-labs/marketplace-go/pg/internal/pgtest"
	"github.com/truewatch-labs/marketplace-go/pg/pgstore"
	"github.com/truewatch-labs/marketplace-go/truewatch"
	"github.com/truewatch-labs/marketplace-go/truewatch/storetest"
)

// migrated returns a store on a fresh, migrated database.
func migrated(t *testing.T) (*pgstore.Store, string) {
	t.Helper()
	dsn := pgtest.Database(t)
	s, err := pgstore.New(pgtest.Pool(t, dsn))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s, dsn
}

// TestConformance runs the store suite against PostgreSQL; a second pool on
// the same database stands for another process.
func TestConformance(t *testing.T) {
	s, dsn := migrated(t)
	storetest.Run(t,
		func(t *testing.T) truewatch.Store {
			pgtest.Exec(t, s.Pool(), "TRUNCATE truewatch_checkpoints, truewatch_leases")
			return s
		},
		storetest.WithReopen(func(t *testing.T, _ truewatch.Store) truewatch.Store {
			other, err := pgstore.New(pgtest.Pool(t, dsn), pgstore.WithListBatchSize(2)) // and List in small batches
			if err != nil {
				t.Fatal(err)
			}
			return other
		}),
		storetest.WithCorrupt(func(t *testing.T, _ truewatch.Store, id string) {
			pgtest.Exec(t, s.Pool(), `UPDATE truewatch_checkpoints SET data = jsonb_set(data, '{steps}', '"edited"') WHERE activation_id = $1`, id)
		}))
}
