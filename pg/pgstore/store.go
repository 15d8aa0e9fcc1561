// Package pgstore is a truewatch.Store on PostgreSQL, through a pgx v5
// connection pool, for activations run by many processes on many machines.
//
//	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
//	store, err := pgstore.New(pool)
//	err = store.Migrate(ctx) // at deployment or start-up: idempotent, safe to race
//	res, err := truewatch.NewActivation().WithStore(store)....Run(ctx)
//
// Checkpoints live in truewatch_checkpoints, one row per activation: the
// checkpoint's JSON (jsonb) with its revision, tenant (the Huawei account
// ID), completion and failure in columns for optimistic concurrency and
// for List's filters, and its key secret in a column of its own (see
// below). Leases live in truewatch_leases, one row per leased
// activation, their expiry by the database server's clock, so that the
// clocks of the machines running activations do not matter. A claim is one
// INSERT ... ON CONFLICT DO UPDATE ... WHERE expires_at <= now(): exactly
// one of any number of concurrent claimers wins. The tables are found
// through the connection's search_path: to keep them in a schema of their
// own, set search_path in the pool's configuration.
//
// # The key secret
//
// Every checkpoint holds its activation's truewatch.KeySecret, from which
// its idempotency keys derive: the store must keep it exactly (storetest
// checks), and whoever reads it can compute the activation's keys. That
// alone does not let them replay anything (the Billing Center scopes every
// idempotency record to the caller's proof of the Huawei account), so
// protecting it is defence in depth, but protect it as you protect other
// credentials. It is kept in a column of its own, key_secret, not in data:
// operators, dashboards and support tools can be granted the progress
// without the secret, with PostgreSQL's column privileges,
//
//	GRANT SELECT (activation_id, revision, huawei_account_id, completed, failed, data, updated_at)
//		ON truewatch_checkpoints TO reporting;
//
// and a "SELECT data" pasted into a ticket shows none; the column could
// also be encrypted on its own. Only the role the activations run as needs
// key_secret. Backups and replicas hold it like the rest: restrict them, and
// encrypt them at rest. A key_secret set to NULL by hand (or a row deleted)
// makes the next run take a new secret, which is safe: work done under the
// old keys is found done from the subscription's state. Job queues on the
// same database (riverjob) never copy it into a job's args.
//
// The schema is versioned by embedded migrations (Migrations) that Migrate
// applies explicitly; nothing is created behind your back. Every method
// takes a context; a lost connection is an error the activation reports as a
// *truewatch.StoreError (run it again: its idempotency keys make completed
// steps replays). A row edited by hand into something that does not decode,
// or that names another activation, is refused with an error matching
// truewatch.ErrBadCheckpoint that names it; Delete is the recovery.
//
// The package passes truewatch/storetest against a real PostgreSQL (15 in
// CI). Package riverjob runs activations as River jobs on the same
// database, enqueued in the transaction that creates their first
// checkpoint (CreateTx).
package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/truewatch-labs/marketplace-go/truewatch"
)

// Store is a truewatch.Store on PostgreSQL. It is safe for concurrent use.
type Store struct {
	pool      *pgxpool.Pool
	listBatch int
}

// Option configures a Store.
type Option func(*Store) error

// WithListBatchSize sets how many rows List reads at a time (default 500).
// List holds no connection while its caller handles a batch, so the caller
// may use the store in the loop.
func WithListBatchSize(n int) Option {
	return func(s *Store) error {
		if n < 1 {
			return fmt.Errorf("pgstore: list batch size %d is not positive", n)
		}
		s.listBatch = n
		return nil
	}
}

// ErrNotMigrated is matched by the errors of a Store whose tables do not
// exist: call Migrate.
var ErrNotMigrated = errors.New("pgstore: the checkpoint tables do not exist; call Store.Migrate")

