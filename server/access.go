package server

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/bibliotek24/bibstat"
)

// Kind is the kind of a site resource, which decides who may read it.
type Kind int

// The kinds of resources.
const (
	KindNone    Kind = iota // not a site file: never served
	KindAsset               // assets/…, the glossary and the accessibility statement: any logged-in user
	KindLibrary             // bibliotek/<bibnr>.html and its downloads
	KindCounty              // fylke/<county>.html and its downloads
	KindGlobal              // the national page, agreements, the global index: admin only
)

// Resource is a classified site path.
type Resource struct {
	Kind Kind
	ID   string // bibnr or county number
	Path string // the clean relative path inside the site
}

var (
	assetRE   = regexp.MustCompile(`^(?:assets/[A-Za-z0-9][A-Za-z0-9._-]*|ordliste\.html|tilgjengelighet\.html)$`)
	libraryRE = regexp.MustCompile(`^bibliotek/([0-9]{7})(?:\.html|-bruk(?:-maskin\.csv|\.(?:csv|xlsx|tsv|parquet)))$`)
	countyRE2 = regexp.MustCompile(`^fylke/(?:([0-9]{2})\.html|fylke-([0-9]{2})-bruk(?:-maskin\.csv|\.(?:csv|xlsx|tsv|parquet)))$`)
	globalRE  = regexp.MustCompile(`^(?:index\.html|nasjonalt\.html|nasjonalt-bruk(?:-maskin\.csv|\.(?:csv|xlsx|tsv|parquet))|nedlasting/nasjonalt-bruk\.(?:csv|xlsx|tsv|parquet)|avtale/[A-Za-z0-9][A-Za-z0-9_-]*(?:\.html|-tall(?:-maskin)?\.(?:csv|xlsx)))$`)
)

// Classify maps a request's URL path to a site resource. It is strict on
// purpose: the path must be exactly one of the shapes the report site
// writes, so "..", ".", empty segments, backslashes, percent signs (left by
// double encoding), hidden files and anything outside the site (the raw
// archive, the ledger, the warehouse) are KindNone. rawPath is the
// request's escaped path, to refuse encoded slashes.
func Classify(path, rawPath string) Resource {
	if rawPath != "" {
		low := strings.ToLower(rawPath)
		if strings.Contains(low, "%2f") || strings.Contains(low, "%5c") || strings.Contains(low, "%00") {
			return Resource{}
		}
	}
	p, ok := strings.CutPrefix(path, "/")
	if !ok || p == "" || strings.ContainsAny(p, "\\%\x00") {
		return Resource{}
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "" || seg == "." || seg == ".." || strings.HasPrefix(seg, ".") {
			return Resource{}
		}
	}
	switch {
	case assetRE.MatchString(p):
		return Resource{Kind: KindAsset, Path: p}
	case globalRE.MatchString(p):
		return Resource{Kind: KindGlobal, Path: p}
	}
	if m := libraryRE.FindStringSubmatch(p); m != nil {
		return Resource{Kind: KindLibrary, ID: m[1], Path: p}
	}
	if m := countyRE2.FindStringSubmatch(p); m != nil {
		return Resource{Kind: KindCounty, ID: m[1] + m[2], Path: p}
	}
	return Resource{}
}

// Geo knows the county of each library (2024 structure).
type Geo interface {
	County(ctx context.Context, lib bibstat.LibraryID) (string, bool)
	Libraries(ctx context.Context) ([]LibraryInfo, error)
}

// LibraryInfo is one library of the register, for indexes and /members.
type LibraryInfo struct {
	ID     bibstat.LibraryID
	Name   string
	County string
}

// Allowed reports whether u may read res.
func Allowed(ctx context.Context, geo Geo, u User, res Resource) bool {
	if !u.Active() {
		return false
	}
	switch res.Kind {
	case KindNone:
		return false
	case KindAsset:
		return true
	}
	if u.Role == RoleAdmin {
		return true
	}
	switch res.Kind {
	case KindLibrary:
		return CanSeeLibrary(ctx, geo, u, bibstat.LibraryID(res.ID))
	case KindCounty:
		return u.Role == RoleCounty && res.ID == u.County
	}
	return false
}

// CanSeeLibrary reports whether u may see lib's usage (pages and SUSHI).
func CanSeeLibrary(ctx context.Context, geo Geo, u User, lib bibstat.LibraryID) bool {
	if !u.Active() {
		return false
	}
	switch u.Role {
	case RoleAdmin:
		return true
	case RoleLibrary:
		return u.Library == lib
	case RoleCounty:
		c, ok := geo.County(ctx, lib)
		return ok && c == u.County
	}
	return false
}

// dbGeo reads the register and library_geo from the warehouse, caching
// them for a minute: a transform that adds a library shows up soon after.
type dbGeo struct {
	db  *sql.DB
	ttl time.Duration

	mu     sync.Mutex
	loaded time.Time
	libs   []LibraryInfo
	county map[bibstat.LibraryID]string
}

func newDBGeo(db *sql.DB) *dbGeo { return &dbGeo{db: db, ttl: time.Minute} }

func (g *dbGeo) load(ctx context.Context) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if time.Since(g.loaded) < g.ttl && g.county != nil {
		return nil
	}
	// library_county is the one county of each library, as the report
	// and the agreements place it (old Ålesund's: the larger share's).
	rows, err := g.db.QueryContext(ctx, `
		SELECT l.library_id, l.name, coalesce(c.county, '')
		FROM libraries l LEFT JOIN library_county c USING (library_id)
		ORDER BY l.library_id`)
	if err != nil {
		return fmt.Errorf("read library counties: %w", err)
	}
	defer rows.Close()
	var libs []LibraryInfo
	county := map[bibstat.LibraryID]string{}
	for rows.Next() {
		var li LibraryInfo
		if err := rows.Scan(&li.ID, &li.Name, &li.County); err != nil {
			return fmt.Errorf("read library counties: %w", err)
		}
		libs = append(libs, li)
		if li.County != "" {
			county[li.ID] = li.County
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read library counties: %w", err)
	}
	g.libs, g.county, g.loaded = libs, county, time.Now()
	return nil
}

func (g *dbGeo) County(ctx context.Context, lib bibstat.LibraryID) (string, bool) {
	if err := g.load(ctx); err != nil {
		return "", false // deny when unsure
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	c, ok := g.county[lib]
	return c, ok
}

func (g *dbGeo) Libraries(ctx context.Context) ([]LibraryInfo, error) {
	if err := g.load(ctx); err != nil {
		return nil, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.libs, nil
}
