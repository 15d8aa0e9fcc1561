package truewatch

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

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
	// wrong", "the previous code expired; a new one was sent"), or, on the
	// first attempt, that no new code was sent (see Earlier); empty
	// otherwise.
	Reason string
	// Earlier is true when no code was sent for this request: the Billing
	// Center refused a new one because a code for Email and Purpose was
	// sent less than a minute ago, before this run (by an earlier run of
	// the activation that stopped after sending it, as in a crash while
	// the user fetched the code, or by one running at the same time). That
	// code still works, until ExpiresAt: it is the one to enter. Reason
	// says so in words.
	Earlier bool
	// ExpiresAt is when the code to enter stops working; zero when not
	// known.
	ExpiresAt time.Time
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
// the provider for interactive programs (pass os.Stdin and os.Stderr). The
// prompt shows where the code was sent and what for, never a code. A prompt
// returns as soon as ctx ends; the read it started carries on, and the line
// it reads answers the next prompt. A nil out prompts nowhere; a nil in has
// no codes (ErrNoCode).
func PromptCodes(in io.Reader, out io.Writer) CodeProvider {
	if out == nil {
		out = io.Discard
	}
	type line struct {
		text string
		err  error
	}
	var (
		mu      sync.Mutex // one prompt at a time
		r       *bufio.Reader
		pending chan line // the read in progress, if any
	)
	if in != nil {
		r = bufio.NewReader(in)
	}
	return func(ctx context.Context, req CodeRequest) (secret.String, error) {
		if r == nil {
			return "", fmt.Errorf("%w: no input to read codes from", ErrNoCode)
		}
		mu.Lock()
		defer mu.Unlock()
		if err := ctx.Err(); err != nil {
			return "", err
		}
		if req.Reason != "" {
			fmt.Fprintf(out, "%s.\n", req.Reason)
		}
		fmt.Fprintf(out, "Enter the verification code sent to %s (%s): ", req.Email, req.Purpose)
		if pending == nil {
			ch := make(chan line, 1)
			go func() {
				text, err := r.ReadString('\n')
				ch <- line{text, err}
			}()
			pending = ch
		}
		var l line
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case l = <-pending:
			pending = nil
		}
		code := strings.TrimSpace(l.text)
		if code == "" {
			if l.err != nil && !errors.Is(l.err, io.EOF) {
				return "", fmt.Errorf("truewatch: read verification code: %w", l.err)
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
		if o == nil {
			return "", fmt.Errorf("%w: no outbox to read codes from", ErrNoCode)
		}
		code, ok := o.LatestCode(req.Email, req.Purpose)
		if !ok {
			return "", fmt.Errorf("%w: nothing sent to %s for %s", ErrNoCode, req.Email, req.Purpose)
		}
		return secret.String(code), nil
	}
}