// New returns a Store on pool. It makes no connection; call Migrate before
// the first use.
func New(pool *pgxpool.Pool, opts ...Option) (*Store, error) {
	if pool == nil {
		return nil, errors.New("pgstore: nil pool")
	}
	s := &Store{pool: pool, listBatch: 500}
	for _, o := range opts {
		if err := o(s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Pool returns the store's connection pool.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// querier is what both a pool and a transaction do.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// wrap names the operation and the activation in err, and points at
// Migrate when the tables are missing.
func wrap(err error, op, id string) error {
	if err == nil {
		return nil
	}
	if id != "" {
		op += " " + id
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "42P01" { // undefined_table
		return fmt.Errorf("pgstore: %s: %w: %w", op, ErrNotMigrated, err)
	}
	return fmt.Errorf("pgstore: %s: %w", op, err)
}

func where(id string) string { return "row " + id + " of truewatch_checkpoints" }

// Load implements truewatch.Store.
func (s *Store) Load(ctx context.Context, id string) (*truewatch.Checkpoint, error) {
	var (
		rev  int64
		data []byte
	)
	err := s.pool.QueryRow(ctx, "SELECT revision, "+dataWithSecret+" FROM truewatch_checkpoints WHERE activation_id = $1", id).Scan(&rev, &data)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, wrap(err, "load", id)
	}
	return decode(id, rev, data)
}

// dataWithSecret is the checkpoint's JSON with its key secret put back
// (null when the column is).
const dataWithSecret = "data || jsonb_build_object('keySecret', key_secret)"

func decode(id string, rev int64, data []byte) (*truewatch.Checkpoint, error) {
	cp, err := truewatch.DecodeCheckpoint(id, where(id), data)
	if err != nil {
		return nil, err
	}
	cp.Revision = rev
	return cp, nil
}

// Save implements truewatch.Store.
func (s *Store) Save(ctx context.Context, id string, cp *truewatch.Checkpoint) (int64, error) {
	return save(ctx, s.pool, id, cp)
}

// CreateTx saves cp, a checkpoint never saved (revision 0), in tx unless a
// checkpoint is stored under its ID already, and says whether it did: for
// a job queue that enqueues the activation's job in the same transaction.
func (s *Store) CreateTx(ctx context.Context, tx pgx.Tx, cp *truewatch.Checkpoint) (created bool, err error) {
	if cp == nil || cp.Revision != 0 {
		return false, errors.New("pgstore: CreateTx needs a checkpoint never saved (revision 0)")
	}
	_, err = save(ctx, tx, cp.ActivationID, cp)
	if errors.Is(err, truewatch.ErrCheckpointConflict) {
		return false, nil
	}
	return err == nil, err
}

func save(ctx context.Context, q querier, id string, cp *truewatch.Checkpoint) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if err := truewatch.ValidateSave(id, cp); err != nil {
		return 0, err
	}
	c := *cp
	c.Revision++
	data, err := json.Marshal(&c)
	if err != nil {
		return 0, fmt.Errorf("pgstore: encode checkpoint %s: %w", id, err)
	}
	// The key secret goes to its own column, out of data.
	var tag pgconn.CommandTag
	if cp.Revision == 0 {
		tag, err = q.Exec(ctx, `INSERT INTO truewatch_checkpoints (activation_id, revision, huawei_account_id, completed, failed, data, key_secret)
			VALUES ($1, 1, $2, $3, $4, $5::jsonb - 'keySecret', $5::jsonb ->> 'keySecret') ON CONFLICT (activation_id) DO NOTHING`,
			id, c.HuaweiAccountID, c.Completed, c.Failure != nil, data)
	} else {
		tag, err = q.Exec(ctx, `UPDATE truewatch_checkpoints SET revision = revision + 1, huawei_account_id = $3,
			completed = $4, failed = $5, data = $6::jsonb - 'keySecret', key_secret = $6::jsonb ->> 'keySecret', updated_at = now()
			WHERE activation_id = $1 AND revision = $2`,
			id, cp.Revision, c.HuaweiAccountID, c.Completed, c.Failure != nil, data)
	}
	if err != nil {
		return 0, wrap(err, "save", id)
	}
	if tag.RowsAffected() == 1 {
		return c.Revision, nil
	}
	var actual int64
	err = q.QueryRow(ctx, "SELECT revision FROM truewatch_checkpoints WHERE activation_id = $1", id).Scan(&actual)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return 0, wrap(err, "save", id)
	}
	return 0, &truewatch.ConflictError{ActivationID: id, Expected: cp.Revision, Actual: actual}
}

// Delete implements truewatch.Store.
func (s *Store) Delete(ctx context.Context, id string) error {
	_, err := s.pool.Exec(ctx, "DELETE FROM truewatch_checkpoints WHERE activation_id = $1", id)
	return wrap(err, "delete", id)
}

// List implements truewatch.Store, reading WithListBatchSize rows at a time
// by activation ID.
func (s *Store) List(ctx context.Context, f truewatch.ListFilter) iter.Seq2[*truewatch.Checkpoint, error] {
	type row struct {
		id   string
		rev  int64
		data []byte
	}
	return func(yield func(*truewatch.Checkpoint, error) bool) {
		after := ""
		for {
			rows, err := s.pool.Query(ctx, `SELECT activation_id, revision, `+dataWithSecret+` FROM truewatch_checkpoints
				WHERE activation_id > $1 AND (NOT $2 OR NOT completed) AND (NOT $3 OR failed) AND ($4 = '' OR huawei_account_id = $4)
				ORDER BY activation_id LIMIT $5`, after, f.Incomplete, f.Failed, f.HuaweiAccountID, s.listBatch)
			var batch []row
			if err == nil {
				batch, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
					var x row
					return x, r.Scan(&x.id, &x.rev, &x.data)
				})
			}
			if err != nil {
				yield(nil, wrap(err, "list", ""))
				return
			}
			for _, r := range batch {
				cp, err := decode(r.id, r.rev, r.data)
				if err == nil && !f.Match(cp) {
					continue // the columns disagree with the JSON: the JSON decides
				}
				if !yield(cp, err) {
					return
				}
			}
			if len(batch) < s.listBatch {
				return
			}
			after = batch[len(batch)-1].id
		}
	}
}

