// Package pgtest gives tests a PostgreSQL database of their own.
//
// The server is named by MARKETPLACE_TEST_POSTGRES_DSN, a DSN whose role may
// create databases and roles (.ci/with-postgres starts a throwaway cluster and sets
// it). Without it the tests that need PostgreSQL skip, unless
// MARKETPLACE_REQUIRE_POSTGRES=1 (set by .ci/run), when they fail: CI never
// passes by skipping them.
package pgtest

import (
	"context"
	"crypto/rand"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The environment variables.
const (
	EnvDSN     = "MARKETPLACE_TEST_POSTGRES_DSN"
	EnvRequire = "MARKETPLACE_REQUIRE_POSTGRES"
)

// ServerDSN returns the server's DSN, skipping t (failing it under
// MARKETPLACE_REQUIRE_POSTGRES=1) when none is set.
func ServerDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(EnvDSN)
	if dsn == "" {
		msg := EnvDSN + " is not set: run the PostgreSQL tests with .ci/with-postgres go test ./..."
		if os.Getenv(EnvRequire) == "1" {
			t.Fatal(msg + " (" + EnvRequire + "=1 forbids skipping them)")
		}
		t.Skip(msg)
	}
	return dsn
}

// Database creates an empty database for t and returns its DSN; the
// database is dropped when t ends.
func Database(t testing.TB) string {
	t.Helper()
	dsn := ServerDSN(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("pgtest: connect to %s: %v", EnvDSN, err)
	}
	defer func() { _ = admin.Close(context.Background()) }()
	name := "mkt_test_" + strings.ToLower(rand.Text()[:12])
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
			return
		}
		defer func() { _ = c.Close(context.Background()) }()
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	return withDatabase(dsn, name)
}

// withDatabase is dsn naming database name instead of its own.
func withDatabase(dsn, name string) string {
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		u.Path = "/" + name
		return u.String()
	}
	return dsn + " dbname=" + name
}

// Pool opens a pool on dsn, closed when t ends.
func Pool(t testing.TB, dsn string) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), dsn)
	if err != nil {
		t.Fatalf("pgtest: pool: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// Exec runs sql on pool, failing t on error.
func Exec(t testing.TB, pool *pgxpool.Pool, sql string, args ...any) {
	t.Helper()
	if _, err := pool.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("pgtest: %s: %v", sql, err)
	}
}
