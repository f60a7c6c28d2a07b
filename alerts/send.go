package alerts

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/internal/config"
	"github.com/bibliotek24/bibstat/internal/mail"
)

// Sender sends one message; mail.SMTP is the real one.
type Sender interface {
	Send(ctx context.Context, m mail.Message) error
}

var _ Sender = (*mail.SMTP)(nil)

// Operator is the operator's key in State.Told.
const Operator = "operator"

// Plan works out the digests of in: for the operator every open alert,
// for each library with a contact address its own, each only what its
// recipient was not told. It records in st what is no longer open (and
// the latest harvest in the platform streaks); Deliver records what is sent.
func Plan(in Inputs, st *State) []Digest {
	cfg := in.Config
	found := Find(in, st)
	open := map[string]bool{}
	for _, a := range found {
		open[a.ID] = true
	}
	st.forget(open)
	loc, err := time.LoadLocation(cfg.Schedule.Timezone)
	if err != nil {
		loc = time.UTC
	}
	base := strings.TrimRight(cfg.Server.BaseURL, "/")
	var out []Digest
	newTo := func(recipient string, keep func(Alert) bool) []Alert {
		var fresh []Alert
		for _, a := range found {
			if keep(a) && !st.told(recipient, a.ID) {
				fresh = append(fresh, a)
			}
		}
		return fresh
	}
	if cfg.Alerts.Operator != "" {
		if fresh := newTo(Operator, func(Alert) bool { return true }); len(fresh) > 0 {
			aud := Audience{Lang: cfg.AlertLang(), Link: base + "/admin", Loc: loc,
				Links: map[Kind]string{KindAccess: base + "/admin/requests"}}
			out = append(out, Digest{Recipient: Operator, To: cfg.Alerts.Operator, Lang: aud.Lang, Alerts: fresh,
				Message: Render(cfg.Alerts.Operator, aud, fresh)})
		}
	}
	for i := range cfg.Libraries {
		lib := &cfg.Libraries[i]
		if lib.Contact == "" {
			continue
		}
		recipient := "library:" + lib.Bibnr
		fresh := newTo(recipient, func(a Alert) bool { return string(a.Library) == lib.Bibnr })
		if len(fresh) == 0 {
			continue
		}
		aud := Audience{Lang: cfg.LibraryLang(lib), Library: lib.Name, Bibnr: lib.Bibnr,
			Link: base + "/bibliotek/" + lib.Bibnr + ".html", Loc: loc}
		out = append(out, Digest{Recipient: recipient, To: lib.Contact, Lang: aud.Lang, Alerts: fresh,
			Message: Render(lib.Contact, aud, fresh)})
	}
	return out
}

// Deliver plans the digests of in against the state at statePath, sends
// each through s and records it as told once sent, then saves the state.
// A digest that fails to send is told next time; one sent just before a
// crash that kept the state from being saved is sent again (told twice
// rather than never). In a dry run nothing is sent or saved.
func Deliver(ctx context.Context, in Inputs, statePath string, s Sender, dryRun bool) ([]Digest, error) {
	st, err := LoadState(statePath)
	if err != nil {
		return nil, err
	}
	digests := Plan(in, st)
	if dryRun {
		return digests, nil
	}
	var errs []error
	for _, d := range digests {
		if err := ctx.Err(); err != nil {
			errs = append(errs, err)
			break
		}
		if err := s.Send(ctx, d.Message); err != nil {
			errs = append(errs, fmt.Errorf("send digest to %s: %w", d.Recipient, err))
			continue
		}
		ids := make([]string, len(d.Alerts))
		for i, a := range d.Alerts {
			ids[i] = a.ID
		}
		st.markTold(d.Recipient, ids, in.Now)
	}
	if err := st.Save(statePath); err != nil {
		errs = append(errs, err)
	}
	return digests, errors.Join(errs...)
}

// Lister is what RejectedUploads reads of the object store.
type Lister interface {
	List(ctx context.Context, prefix string) ([]string, error)
	Get(ctx context.Context, key string) (io.ReadCloser, error)
}

// maxUploads bounds the reason notes read in one run.
const maxUploads = 500

// RejectedUploads lists the files the inbox rejected, from the reason
// notes beside them in inbox/<vendor>/rejected/.
func RejectedUploads(ctx context.Context, st Lister) ([]Upload, error) {
	keys, err := st.List(ctx, bibstat.InboxPrefix)
	if err != nil {
		return nil, fmt.Errorf("list inbox: %w", err)
	}
	var out []Upload
	for _, k := range keys {
		parts := strings.Split(strings.TrimPrefix(k, bibstat.InboxPrefix), "/")
		if len(parts) != 3 || parts[1] != bibstat.InboxRejectedDir || !strings.HasSuffix(parts[2], bibstat.InboxReasonSuffix) {
			continue
		}
		if len(out) == maxUploads {
			break
		}
		u := Upload{Key: k, Vendor: parts[0], File: strings.TrimSuffix(parts[2], bibstat.InboxReasonSuffix)}
		if u.Reason, err = reasonOf(ctx, st, k); err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, nil
}

// reasonOf reads the "reason:" line of a reason note.
func reasonOf(ctx context.Context, st Lister, key string) (string, error) {
	rc, err := st.Get(ctx, key)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", key, err)
	}
	defer rc.Close()
	sc := bufio.NewScanner(io.LimitReader(rc, 64<<10))
	for sc.Scan() {
		if r, ok := strings.CutPrefix(sc.Text(), "reason: "); ok {
			return r, nil
		}
	}
	return "", sc.Err()
}

// Check reports whether cfg can send alerts at all.
func Check(cfg *config.Config) error {
	if !cfg.Mail.Enabled() {
		return errors.New("alerts: mail.host is not set, so no alert can be sent")
	}
	return nil
}
