package server

import (
	"sync"
	"time"
)

// Throttle slows down guessing: after Free failures a key (an account, or
// a client address for names no account has) is locked out for Base,
// doubling with every further failure up to Max. A success clears the
// key. Locked keys are refused without checking the secret, so a locked
// key learns nothing.
type Throttle struct {
	Free int
	Base time.Duration
	Max  time.Duration
	Now  func() time.Time

	mu sync.Mutex
	m  map[string]*strikes
}

type strikes struct {
	fails int
	until time.Time
	last  time.Time
}

// NewThrottle returns a throttle with BibStat's defaults: 3 free failures,
// then 1 s, 2 s, 4 s … up to 15 min.
func NewThrottle() *Throttle {
	return &Throttle{Free: 3, Base: time.Second, Max: 15 * time.Minute, Now: time.Now}
}

// Reserve counts a failure for key before its secret is checked, so that
// attempts made at the same time all count, and returns 0; the caller
// clears it with Succeed once the secret proves right. A locked key
// reserves nothing and gets how long it stays locked.
func (t *Throttle) Reserve(key string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.Now()
	if t.m == nil {
		t.m = map[string]*strikes{}
	}
	s := t.m[key]
	if s != nil && s.until.After(now) {
		return s.until.Sub(now)
	}
	if s == nil {
		if len(t.m) > 100_000 {
			t.gc(now) // bounded memory under a spray of addresses
		}
		s = &strikes{}
		t.m[key] = s
	}
	s.fails++
	s.last = now
	if over := s.fails - t.Free; over > 0 {
		d := t.Base << min(over-1, 30)
		if d > t.Max || d <= 0 {
			d = t.Max
		}
		s.until = now.Add(d)
	}
	return 0
}

// Succeed clears key, and only key.
func (t *Throttle) Succeed(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.m, key)
}

func (t *Throttle) gc(now time.Time) {
	for k, s := range t.m {
		if now.Sub(s.last) > 24*time.Hour && !s.until.After(now) {
			delete(t.m, k)
		}
	}
}
