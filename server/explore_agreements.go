package server

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/agreements"
	"github.com/bibliotek24/bibstat/report"
)

// /avtaler: the agreements a user's libraries take part in, valued by
// package agreements over the whole agreement period: the agreement's
// totals, and for each participant that is the user's (their library, or
// the county it takes part through) its share of the cost, uses and own
// cost per use. An admin sees every agreement, with a link to its page on
// the site. A library taking part on its own is not counted again under its
// county (agreements' rule), so its own row is the one that holds it.

type agreementsPage struct {
	portalPage
	Intro, Empty string
	Agreements   []agreementCard
}

type agreementCard struct {
	Name, Href                                              string // Href: the site's page, for an admin
	Vendor, Services, Period, Cost, Uses, CostPerUse, Parts string
	Own                                                     []ownShare
}

type ownShare struct {
	Name, Months, Allocated, Uses, CostPerUse string
}

func (s *Server) ownAgreements(w http.ResponseWriter, r *http.Request) {
	pp, _, langErr, ok := s.portalStart(w, r)
	if !ok {
		return
	}
	if langErr != "" {
		http.Error(w, langErr, http.StatusBadRequest)
		return
	}
	u, m, words := pp.User, pp.M, pp.W
	pp.Title, pp.Langs = words.YourAgreements, langLinks("/avtaler", url.Values{})
	p := agreementsPage{portalPage: pp, Intro: words.AgreementsIntro}
	cards, err := s.agreementCards(r.Context(), u, m, words)
	if err != nil {
		s.log.Error("agreements", "user", u.Name, "error", err)
		http.Error(w, "warehouse unavailable", http.StatusServiceUnavailable)
		return
	}
	p.Agreements = cards
	if len(cards) == 0 {
		p.Empty = words.NoAgreementsYours
	}
	s.renderExplore(w, http.StatusOK, "agreements", p)
}

// agreementCards values each agreement that has a participant of u's.
func (s *Server) agreementCards(ctx context.Context, u User, m report.Messages, w exploreWords) ([]agreementCard, error) {
	wh := &agreements.Warehouse{DB: s.cfg.DB}
	list, err := wh.List(ctx)
	if err != nil {
		return nil, err
	}
	names, err := s.countyNames(ctx)
	if err != nil {
		return nil, err
	}
	var out []agreementCard
	for _, a := range list {
		var mine []agreements.Participant
		for _, p := range a.Participants {
			if s.ownsParticipant(ctx, u, p) {
				mine = append(mine, p)
			}
		}
		if u.Role == RoleLibrary && slices.ContainsFunc(mine, func(p agreements.Participant) bool { return p.Library != "" }) {
			// Taking part on its own, the library is not counted under its county.
			mine = slices.DeleteFunc(mine, func(p agreements.Participant) bool { return p.County != "" })
		}
		if len(mine) == 0 && u.Role != RoleAdmin {
			continue
		}
		card := agreementCard{Name: a.Name, Vendor: a.Vendor, Period: m.FormatMonth(a.From.First()) + "–" + m.FormatMonth(a.To.First()),
			Cost: m.NoData, Uses: m.NoData, CostPerUse: m.NoData}
		if u.Role == RoleAdmin && bibstat.CheckSegment(a.ID) == nil {
			card.Href = "/avtale/" + a.ID + ".html"
		}
		var services []string
		for _, p := range a.Platforms {
			services = append(services, s.platformName(p))
		}
		card.Services = strings.Join(services, ", ")
		v, err := agreements.Value(ctx, wh, a, a.From, a.To)
		if err != nil {
			// One agreement that cannot be valued (a registry from before a
			// check) says so by its figures, not by hiding the others.
			s.log.Warn("agreements: value", "agreement", a.ID, "error", err)
			out = append(out, card)
			continue
		}
		card.Cost, card.CostPerUse = m.FormatMoney(v.Cost), m.FormatQuotient(v.CostPerUse)
		if v.HasData {
			card.Uses = m.FormatInt(v.Uses)
		}
		card.Parts = fmt.Sprintf(m.ParticipationText, v.Libraries, m.FormatInt(v.Population))
		for _, pv := range v.Participants {
			if !containsParticipant(mine, pv.Participant) {
				continue
			}
			sh := ownShare{Name: pv.Name, Months: m.FormatInt(int64(pv.Months)), Allocated: m.FormatMoney(pv.Allocated),
				Uses: m.NoData, CostPerUse: m.FormatQuotient(pv.CostPerUse)}
			if c := pv.Participant.County; c != "" {
				sh.Name = cmpOr(names[c], m.County+" "+c)
			}
			if pv.HasData {
				sh.Uses = m.FormatInt(pv.Uses)
			}
			card.Own = append(card.Own, sh)
		}
		out = append(out, card)
	}
	return out, nil
}

func containsParticipant(ps []agreements.Participant, p agreements.Participant) bool {
	for _, q := range ps {
		if q.Key() == p.Key() && q.Joined == p.Joined && q.Left == p.Left {
			return true
		}
	}
	return false
}

// ownsParticipant: p is u's library, a library of u's county, u's county,
// or the county u's library takes part through (in some month of p's).
func (s *Server) ownsParticipant(ctx context.Context, u User, p agreements.Participant) bool {
	if p.Library != "" {
		return u.Role != RoleAdmin && CanSeeLibrary(ctx, s.geo, u, p.Library)
	}
	c24 := u.County
	if u.Role == RoleLibrary {
		var ok bool
		if c24, ok = s.geo.County(ctx, u.Library); !ok {
			return false
		}
	}
	if u.Role == RoleAdmin || c24 == "" {
		return false
	}
	for _, m := range bibstat.MonthsBetween(p.Joined, p.Left) {
		if agreements.Covers(p.County, c24, m) {
			return true
		}
	}
	return false
}
