package server

import (
	"crypto/subtle"
	"encoding/base64"
	"sync"
	"time"
)

// sessionCookie names the session cookie. The __Host- prefix makes
// browsers insist on Secure, Path=/ and no Domain.
const sessionCookie = "__Host-bibstat"

// Session is one login, kept server-side; the cookie holds only its id.
type Session struct {
	User    string
	CSRF    string // synchronizer token for the session's forms
	Created time.Time
	Seen    time.Time
}

// Sessions is the in-memory session store. A restart logs everyone out,
// which is acceptable for a portal used a few times a month.
type Sessions struct {
	TTL  time.Duration // absolute lifetime
	Idle time.Duration // lifetime without requests
	Now  func() time.Time

	mu sync.Mutex
	m  map[string]*Session
}

// NewSessions returns a store with 12 h absolute and 2 h idle expiry.
func NewSessions() *Sessions {
	return &Sessions{TTL: 12 * time.Hour, Idle: 2 * time.Hour, Now: time.Now, m: map[string]*Session{}}
}

// New starts a session for user and returns its id.
func (s *Sessions) New(user string) (string, *Session) {
	id := base64.RawURLEncoding.EncodeToString(randomBytes(32))
	now := s.Now()
	se := &Session{User: user, CSRF: base64.RawURLEncoding.EncodeToString(randomBytes(32)), Created: now, Seen: now}
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, v := range s.m { // drop expired sessions while we hold the lock anyway
		if s.expired(v, now) {
			delete(s.m, k)
		}
	}
	s.m[id] = se
	return id, se
}

// Get returns the live session id names, refreshing its idle time.
func (s *Sessions) Get(id string) (Session, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	se, ok := s.m[id]
	if !ok {
		return Session{}, false
	}
	now := s.Now()
	if s.expired(se, now) {
		delete(s.m, id)
		return Session{}, false
	}
	se.Seen = now
	return *se, true
}

// Delete ends a session.
func (s *Sessions) Delete(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, id)
}

// DeleteUser ends every session of user.
func (s *Sessions) DeleteUser(user string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, v := range s.m {
		if v.User == user {
			delete(s.m, k)
		}
	}
}

func (s *Sessions) expired(se *Session, now time.Time) bool {
	return now.Sub(se.Created) > s.TTL || now.Sub(se.Seen) > s.Idle
}

// validCSRF compares a form's token with the session's in constant time.
func validCSRF(se Session, token string) bool {
	return token != "" && subtle.ConstantTimeCompare([]byte(se.CSRF), []byte(token)) == 1
}
