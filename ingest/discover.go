package ingest

import (
	"fmt"
	"io"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/ingest/sushi"
	"github.com/bibliotek24/bibstat/internal/config"
)

// discovered is a proposed credential entry, in config order.
type discovered struct {
	Platform    string        `yaml:"platform"`
	Library     string        `yaml:"library"`
	CustomerID  string        `yaml:"customer_id"`
	RequestorID config.Secret `yaml:"requestor_id,omitempty"`
	APIKey      config.Secret `yaml:"api_key,omitempty"`
}

// WriteDiscovered writes the members a platform's /members listed as
// credential entries under credentials:, YAML to review and paste into
// the config. Each entry carries its member's name and what to check as a
// comment. Secrets are written as the consortium's references or as new
// env: references, never as values.
func WriteDiscovered(w io.Writer, cfg *config.Config, p *config.Platform, members []sushi.Member) error {
	fmt.Fprintf(w, "# %d members of the consortium on %s (%s), from /members.\n", len(members), p.ID, p.Name)
	fmt.Fprintf(w, "# Review, then add under credentials: in the config. The consortium's api_key works for every member.\n")
	have := map[string]bool{}
	for _, c := range cfg.Credentials {
		if c.Platform == p.ID {
			have[c.CustomerID] = true
		}
	}
	var entries []*yaml.Node
	for _, m := range members {
		n, err := discoveredNode(cfg, p, m, have[m.CustomerID])
		if err != nil {
			return err
		}
		entries = append(entries, n)
	}
	doc := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{
		{Kind: yaml.ScalarNode, Value: "credentials"},
		{Kind: yaml.SequenceNode, Content: entries},
	}}
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("write yaml: %w", err)
	}
	return enc.Close()
}

// discoveredNode is member m's entry, its name and notes as its comment.
func discoveredNode(cfg *config.Config, p *config.Platform, m sushi.Member, configured bool) (*yaml.Node, error) {
	d := discovered{Platform: p.ID, CustomerID: m.CustomerID}
	if c := p.Consortium; c != nil {
		d.APIKey, d.RequestorID = c.APIKey, c.RequestorID
	}
	var notes []string
	if lib, err := bibstat.ParseLibraryID(m.ISIL()); err == nil {
		d.Library = string(lib)
		if _, ok := cfg.Library(d.Library); !ok {
			notes = append(notes, "library "+d.Library+" is not under libraries: yet")
		}
	} else {
		d.Library = "TODO"
		notes = append(notes, fmt.Sprintf("no Norwegian ISIL for %q (ids: %s): set library by hand", m.Name, strings.Join(m.InstitutionIDs, ", ")))
	}
	if m.RequestorID != "" {
		// A member-specific requestor id is a secret: reference it, never print it.
		d.RequestorID = config.Secret("env:SUSHI_" + strings.ToUpper(p.ID) + "_REQUESTOR_" + d.Library)
		notes = append(notes, "the vendor gave a member-specific requestor_id; store it in "+strings.TrimPrefix(string(d.RequestorID), "env:"))
	}
	if configured {
		notes = append(notes, "already configured")
	}
	var n yaml.Node
	if err := n.Encode(d); err != nil {
		return nil, fmt.Errorf("encode credential %s: %w", m.CustomerID, err)
	}
	n.HeadComment = m.Name
	if len(notes) > 0 {
		n.HeadComment += "\n" + strings.Join(notes, "\n")
	}
	return &n, nil
}
