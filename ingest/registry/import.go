package registry

import (
	"context"
	"encoding/json"
	"fmt"
)

// maxPages bounds how many pages of a paged response are followed.
const maxPages = 200

// Importer reads registry records into proposals.
type Importer struct {
	// Fetch reads a URL the records link to (a sushi-service, the next
	// page); nil means offline: links are reported, not followed.
	Fetch func(ctx context.Context, url string) ([]byte, error)
}

// Result is what Import found.
type Result struct {
	Proposals []Proposal
	// Warnings are things the operator should know that belong to no one
	// proposal, such as pages not followed.
	Warnings []string
}

// Import reads one document (a platform, a sushi-service, a list of either
// or a paged response), follows its links and pages through Fetch, and
// proposes one entry per platform, ids made unique.
func (im *Importer) Import(ctx context.Context, data []byte) (*Result, error) {
	res := &Result{}
	cache := map[string][]byte{}
	seen := map[string]bool{}
	for pages := 0; ; pages++ {
		next, err := im.document(ctx, data, cache, res)
		if err != nil {
			return nil, err
		}
		if next == "" {
			break
		}
		if im.Fetch == nil || pages+1 >= maxPages || seen[next] {
			res.Warnings = append(res.Warnings, "the response has more pages, not read: "+clean(next, maxNote))
			break
		}
		seen[next] = true
		if data, err = im.Fetch(ctx, next); err != nil {
			return nil, fmt.Errorf("next page: %w", err)
		}
	}
	uniqueIDs(res.Proposals)
	return res, nil
}

// document reads one page into res and returns the next page's URL, if any.
func (im *Importer) document(ctx context.Context, data []byte, cache map[string][]byte, res *Result) (string, error) {
	list, err := items(data)
	if err != nil {
		return "", err
	}
	var next string
	for i, raw := range list {
		if err := ctx.Err(); err != nil {
			return "", err // a cancelled fetch is no platform's problem
		}
		k, err := classify(raw)
		if err != nil {
			return "", fmt.Errorf("record %d: %w", i+1, err)
		}
		switch k {
		case kindPage:
			var pg page
			if err := json.Unmarshal(raw, &pg); err != nil {
				return "", fmt.Errorf("%w: page: %v", ErrNotRegistry, err)
			}
			if pg.Next != nil && *pg.Next != "" {
				next = *pg.Next
			}
			for j, r := range pg.Results {
				if err := ctx.Err(); err != nil {
					return "", err
				}
				p, err := im.record(ctx, r, cache)
				if err != nil {
					return "", fmt.Errorf("result %d: %w", j+1, err)
				}
				res.Proposals = append(res.Proposals, p)
			}
		default:
			p, err := im.record(ctx, raw, cache)
			if err != nil {
				return "", fmt.Errorf("record %d: %w", i+1, err)
			}
			res.Proposals = append(res.Proposals, p)
		}
	}
	return next, nil
}

// record proposes the entry for one platform or sushi-service. A service
// that cannot be read is the proposal's problem, not an error: the other
// platforms still count.
func (im *Importer) record(ctx context.Context, raw json.RawMessage, cache map[string][]byte) (Proposal, error) {
	k, err := classify(raw)
	if err != nil {
		return Proposal{}, err
	}
	switch k {
	case kindService:
		var s service
		if err := json.Unmarshal(raw, &s); err != nil {
			return Proposal{}, fmt.Errorf("%w: sushi-service: %v", ErrNotRegistry, err)
		}
		return proposeService(s), nil
	case kindPlatform:
		var pl platformRecord
		if err := json.Unmarshal(raw, &pl); err != nil {
			return Proposal{}, fmt.Errorf("%w: platform: %v", ErrNotRegistry, err)
		}
		services := make([]resolved, 0, len(pl.SushiServices))
		for _, sraw := range pl.SushiServices {
			services = append(services, im.service(ctx, sraw, cache))
		}
		return propose(pl, services), nil
	}
	return Proposal{}, fmt.Errorf("%w: a page inside a page", ErrNotRegistry)
}

// service reads one entry of a platform's sushi_services: embedded in full
// (GET /platform/{id}/) or a link {counter_release, url} to fetch.
func (im *Importer) service(ctx context.Context, raw json.RawMessage, cache map[string][]byte) resolved {
	var s service
	if err := json.Unmarshal(raw, &s); err != nil {
		return resolved{err: fmt.Errorf("sushi service: %w", err)}
	}
	if s.APIKeyRequired != nil || s.RequestorIDRequired != nil || s.PlatformAttrRequired != nil {
		return resolved{svc: s}
	}
	link, err := linkURL(s.URL)
	if err != nil {
		return resolved{svc: s, err: fmt.Errorf("sushi service: %w", err)}
	}
	if s.CounterRelease != "" && release(s.CounterRelease) == "" {
		return resolved{svc: s, link: link} // not harvested: not worth a request
	}
	if im.Fetch == nil {
		return resolved{svc: s, link: link, err: fmt.Errorf("sushi service %s: not read offline", link)}
	}
	body, ok := cache[link]
	if !ok {
		if body, err = im.Fetch(ctx, link); err != nil {
			return resolved{svc: s, link: link, err: fmt.Errorf("sushi service: %w", err)}
		}
		cache[link] = body
	}
	var full service
	if err := json.Unmarshal(body, &full); err != nil || full.URL == "" {
		return resolved{svc: s, link: link, err: fmt.Errorf("sushi service %s: %w", link, ErrNotRegistry)}
	}
	if full.CounterRelease == "" {
		full.CounterRelease = s.CounterRelease
	}
	return resolved{svc: full, link: link}
}

// uniqueIDs gives proposals that share a slug the suffixes -2, -3, …
func uniqueIDs(ps []Proposal) {
	taken := map[string]bool{}
	for i := range ps {
		id := ps[i].Platform.ID
		for n := 2; taken[id]; n++ {
			id = fmt.Sprintf("%s-%d", ps[i].Platform.ID, n)
		}
		taken[id] = true
		ps[i].Platform.ID = id
	}
}
