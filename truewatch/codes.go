package truewatch

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/truewatch-labs/marketplace-go/billing"
	"github.com/truewatch-labs/marketplace-go/secret"
)

// CodeRequest asks a CodeProvider for the email verification code that was
// just sent.
type CodeRequest struct {
	// Email is where the code was sent.
	Email string
	// Purpose is what the code is for.
	Purpose billing.Purpose
	// Attempt counts the requests for this email and purpose in this step,
	// from 1.
	Attempt int
	// Reason says why the code is asked for again ("the previous code was
	// wrong", "the previous code expired; a new one was sent"); empty on the
	// first attempt.
	Reason string
}

// CodeProvider returns the verification code sent to req.Email. It is
// called after the code was sent, and again (with Attempt and Reason) when
// the code was wrong or expired, at most WithMaxCodeAttempts times per
// step. A returned error stops the activation.
type CodeProvider func(ctx context.Context, req CodeRequest) (secret.String, error)

// ErrNoCode is returned by CodesFromOutbox when no code was sent to the
// email for the purpose, and by PromptCodes when the input ends.
var ErrNoCode = errors.New("truewatch: no verification code available")

// PromptCodes asks for codes on out and reads them, one per line, from in:
// the provider for interactive programs (pass os.Stdin and os.Stderr).
// Reading does not stop when ctx is cancelled; the context is checked before
// each prompt.
func PromptCodes(in io.Reader, out io.Writer) CodeProvider {
	var mu sync.Mutex
	r := bufio.NewReader(in)
	return func(ctx context.Context, req CodeRequest) (secret.String, error) {
		mu.Lock()
		defer mu.Unlock()
		if err := ctx.Err(); err != nil {
			return "", err
		}
		if req.Reason != "" {
			fmt.Fprintf(out, "%s.\n", req.Reason)
		}
		fmt.Fprintf(out, "Enter the verification code sent to %s (%s): ", req.Email, req.Purpose)
		line, err := r.ReadString('\n')
		code := strings.TrimSpace(line)
		if code == "" {
			if err != nil && !errors.Is(err, io.EOF) {
				return "", fmt.Errorf("truewatch: read verification code: %w", err)
			}
			return "", ErrNoCode
		}
		return secret.String(code), nil
	}
}

// Outbox is where sent codes can be read: the mock server's outbox
// (mockserver.Server satisfies it).
type Outbox interface {
	LatestCode(email string, purpose billing.Purpose) (string, bool)
}

// CodesFromOutbox returns a provider that reads the latest code sent to the
// email for the purpose from o, for tests and demos against the mock server.
func CodesFromOutbox(o Outbox) CodeProvider {
	return func(ctx context.Context, req CodeRequest) (secret.String, error) {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		code, ok := o.LatestCode(req.Email, req.Purpose)
		if !ok {
			return "", fmt.Errorf("%w: nothing sent to %s for %s", ErrNoCode, req.Email, req.Purpose)
		}
		return secret.String(code), nil
	}
}
