package server

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/internal/atomicfile"
)

// Role is what a user may see.
type Role string

// The roles.
const (
	RoleAdmin   Role = "admin"   // the consortium: every page, the admin page, every member in SUSHI
	RoleCounty  Role = "county"  // one county: its page and its libraries
	RoleLibrary Role = "library" // one library: its pages and downloads
)

// User is one account. Hashes are argon2id PHC strings; the secrets
// themselves are never stored.
type User struct {
	Name         string            `json:"name"`
	Role         Role              `json:"role"`
	Library      bibstat.LibraryID `json:"library,omitempty"` // RoleLibrary
	County       string            `json:"county,omitempty"`  // RoleCounty: 2024 county number, e.g. "03"
	PasswordHash string            `json:"password_hash,omitempty"`
	Tokens       []Token           `json:"tokens,omitempty"`
	Created      time.Time         `json:"created"`
	Revoked      time.Time         `json:"revoked,omitzero"` // set: the user can do nothing
}

// Token is one API token (the SUSHI api_key). ID is public and finds the
// token; only the secret part is hashed.
type Token struct {
	ID      string    `json:"id"`
	Hash    string    `json:"hash"`
	Created time.Time `json:"created"`
}

// Active reports whether the user may log in or use a token.
func (u User) Active() bool { return u.Revoked.IsZero() }

// stamp changes when the account's password does or its name is given to
// a new account; a session made under another stamp is over.
func (u User) stamp() string {
	h := sha256.Sum256([]byte(u.Name + "\x00" + u.Created.UTC().Format(time.RFC3339Nano) + "\x00" + u.PasswordHash))
	return hex.EncodeToString(h[:8])
}

// Sentinel errors of the users file.
var (
	ErrBadLogin    = errors.New("unknown user or wrong password") // deliberately the same for both
	ErrBadToken    = errors.New("unknown or wrong api token")
	ErrUserExists  = errors.New("user exists")
	ErrNoSuchUser  = errors.New("no such user")
	ErrNoSuchToken = errors.New("no such token")
	ErrInvalidUser = errors.New("invalid user")
)

var userNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._@-]{1,63}$`)
var countyRE = regexp.MustCompile(`^[0-9]{2}$`)

// Validate checks the user's name, role and scope.
func (u User) Validate() error {
	if !userNameRE.MatchString(u.Name) {
		return fmt.Errorf("%w: name %q: use 2-64 of a-z 0-9 . _ @ -", ErrInvalidUser, u.Name)
	}
	switch u.Role {
	case RoleAdmin:
		if u.Library != "" || u.County != "" {
			return fmt.Errorf("%w: an admin has no library or county", ErrInvalidUser)
		}
	case RoleCounty:
		if !countyRE.MatchString(u.County) || u.Library != "" {
			return fmt.Errorf("%w: a county user needs --county NN (2024 county number) and no library", ErrInvalidUser)
		}
	case RoleLibrary:
		if _, err := bibstat.ParseLibraryID(string(u.Library)); err != nil || u.County != "" {
			return fmt.Errorf("%w: a library user needs --library BIBNR (7 digits) and no county", ErrInvalidUser)
		}
	default:
		return fmt.Errorf("%w: role %q: want admin, county or library", ErrInvalidUser, u.Role)
	}
	return nil
}

// Users is the users file: JSON, written atomically with mode 0600. A
// server notices changes made by "bibstat users" (revocations included) on
// the next request, without a restart.
type Users struct {
	path string

	mu    sync.Mutex
	users []User
	stamp fileStamp
}

type fileStamp struct {
	mod  time.Time
	size int64
}

type usersFile struct {
	Users []User `json:"users"`
}

// OpenUsers reads the users file at path; a missing file is no users.
func OpenUsers(path string) (*Users, error) {
	u := &Users{path: path}
	if err := u.reload(true); err != nil {
		return nil, err
	}
	return u, nil
}

// Path is the users file.
func (s *Users) Path() string { return s.path }

// reload rereads the file if it changed since the last read; under s.mu or at open.
func (s *Users) reload(force bool) error {
	fi, err := os.Stat(s.path)
	if errors.Is(err, os.ErrNotExist) {
		s.users, s.stamp = nil, fileStamp{}
		return nil
	}
	if err != nil {
		return fmt.Errorf("read users: %w", err)
	}
	st := fileStamp{fi.ModTime(), fi.Size()}
	if !force && st == s.stamp {
		return nil
	}
	b, err := os.ReadFile(s.path)
	if err != nil {
		return fmt.Errorf("read users: %w", err)
	}
	var f usersFile
	if err := json.Unmarshal(b, &f); err != nil {
		return fmt.Errorf("read users %s: %w", s.path, err)
	}
	s.users, s.stamp = f.Users, st
	return nil
}

func (s *Users) save() error {
	b, err := json.MarshalIndent(usersFile{Users: s.users}, "", "  ")
	if err != nil {
		return fmt.Errorf("write users: %w", err)
	}
	if err := writeFileAtomic(s.path, append(b, '\n')); err != nil {
		return fmt.Errorf("write users: %w", err)
	}
	return s.reload(true)
}

// writeFileAtomic replaces the file at path with b, mode 0600: a reader
// sees the old file or the new one, never half of one.
func writeFileAtomic(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return atomicfile.Write(path, b, 0o600)
}

// List returns every user, hashes included (callers print only what they need).
func (s *Users) List() ([]User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.reload(false); err != nil {
		return nil, err
	}
	return slices.Clone(s.users), nil
}

// Get returns the named user.
func (s *Users) Get(name string) (User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.reload(false); err != nil {
		return User{}, err
	}
	for _, u := range s.users {
		if u.Name == name {
			return u, nil
		}
	}
	return User{}, ErrNoSuchUser
}

// Add creates u with the password (may be empty: no portal login) and
// returns it. The password is hashed here. A revoked account's name may
// be given to a new account, which inherits nothing of the old one.
func (s *Users) Add(u User, password string, now time.Time) (User, error) {
	if err := u.Validate(); err != nil {
		return User{}, err
	}
	if err := checkPassword(password); password != "" && err != nil {
		return User{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.reload(false); err != nil {
		return User{}, err
	}
	u.Created, u.Tokens, u.Revoked = now.UTC(), nil, time.Time{}
	if password != "" {
		u.PasswordHash = hashSecret(password)
	}
	i := slices.IndexFunc(s.users, func(o User) bool { return o.Name == u.Name })
	switch {
	case i < 0:
		s.users = append(s.users, u)
	case s.users[i].Active():
		return User{}, fmt.Errorf("add user %s: %w", u.Name, ErrUserExists)
	default:
		s.users[i] = u
	}
	return u, s.save()
}

func checkPassword(password string) error {
	if len(password) < 12 {
		return fmt.Errorf("%w: the password must have at least 12 characters", ErrInvalidUser)
	}
	return nil
}

// SetPassword replaces the active user's password; the user's sessions end.
func (s *Users) SetPassword(name, password string) error {
	if err := checkPassword(password); err != nil {
		return err
	}
	return s.update(name, "set password of", func(u *User) error {
		if !u.Active() {
			return ErrNoSuchUser
		}
		u.PasswordHash = hashSecret(password)
		return nil
	})
}

// update applies fn to the named user and saves the file; what names the
// operation in errors.
func (s *Users) update(name, what string, fn func(u *User) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.reload(false); err != nil {
		return err
	}
	i := slices.IndexFunc(s.users, func(u User) bool { return u.Name == name })
	if i < 0 {
		return fmt.Errorf("%s %s: %w", what, name, ErrNoSuchUser)
	}
	if err := fn(&s.users[i]); err != nil {
		return fmt.Errorf("%s %s: %w", what, name, err)
	}
	return s.save()
}

// RevokeToken drops one of the user's API tokens, by its public id.
func (s *Users) RevokeToken(name, id string) error {
	id = strings.TrimPrefix(id, tokenPrefix)
	return s.update(name, "revoke token "+id+" of", func(u *User) error {
		n := len(u.Tokens)
		if u.Tokens = slices.DeleteFunc(u.Tokens, func(t Token) bool { return t.ID == id }); len(u.Tokens) == n {
			return ErrNoSuchToken
		}
		return nil
	})
}

// NewToken makes an API token for the named user, stores its hash and
// returns the token, which is shown once and never again.
func (s *Users) NewToken(name string, now time.Time) (string, error) {
	id, secret := hex.EncodeToString(randomBytes(8)), hex.EncodeToString(randomBytes(32))
	err := s.update(name, "new token for", func(u *User) error {
		u.Tokens = append(u.Tokens, Token{ID: id, Hash: hashSecret(secret), Created: now.UTC()})
		return nil
	})
	if err != nil {
		return "", err
	}
	return tokenPrefix + id + "_" + secret, nil
}

// Revoke disables the named user and drops its tokens; the record stays,
// so only an explicit Add gives the name to a new account. A running
// server refuses the user's sessions from its next request.
func (s *Users) Revoke(name string, now time.Time) error {
	return s.update(name, "revoke", func(u *User) error {
		u.Revoked, u.Tokens, u.PasswordHash = now.UTC(), nil, ""
		return nil
	})
}

// CheckPassword returns the active user with that name and password. An
// unknown user costs the same hashing as a known one, so timing tells
// nothing about which names exist.
func (s *Users) CheckPassword(name, password string) (User, error) {
	u, err := s.Get(name)
	if err != nil || !u.Active() || u.PasswordHash == "" {
		verifySecret(dummyHash, password)
		return User{}, ErrBadLogin
	}
	if !verifySecret(u.PasswordHash, password) {
		return User{}, ErrBadLogin
	}
	return u, nil
}

// tokenOwner names the user whose token has token's public id, without
// checking its secret: the account a failed SUSHI attempt counts against.
func (s *Users) tokenOwner(token string) (string, bool) {
	id, _, ok := strings.Cut(strings.TrimPrefix(token, tokenPrefix), "_")
	if !ok || !strings.HasPrefix(token, tokenPrefix) {
		return "", false
	}
	users, err := s.List()
	if err != nil {
		return "", false
	}
	for _, u := range users {
		for _, t := range u.Tokens {
			if t.ID == id {
				return u.Name, true
			}
		}
	}
	return "", false
}

// CheckToken returns the active user owning the API token. Every path
// hashes once, so timing tells nothing about which tokens exist.
func (s *Users) CheckToken(token string) (User, error) {
	id, secret, ok := strings.Cut(strings.TrimPrefix(token, tokenPrefix), "_")
	if !ok || !strings.HasPrefix(token, tokenPrefix) {
		verifySecret(dummyHash, token)
		return User{}, ErrBadToken
	}
	users, err := s.List()
	if err != nil {
		return User{}, err
	}
	for _, u := range users {
		for _, t := range u.Tokens {
			if subtle.ConstantTimeCompare([]byte(t.ID), []byte(id)) == 1 {
				if verifySecret(t.Hash, secret) && u.Active() {
					return u, nil
				}
				return User{}, ErrBadToken
			}
		}
	}
	verifySecret(dummyHash, secret)
	return User{}, ErrBadToken
}

// tokenPrefix marks BibStat API tokens, so a leaked one is recognisable
// by secret scanners.
const tokenPrefix = "bst_"

// argon2id parameters: the OWASP minimum (19 MiB, 2 passes, 1 lane), so a
// login costs tens of milliseconds on the 2-core server.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
)

var dummyHash = hashSecret("not a password of anyone")

// hashSecret returns the argon2id PHC string of secret with a fresh salt.
func hashSecret(secret string) string {
	salt := randomBytes(16)
	key := argon2.IDKey([]byte(secret), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

// verifySecret checks secret against a PHC string from hashSecret, with
// the parameters it records (so they can be raised later).
func verifySecret(phc, secret string) bool {
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[4])
	want, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(secret), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return b
}
