package report

import (
	"context"
	"slices"
	"strings"
	"sync"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/agreements"
)

// valuationSource is the warehouse as agreements.Value reads it, read once
// per site: an agreement is valued for its whole period, each month and
// each year, and every valuation asked the warehouse again for the same
// register, counties and usage (a national site made 1,700 queries of it).
// The register and counties are read once; an agreement's usage once for
// the span of all its periods, and each period takes its months from that.
// Uses are per library and month, so a period's are exactly those of its
// months: nothing is summed that the warehouse would not have summed.
type valuationSource struct {
	w *agreements.Warehouse

	once     sync.Once
	libs     []agreements.Library
	counties map[string]agreements.County
	err      error

	mu   sync.Mutex
	uses map[string][]agreements.Use // by platforms and metrics, over first–last
	span [2]bibstat.Month
}

var _ agreements.Source = (*valuationSource)(nil)

// newValuationSource reads usage for the span of every period that will
// be valued: from the earliest agreement's first month to the latest's last.
func newValuationSource(w *agreements.Warehouse, list []agreements.Agreement) *valuationSource {
	v := &valuationSource{w: w, uses: map[string][]agreements.Use{}}
	for i, a := range list {
		if i == 0 || a.From.Before(v.span[0]) {
			v.span[0] = a.From
		}
		if i == 0 || v.span[1].Before(a.To) {
			v.span[1] = a.To
		}
	}
	return v
}

func (v *valuationSource) load(ctx context.Context) error {
	v.once.Do(func() {
		if v.libs, v.err = v.w.Libraries(ctx); v.err != nil {
			return
		}
		v.counties, v.err = v.w.Counties(ctx)
	})
	return v.err
}

// Libraries returns the register; callers only read it.
func (v *valuationSource) Libraries(ctx context.Context) ([]agreements.Library, error) {
	if err := v.load(ctx); err != nil {
		return nil, err
	}
	return slices.Clone(v.libs), nil
}

// Counties returns the counties; callers only read them.
func (v *valuationSource) Counties(ctx context.Context) (map[string]agreements.County, error) {
	if err := v.load(ctx); err != nil {
		return nil, err
	}
	return v.counties, nil
}

// Uses returns the cached usage of first–last; a period outside the span
// read is asked of the warehouse itself.
func (v *valuationSource) Uses(ctx context.Context, platforms, metrics []string, first, last bibstat.Month) ([]agreements.Use, error) {
	if first.Before(v.span[0]) || v.span[1].Before(last) {
		return v.w.Uses(ctx, platforms, metrics, first, last)
	}
	key := strings.Join(platforms, "\x00") + "\x01" + strings.Join(metrics, "\x00")
	v.mu.Lock()
	all, ok := v.uses[key]
	v.mu.Unlock()
	if !ok {
		var err error
		if all, err = v.w.Uses(ctx, platforms, metrics, v.span[0], v.span[1]); err != nil {
			return nil, err
		}
		v.mu.Lock()
		v.uses[key] = all
		v.mu.Unlock()
	}
	// Counted first, so that the period's uses are one slice of their size:
	// grown by doubling, they were a tenth of what a build allocated.
	in := func(u agreements.Use) bool { return !u.Month.Before(first) && !last.Before(u.Month) }
	n := 0
	for _, u := range all {
		n += boolIndex(in(u))
	}
	if n == 0 {
		return nil, nil // as before: no uses, no slice
	}
	out := make([]agreements.Use, 0, n)
	for _, u := range all {
		if in(u) {
			out = append(out, u)
		}
	}
	return out, nil
}
