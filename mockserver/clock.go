package mockserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/truewatch-labs/marketplace-go/retry"
)

// maxClockMove bounds one move of the clock, so that no arithmetic on the
// mock's times overflows.
const maxClockMove = 100 * 365 * 24 * time.Hour

// settableClock is a Clock the mock can move itself: ManualClock, or a
// clock of the user's with the same two methods.
type settableClock interface {
	Clock
	Set(time.Time)
}

// movableClock is the server's clock. A settable clock (ManualClock) is
// moved in place, so that the test holding it sees the move; any other
// clock (the system clock by default) is read through an offset that
// moves, so that the clock of every server can be moved over the control
// plane, whatever it was built with.
type movableClock struct {
	base Clock
	mu   sync.Mutex
	off  time.Duration
}

// Sleep waits d on the clock: a base clock that sleeps by itself
// (ManualClock moves on at once) does; any other waits in real time.
func (c *movableClock) Sleep(ctx context.Context, d time.Duration) error {
	if sl, ok := c.base.(interface {
		Sleep(context.Context, time.Duration) error
	}); ok {
		return sl.Sleep(ctx, d)
	}
	return retry.Policy{}.Wait(ctx, d)
}

func (c *movableClock) Now() time.Time {
	c.mu.Lock()
	off := c.off
	c.mu.Unlock()
	return c.base.Now().Add(off)
}

// moveTo moves the clock to t.
func (c *movableClock) moveTo(t time.Time) {
	if sc, ok := c.base.(settableClock); ok {
		sc.Set(t)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.off = t.Sub(c.base.Now())
}

// ClockState is what GET /_mock/clock answers.
type ClockState struct {
	// Now is the mock's time.
	Now time.Time `json:"now"`
	// Offset is how far the mock's clock is ahead of the clock it was
	// built with (the system clock unless WithClock), for a clock the mock
	// moves by an offset; 0 for a ManualClock, which moves itself.
	Offset string `json:"offset"`
}

// ClockState reports the mock's time and the offset it was moved by.
func (s *Server) ClockState() ClockState {
	c := s.clock()
	c.mu.Lock()
	off := c.off
	c.mu.Unlock()
	return ClockState{Now: s.Now().UTC(), Offset: off.String()}
}

func (s *Server) clock() *movableClock { return s.cfg.clock.(*movableClock) }

// ErrClockBackwards is returned when a move would take the mock's clock
// back: expiries, grace periods and codes already reckoned on it would no
// longer add up. Build a new server (or Reset) to start again earlier.
var ErrClockBackwards = errors.New("mockserver: the clock only moves forward")

// AdvanceClock moves the mock's clock forward by d and then runs what fell
// due in between, in time order, before it returns: KooGallery's retries
// of deliveries, subscriptions whose term ended (delivered to the vendor
// as expired), and grace periods that ended (their workspaces locked).
// It returns the new time.
func (s *Server) AdvanceClock(ctx context.Context, d time.Duration) (time.Time, error) {
	if d < 0 {
		return time.Time{}, ErrClockBackwards
	}
	if d > maxClockMove {
		return time.Time{}, fmt.Errorf("mockserver: a clock move is at most %s", maxClockMove)
	}
	return s.SetClock(ctx, s.Now().Add(d))
}

// SetClock moves the mock's clock to t, which must not be earlier than
// its time now, and runs what fell due, as AdvanceClock does.
func (s *Server) SetClock(ctx context.Context, t time.Time) (time.Time, error) {
	if ctx == nil {
		return time.Time{}, errors.New("mockserver: nil context")
	}
	now := s.Now()
	switch {
	case t.Before(now):
		return time.Time{}, fmt.Errorf("%w: %s is before the mock's time %s", ErrClockBackwards,
			t.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	case t.Sub(now) > maxClockMove:
		return time.Time{}, fmt.Errorf("mockserver: a clock move is at most %s", maxClockMove)
	}
	s.runMu.Lock()
	defer s.runMu.Unlock()
	// Step through what falls due on the way, each at its own time, so
	// that what happens then (a grace period starting at a term's end) is
	// dated as if the clock had run.
	for range maxCatchUp {
		s.mu.Lock()
		next, ok := s.nextDueLocked()
		s.mu.Unlock()
		if !ok || next.After(t) || ctx.Err() != nil {
			break
		}
		if next.After(s.Now()) {
			s.clock().moveTo(next)
		}
		s.catchUpLocked(ctx)
	}
	s.clock().moveTo(t)
	s.catchUpLocked(ctx)
	return s.Now(), nil
}

// clockMove is the body of POST /_mock/clock: exactly one of Advance (a
// Go duration such as "360h") and Set (RFC 3339).
type clockMove struct {
	Advance string    `json:"advance,omitempty"`
	Set     time.Time `json:"set,omitzero"`
}

func (s *Server) handleClockMove(w http.ResponseWriter, r *http.Request) {
	var m clockMove
	if !decodeControl(w, r, &m) {
		return
	}
	var err error
	switch {
	case (m.Advance == "") == m.Set.IsZero():
		controlError(w, http.StatusBadRequest, errors.New(`give exactly one of "advance" (a duration such as "360h") and "set" (RFC 3339)`))
		return
	case m.Advance != "":
		d, perr := time.ParseDuration(m.Advance)
		if perr != nil {
			controlError(w, http.StatusBadRequest, fmt.Errorf(`"advance" must be a duration such as "90m" or "360h": %w`, perr))
			return
		}
		_, err = s.AdvanceClock(r.Context(), d)
	default:
		_, err = s.SetClock(r.Context(), m.Set)
	}
	if err != nil {
		status := http.StatusBadRequest
		if errors.Is(err, ErrClockBackwards) {
			status = http.StatusConflict
		}
		controlError(w, status, err)
		return
	}
	writeJSON(w, http.StatusOK, s.ClockState())
}
