package pgstore_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

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

// TestKeySecretHasItsOwnColumn: the checkpoint's key secret is kept in
// key_secret, not in data, so that a role granted every column but that one
// reads the activations' progress and not the secret; the column takes
// nothing but a secret's 64 hex characters.
func TestKeySecretHasItsOwnColumn(t *testing.T) {
	s, _ := migrated(t)
	ctx := context.Background()
	cp, err := truewatch.NewCheckpoint(truewatch.Identity{ActivationID: "actv_col", HuaweiAccountID: "tenant",
		InstanceID: "inst", Site: truewatch.SiteAP1, Branch: truewatch.BranchRegister})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Save(ctx, cp.ActivationID, cp); err != nil {
		t.Fatal(err)
	}
	enc, err := json.Marshal(cp.KeySecret)
	if err != nil {
		t.Fatal(err)
	}
	var (
		inData bool
		column string
	)
	if err := s.Pool().QueryRow(ctx, "SELECT data ? 'keySecret', key_secret FROM truewatch_checkpoints WHERE activation_id = $1",
		cp.ActivationID).Scan(&inData, &column); err != nil {
		t.Fatal(err)
	}
	if inData || `"`+column+`"` != string(enc) {
		t.Fatalf("secret in data: %v; key_secret holds the checkpoint's secret: %v", inData, `"`+column+`"` == string(enc))
	}

	// A reporting role with every column but key_secret.
	err = pgx.BeginFunc(ctx, s.Pool(), func(tx pgx.Tx) error {
		role := "truewatch_reporter_" + strings.ToLower(rand.Text()[:8])
		for _, q := range []string{"CREATE ROLE " + role + " NOLOGIN",
			"GRANT SELECT (activation_id, revision, huawei_account_id, completed, failed, data, updated_at) ON truewatch_checkpoints TO " + role,
			"SET LOCAL ROLE " + role} {
			if _, err := tx.Exec(ctx, q); err != nil {
				return err
			}
		}
		var data string
		if err := tx.QueryRow(ctx, "SELECT data::text FROM truewatch_checkpoints WHERE activation_id = $1", cp.ActivationID).Scan(&data); err != nil {
			return fmt.Errorf("the reporter reads data: %w", err)
		}
		if strings.Contains(data, column) || !strings.Contains(data, cp.ActivationID) {
			return fmt.Errorf("the reporter's data: %s", data)
		}
		if _, err := tx.Exec(ctx, "SAVEPOINT secret"); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "SELECT key_secret FROM truewatch_checkpoints")
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "42501" { // insufficient_privilege
			return fmt.Errorf("the reporter reads key_secret: %v", err)
		}
		_, err = tx.Exec(ctx, "ROLLBACK TO SAVEPOINT secret")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}

	_, err = s.Pool().Exec(ctx, "UPDATE truewatch_checkpoints SET key_secret = 'not-a-secret' WHERE activation_id = $1", cp.ActivationID)
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "23514" { // check_violation
		t.Fatalf("key_secret edited into something else: %v, want a check violation", err)
	}
	if got, err := s.Load(ctx, cp.ActivationID); err != nil || got.KeySecret != cp.KeySecret {
		t.Fatalf("Load after the refused edit: %v, same secret: %v", err, err == nil && got.KeySecret == cp.KeySecret)
	}
}
