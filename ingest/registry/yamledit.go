package registry

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/bibliotek24/bibstat/internal/config"
)

// ErrEditByHand means the config is written in a way Apply does not edit
// (flow style, multi-line values): the operator edits it.
var ErrEditByHand = errors.New("edit the config by hand")

// Apply writes the new and changed entries into the config file's text src
// and returns the new text. It edits lines in place: a changed value
// replaces only its own text, a missing field is a new line after the id,
// new entries come after the last platform with their requirements and
// notes as comments; every other line, comment and blank line stays. The
// result must parse and validate, or Apply fails and src stays as it was.
func Apply(src []byte, entries []Entry) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, fmt.Errorf("parse config: %w", err)
	}
	eol := "\n"
	if bytes.Contains(src, []byte("\r\n")) {
		eol = "\r\n"
	}
	text := strings.TrimRight(string(src), "\r\n")
	var lines []string
	if text != "" {
		lines = strings.Split(text, eol)
	}
	ed := &editor{lines: lines, after: map[int][]string{}}
	var root *yaml.Node
	if len(doc.Content) > 0 {
		root = doc.Content[0]
		if root.Kind != yaml.MappingNode {
			return nil, fmt.Errorf("config is not a mapping: %w", ErrEditByHand)
		}
	}
	seq, at, indent, err := ed.platforms(root)
	if err != nil {
		return nil, err
	}
	var fresh []string
	for _, e := range entries {
		switch e.Status {
		case Changed:
			if err := ed.update(seq, e); err != nil {
				return nil, err
			}
		case New:
			fresh = append(fresh, entryLines(e, indent)...)
		}
	}
	ed.after[at] = append(ed.after[at], fresh...)
	out := []byte(strings.Join(ed.result(), eol) + eol)
	cfg, err := config.Parse(bytes.NewReader(out))
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		return nil, fmt.Errorf("the edited config would not load: %w", err)
	}
	return out, nil
}

// editor collects line edits: lines changed in place, and lines to insert
// after a line index (-1: before the first line).
type editor struct {
	lines []string
	after map[int][]string
}

func (ed *editor) result() []string {
	out := append([]string(nil), ed.after[-1]...)
	for i, l := range ed.lines {
		out = append(out, l)
		out = append(out, ed.after[i]...)
	}
	return out
}

// platforms finds the platforms sequence, the line index new entries go
// after and their indentation. An absent or empty platforms key gets one.
func (ed *editor) platforms(root *yaml.Node) (*yaml.Node, int, string, error) {
	var key, val, next *yaml.Node
	if root != nil {
		for i := 0; i+1 < len(root.Content); i += 2 {
			if root.Content[i].Value == "platforms" {
				key, val = root.Content[i], root.Content[i+1]
				if i+2 < len(root.Content) {
					next = root.Content[i+2]
				}
			}
		}
	}
	if key == nil {
		ed.lines = append(ed.lines, "platforms:")
		return nil, len(ed.lines) - 1, "  ", nil
	}
	switch {
	case val.Kind == yaml.ScalarNode && val.Tag == "!!null":
		if val.Line == key.Line && val.Value != "" {
			if err := ed.replace(val, ""); err != nil {
				return nil, 0, "", err
			}
		}
		return nil, key.Line - 1, "  ", nil
	case val.Kind == yaml.SequenceNode && val.Style&yaml.FlowStyle != 0 && len(val.Content) == 0:
		l := []rune(ed.lines[val.Line-1])
		end := strings.IndexRune(string(l[val.Column-1:]), ']')
		if end < 0 {
			return nil, 0, "", fmt.Errorf("platforms: %w", ErrEditByHand)
		}
		ed.lines[val.Line-1] = strings.TrimRight(string(l[:val.Column-1]), " ") + string(l[val.Column-1:])[end+1:]
		return nil, val.Line - 1, "  ", nil
	case val.Kind != yaml.SequenceNode || val.Style&yaml.FlowStyle != 0:
		return nil, 0, "", fmt.Errorf("platforms is not a block list: %w", ErrEditByHand)
	}
	indent := "  "
	if len(val.Content) > 0 && val.Content[0].Column >= 3 {
		indent = strings.Repeat(" ", val.Content[0].Column-3) // the column of "- "
	}
	at := len(ed.lines) - 1
	if next != nil {
		at = next.Line - 2
	}
	// Blank lines and unindented comments before the next key belong to it.
	for at > key.Line-1 && (strings.TrimSpace(ed.lines[at]) == "" || strings.HasPrefix(ed.lines[at], "#")) {
		at--
	}
	return val, at, indent, nil
}

