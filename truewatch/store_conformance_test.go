package truewatch_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/truewatch-labs/marketplace-go/truewatch"
	"github.com/truewatch-labs/marketplace-go/truewatch/storetest"
)

func TestMemoryStoreConformance(t *testing.T) {
	storetest.Run(t, func(*testing.T) truewatch.Store { return truewatch.NewMemoryStore() })
}

func TestZeroMemoryStoreConformance(t *testing.T) {
	storetest.Run(t, func(*testing.T) truewatch.Store { return new(truewatch.MemoryStore) })
}

func TestFileStoreConformance(t *testing.T) {
	storetest.Run(t,
		func(t *testing.T) truewatch.Store {
			return truewatch.NewFileStore(filepath.Join(t.TempDir(), "checkpoints"))
		},
		storetest.WithReopen(func(_ *testing.T, s truewatch.Store) truewatch.Store {
			return truewatch.NewFileStore(s.(*truewatch.FileStore).Dir())
		}),
		storetest.WithCorrupt(func(t *testing.T, s truewatch.Store, id string) {
			p := filepath.Join(s.(*truewatch.FileStore).Dir(), id+".json")
			if err := os.WriteFile(p, []byte(`{"version": 1, "activationId": "`+id+`", "steps": "edited"}`), 0o600); err != nil {
				t.Fatal(err)
			}
		}))
}
