package mockserver

import "time"

// expiryQueue holds records in the order they were made, each with the
// time it may be dropped, so that dropping what has expired costs only the
// records dropped: no sweep of the whole state under the lock. Records
// are made at the server's clock plus a fixed lifetime, so the order of
// insertion is the order of expiry (a ManualClock set backwards only
// delays some drops; lookups still check each record's own expiry).
//
// An entry only says "look at this key then"; the owner decides, from the
// record it finds under the key, whether it really is the expired one (a
// key may have been given a new record since).
type expiryQueue[K comparable] struct {
	items []queued[K]
	head  int
}

type queued[K comparable] struct {
	at  time.Time
	key K
}

// push records that key may be dropped at at.
func (q *expiryQueue[K]) push(at time.Time, key K) {
	q.items = append(q.items, queued[K]{at: at, key: key})
}

// expire pops every entry due at now and hands its key to drop.
func (q *expiryQueue[K]) expire(now time.Time, drop func(K)) {
	for q.head < len(q.items) && !now.Before(q.items[q.head].at) {
		drop(q.pop())
	}
}

// pop removes and returns the oldest entry's key. The queue must not be
// empty.
func (q *expiryQueue[K]) pop() K {
	k := q.items[q.head].key
	var zero queued[K]
	q.items[q.head] = zero
	q.head++
	// Give back the space of popped entries once they are half the slice.
	if q.head > 64 && q.head*2 >= len(q.items) {
		q.items = append([]queued[K](nil), q.items[q.head:]...)
		q.head = 0
	}
	return k
}

// len is the number of entries not yet popped.
func (q *expiryQueue[K]) len() int { return len(q.items) - q.head }
