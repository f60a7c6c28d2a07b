package agreements

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/user"
	"strings"
	"time"

	"github.com/bibliotek24/bibstat/internal/store"
)

// ImportOptions are the choices of an import: DryRun prints what it would
// change and stores nothing; Yes allows removing agreements; By is the
// importing user; Now is the import's time (zero: time.Now()).
type ImportOptions struct {
	DryRun, Yes bool
	By          string
	Now         time.Time
}

// RemovalError is the refusal of an import that would remove agreements
// without ImportOptions.Yes; nothing is stored.
type RemovalError struct{ IDs []string }

func (e *RemovalError) Error() string {
	return "would remove " + strings.Join(e.IDs, ", ") + "; nothing stored (rerun with --yes to remove)"
}

// Import prints to w what importing as (file name, bytes b) changes and,
// unless a dry run or a removal without opts.Yes (a *RemovalError), stores
// the file in st and applies it. The same bytes as the newest import are
// not stored again. Without a user it returns an error wrapping ErrNoUser.
func Import(ctx context.Context, w io.Writer, wh *Warehouse, st store.Store, as []Agreement, b []byte, name string, opts ImportOptions) error {
	plan, err := wh.Plan(ctx, as)
	if err != nil {
		return err
	}
	WriteImportResult(w, plan)
	if len(plan.Removed) > 0 && !opts.Yes && !opts.DryRun {
		return &RemovalError{IDs: plan.Removed}
	}
	if opts.DryRun {
		fmt.Fprintln(w, "dry run: nothing stored")
		return nil
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	rec, stored, err := wh.Record(ctx, st, as, b, name, opts.By, now)
	switch {
	case err != nil:
		return err
	case !stored:
		fmt.Fprintf(w, "same file as the import of %s by %s: not stored again\n", rec.At.Format(time.RFC3339), rec.By)
	default:
		fmt.Fprintf(w, "stored %s\n", rec.Key)
	}
	return nil
}

// WriteImportResult prints what an import changes, the changes field by field.
func WriteImportResult(w io.Writer, res ImportResult) {
	for _, r := range []struct {
		what string
		ids  []string
	}{{"added", res.Added}, {"changed", res.Changed}, {"removed", res.Removed}, {"unchanged", res.Unchanged}} {
		if len(r.ids) > 0 {
			fmt.Fprintf(w, "%-9s %s\n", r.what, strings.Join(r.ids, ", "))
		}
		if r.what != "changed" {
			continue
		}
		for _, id := range r.ids {
			for _, c := range res.Changes[id] {
				fmt.Fprintf(w, "          %s: %s\n", id, c)
			}
		}
	}
}

// WriteErrors writes each of a joined error's problems on its own line.
func WriteErrors(w io.Writer, err error) {
	var joined interface{ Unwrap() []error }
	if errors.As(err, &joined) {
		for _, e := range joined.Unwrap() {
			WriteErrors(w, e)
		}
		return
	}
	fmt.Fprintln(w, err)
}

// ParseAsOf reads a date (YYYY-MM-DD) as its last instant (UTC), or an
// RFC 3339 time.
func ParseAsOf(s string) (time.Time, error) {
	if d, err := time.Parse(time.DateOnly, s); err == nil {
		return d.Add(24*time.Hour - time.Nanosecond), nil
	}
	return time.Parse(time.RFC3339Nano, s)
}

// LoginName is $USER, else the account running the process: the default
// importing user.
func LoginName() string {
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return ""
}

// RestoreLogged is Restore, logging to log how many imports it replayed.
func (wh *Warehouse) RestoreLogged(ctx context.Context, log *slog.Logger, st store.Store) error {
	n, err := wh.Restore(ctx, st)
	if n > 0 {
		log.Info("agreement registry replayed from the store", "imports", n)
	}
	return err
}

// Sync brings the registry of the warehouse db up to the store's imports,
// as after opening or rebuilding it. A registry that differs from them
// (ErrDiverged) is kept, with a warning to log: serving and loading usage
// need no agreement.
func Sync(ctx context.Context, log *slog.Logger, db *sql.DB, st store.Store) error {
	err := (&Warehouse{DB: db}).RestoreLogged(ctx, log, st)
	if errors.Is(err, ErrDiverged) {
		log.Warn("agreement registry differs from the store's imports; kept as it is", "err", err)
		return nil
	}
	return err
}
