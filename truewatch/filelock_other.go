//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd || windows)

package truewatch

import (
	"errors"
	"os"
	"runtime"
)

// lockFile fails: this system has no file lock the FileStore trusts, so
// its changes are refused rather than made unsafely.
func lockFile(*os.File) error {
	return errors.New("truewatch: FileStore needs file locks, which it does not support on " + runtime.GOOS)
}

func unlockFile(*os.File) error { return nil }