// update sets the changed fields of the entry with e's id in place.
func (ed *editor) update(seq *yaml.Node, e Entry) error {
	var item *yaml.Node
	for _, it := range seqContent(seq) {
		if v := field(it, "id"); v != nil && v.Value == e.Platform.ID {
			item = it
		}
	}
	if item == nil {
		return fmt.Errorf("platform %s: not found in the config's text: %w", e.Platform.ID, ErrEditByHand)
	}
	for _, c := range e.Changes {
		text := scalar(c.Field, c.New)
		if v := field(item, c.Field); v != nil {
			if err := ed.replace(v, text); err != nil {
				return fmt.Errorf("platform %s: %s: %w", e.Platform.ID, c.Field, err)
			}
			continue
		}
		id := field(item, "id")
		idKey := item.Content[0]
		for i := 0; i+1 < len(item.Content); i += 2 {
			if item.Content[i+1] == id {
				idKey = item.Content[i]
			}
		}
		ed.after[id.Line-1] = append(ed.after[id.Line-1], strings.Repeat(" ", idKey.Column-1)+c.Field+": "+text)
	}
	return nil
}

// replace puts text where the single-line scalar v is written.
func (ed *editor) replace(v *yaml.Node, text string) error {
	if v.Kind != yaml.ScalarNode || v.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 || v.Line < 1 || v.Line > len(ed.lines) {
		return ErrEditByHand
	}
	l := []rune(ed.lines[v.Line-1])
	start := v.Column - 1
	if start < 0 || start > len(l) {
		return ErrEditByHand
	}
	end := scalarEnd(l, start, v.Style)
	if end < 0 || (v.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) == 0 && string(l[start:end]) != v.Value) {
		return ErrEditByHand // a value over several lines, or one Apply cannot find
	}
	ed.lines[v.Line-1] = string(l[:start]) + text + string(l[end:])
	return nil
}

// scalarEnd is where the scalar starting at l[start] ends, -1 if not on this line.
func scalarEnd(l []rune, start int, style yaml.Style) int {
	switch {
	case style&yaml.DoubleQuotedStyle != 0:
		for i := start + 1; i < len(l); i++ {
			switch l[i] {
			case '\\':
				i++
			case '"':
				return i + 1
			}
		}
		return -1
	case style&yaml.SingleQuotedStyle != 0:
		for i := start + 1; i < len(l); i++ {
			if l[i] == '\'' {
				if i+1 < len(l) && l[i+1] == '\'' {
					i++
					continue
				}
				return i + 1
			}
		}
		return -1
	}
	end := len(l)
	if i := strings.Index(string(l[start:]), " #"); i >= 0 {
		end = start + len([]rune(string(l[start:])[:i]))
	}
	for end > start && (l[end-1] == ' ' || l[end-1] == '\t' || l[end-1] == '\r') {
		end--
	}
	return end
}

// entryLines renders a new entry: its registry origin, requirements and
// notes as comments, then the fields.
func entryLines(e Entry, indent string) []string {
	out := []string{indent + "# from the COUNTER Registry" + strings.TrimSuffix(", id "+e.RegistryID, ", id ")}
	out = append(out, indent+"# requires: "+strings.Join(e.Requires, ", "))
	for _, n := range e.Notes {
		out = append(out, indent+"# "+n)
	}
	p := e.Platform
	fields := [][2]string{{"id", p.ID}, {"name", p.Name}, {"base_url", p.BaseURL}, {"release", p.Release}}
	if p.PlatformParam != "" {
		fields = append(fields, [2]string{"platform_param", p.PlatformParam})
	}
	for i, f := range fields {
		lead := indent + "  "
		if i == 0 {
			lead = indent + "- "
		}
		out = append(out, lead+f[0]+": "+scalar(f[0], f[1]))
	}
	return out
}

// scalar is value as YAML on one line; a release is always quoted so that
// "5.1" stays a string.
func scalar(field, value string) string {
	if field == "release" {
		return `"` + value + `"`
	}
	b, err := yaml.Marshal(value)
	if err != nil {
		return `""`
	}
	return strings.TrimRight(string(b), "\n")
}

func seqContent(n *yaml.Node) []*yaml.Node {
	if n == nil {
		return nil
	}
	return n.Content
}

// field is the value of key in mapping m, nil when absent.
func field(m *yaml.Node, key string) *yaml.Node {
	if m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}