// Claim implements truewatch.Store.
func (s *Store) Claim(ctx context.Context, id, owner string, ttl time.Duration) (truewatch.Lease, error) {
	if err := truewatch.ValidateClaim(id, owner, ttl); err != nil {
		return truewatch.Lease{}, err
	}
	// A lease released between the two statements is claimed on the next try.
	for range 3 {
		l := truewatch.Lease{ActivationID: id, Owner: owner, Token: truewatch.NewLeaseToken()}
		err := s.pool.QueryRow(ctx, `INSERT INTO truewatch_leases (activation_id, owner, token, expires_at)
			VALUES ($1, $2, $3, now() + $4 * interval '1 microsecond')
			ON CONFLICT (activation_id) DO UPDATE SET owner = EXCLUDED.owner, token = EXCLUDED.token,
				expires_at = EXCLUDED.expires_at, claimed_at = now()
			WHERE truewatch_leases.expires_at <= now()
			RETURNING expires_at`, id, owner, l.Token, ttl.Microseconds()).Scan(&l.ExpiresAt)
		if err == nil {
			l.ExpiresAt = l.ExpiresAt.UTC()
			return l, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return truewatch.Lease{}, wrap(err, "claim", id)
		}
		held := &truewatch.LeaseHeldError{ActivationID: id}
		err = s.pool.QueryRow(ctx, "SELECT owner, expires_at FROM truewatch_leases WHERE activation_id = $1", id).
			Scan(&held.Owner, &held.ExpiresAt)
		if err == nil {
			held.ExpiresAt = held.ExpiresAt.UTC()
			return truewatch.Lease{}, held
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return truewatch.Lease{}, wrap(err, "claim", id)
		}
	}
	return truewatch.Lease{}, fmt.Errorf("pgstore: claim %s: the lease kept changing hands; try again", id)
}

// Renew implements truewatch.Store.
func (s *Store) Renew(ctx context.Context, l truewatch.Lease, ttl time.Duration) (truewatch.Lease, error) {
	if err := truewatch.ValidateClaim(l.ActivationID, l.Owner, ttl); err != nil {
		return truewatch.Lease{}, err
	}
	out := l
	err := s.pool.QueryRow(ctx, `UPDATE truewatch_leases SET expires_at = now() + $3 * interval '1 microsecond'
		WHERE activation_id = $1 AND token = $2 RETURNING expires_at`, l.ActivationID, l.Token, ttl.Microseconds()).Scan(&out.ExpiresAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return truewatch.Lease{}, s.lost(ctx, l)
	}
	if err != nil {
		return truewatch.Lease{}, wrap(err, "renew lease", l.ActivationID)
	}
	out.ExpiresAt = out.ExpiresAt.UTC()
	return out, nil
}

// Release implements truewatch.Store.
func (s *Store) Release(ctx context.Context, l truewatch.Lease) error {
	tag, err := s.pool.Exec(ctx, "DELETE FROM truewatch_leases WHERE activation_id = $1 AND token = $2", l.ActivationID, l.Token)
	if err != nil {
		return wrap(err, "release lease", l.ActivationID)
	}
	if tag.RowsAffected() == 0 {
		return s.lost(ctx, l)
	}
	return nil
}

// lost is the *truewatch.LeaseLostError for l, naming the holder if any.
func (s *Store) lost(ctx context.Context, l truewatch.Lease) error {
	e := &truewatch.LeaseLostError{ActivationID: l.ActivationID, Owner: l.Owner}
	err := s.pool.QueryRow(ctx, "SELECT owner FROM truewatch_leases WHERE activation_id = $1", l.ActivationID).Scan(&e.Holder)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return wrap(err, "lease", l.ActivationID)
	}
	return e
}

// Leases returns the leases that have not expired, by activation ID: who
// is working on what, for operators.
func (s *Store) Leases(ctx context.Context) ([]truewatch.Lease, error) {
	rows, err := s.pool.Query(ctx, `SELECT activation_id, owner, token, expires_at FROM truewatch_leases
		WHERE expires_at > now() ORDER BY activation_id`)
	if err != nil {
		return nil, wrap(err, "leases", "")
	}
	ls, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (truewatch.Lease, error) {
		var l truewatch.Lease
		err := r.Scan(&l.ActivationID, &l.Owner, &l.Token, &l.ExpiresAt)
		l.ExpiresAt = l.ExpiresAt.UTC()
		return l, err
	})
	return ls, wrap(err, "leases", "")
}
