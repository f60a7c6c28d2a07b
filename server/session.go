package server

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
)

// sessionCookie names the session cookie. The __Host- prefix makes
// browsers insist on Secure, Path=/ and no Domain.
const sessionCookie = "__Host-bibstat"

// Session is one login, kept server-side; the cookie holds only its id.
type Session struct {
	User string `json:"user"`
	// Stamp is the account's stamp at login (User.stamp): a new password,
	// or a revoked name given to a new account, ends the session.
	Stamp   string    `json:"stamp"`
	Created time.Time `json:"created"`
	Seen    time.Time `json:"seen"`
	// CSRF is the synchronizer token of the session's forms, derived from
	// the id so the file need not hold it.
	CSRF string `json:"-"`
}

// Sessions is the session store. With a path it survives restarts in a
// file (mode 0600) that holds only SHA-256 hashes of the session ids, so
// a copy of it logs no one in.
type Sessions struct {
	TTL  time.Duration // absolute lifetime
	Idle time.Duration // lifetime without requests
	Now  func() time.Time

	path string
	mu   sync.Mutex
	m    map[string]*Session // by idHash
}

type sessionsFile struct {
	Sessions map[string]*Session `json:"sessions"`
}

// seenPrecision is how stale a session's last-seen time may be on disk:
// idle expiry is exact to it, and a busy user writes the file once per it.
const seenPrecision = time.Minute

// OpenSessions returns a store with 12 h absolute and 2 h idle expiry,
// kept in the file at path ("" keeps it in memory only).
func OpenSessions(path string, now func() time.Time) (*Sessions, error) {
	if now == nil {
		now = time.Now
	}
	s := &Sessions{TTL: 12 * time.Hour, Idle: 2 * time.Hour, Now: now, path: path, m: map[string]*Session{}}
	if path == "" {
		return s, nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read sessions: %w", err)
	}
	var f sessionsFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("read sessions %s: %w", path, err)
	}
	for k, v := range f.Sessions {
		if v != nil {
			s.m[k] = v
		}
	}
	return s, nil
}

func idHash(id string) string {
	h := sha256.Sum256([]byte(id))
	return hex.EncodeToString(h[:])
}

func csrfOf(id string) string {
	h := sha256.Sum256([]byte("bibstat-csrf\x00" + id))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// New starts a session for u and returns its id.
func (s *Sessions) New(u User) (string, Session, error) {
	id := base64.RawURLEncoding.EncodeToString(randomBytes(32))
	now := s.Now()
	se := &Session{User: u.Name, Stamp: u.stamp(), Created: now, Seen: now}
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, v := range s.m { // drop expired sessions while we hold the lock anyway
		if s.expired(v, now) {
			delete(s.m, k)
		}
	}
	s.m[idHash(id)] = se
	if err := s.save(); err != nil {
		delete(s.m, idHash(id))
		return "", Session{}, err
	}
	out := *se
	out.CSRF = csrfOf(id)
	return id, out, nil
}

// Get returns the live session id names, refreshing its idle time.
func (s *Sessions) Get(id string) (Session, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := idHash(id)
	se, ok := s.m[k]
	if !ok {
		return Session{}, false
	}
	now := s.Now()
	if s.expired(se, now) {
		delete(s.m, k)
		_ = s.save() // an expired session on disk expires again at the next read
		return Session{}, false
	}
	if now.Sub(se.Seen) >= seenPrecision {
		se.Seen = now
		_ = s.save() // on failure the session merely looks idle sooner after a restart
	}
	out := *se
	out.CSRF = csrfOf(id)
	return out, true
}

// Delete ends a session.
func (s *Sessions) Delete(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, idHash(id))
	_ = s.save() // on failure a logged-out session lives until it expires or its user changes
}

// save writes the store, under s.mu.
func (s *Sessions) save() error {
	if s.path == "" {
		return nil
	}
	b, err := json.Marshal(sessionsFile{Sessions: s.m})
	if err != nil {
		return fmt.Errorf("write sessions: %w", err)
	}
	if err := writeFileAtomic(s.path, b); err != nil {
		return fmt.Errorf("write sessions: %w", err)
	}
	return nil
}

func (s *Sessions) expired(se *Session, now time.Time) bool {
	return now.Sub(se.Created) > s.TTL || now.Sub(se.Seen) > s.Idle
}

// validCSRF compares a form's token with the session's in constant time.
func validCSRF(se Session, token string) bool {
	return token != "" && subtle.ConstantTimeCompare([]byte(se.CSRF), []byte(token)) == 1
}
