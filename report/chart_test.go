package report

import (
	"bytes"
	"html/template"
	"math/rand/v2"
	"strings"
	"testing"
)

// cellsBefore and cellsNow are the table template's cells as drawn before,
// with a function call per cell, and now, from cells readied by Part.
const (
	cellsBefore = `{{range $i, $c := $r.Cells}}<td{{if $.Num $i}} class="num"{{end}}{{with index $r.Sort $i}} data-sort="{{.}}"{{end}}>{{$c}}</td>{{end}}`
	cellsNow    = `{{$r.Cells}}`
)

// partBefore is what the template was given before.
type partBefore struct {
	*table
	M    messages
	Root string
}

func (p *partBefore) Num(i int) bool { return i >= p.Text }

func TestTableAsBefore(t *testing.T) {
	hostile := []string{"<script>", `"x"`, "a&b", "'", "+1", "=1", "1 234", "", "javascript:alert(1)"}
	tb := &table{ID: "t<1>", Caption: "c&", RowHead: "r\"", Series: []string{"a", "<b>", "c"}, Links: []string{"", "m-x\"", ""}, Text: 1, Sortable: true}
	for i := range 12 {
		row := tableRow{Label: hostile[i%len(hostile)], Cells: []string{hostile[(i+1)%len(hostile)], hostile[(i+2)%len(hostile)], hostile[(i+3)%len(hostile)]}}
		if i%3 == 0 {
			row.Link = "bibliotek/" + hostile[(i+4)%len(hostile)] + ".html"
		}
		if i%2 == 0 {
			row.Sort = []string{"1.5", hostile[i%len(hostile)]} // shorter than the cells, as some tables have
		}
		tb.Rows = append(tb.Rows, row)
	}
	parts, err := templateFiles.ReadFile("templates/parts.html")
	if err != nil || !strings.Contains(string(parts), cellsNow) {
		t.Fatalf("the table template draws its cells otherwise now (%v): update cellsNow", err)
	}
	before := template.Must(template.New("x").Parse(strings.Replace(string(parts), cellsNow, cellsBefore, 1)))
	after := template.Must(template.New("x").Parse(string(parts)))
	for lang, m := range catalog {
		for _, root := range []string{"", "../"} {
			p := page{M: m, Root: root}
			var want, got bytes.Buffer
			// The part as Part readied it before: sort values as long as the cells.
			old := &table{}
			*old = *tb
			old.Rows = nil
			for _, r := range tb.Rows {
				r.Sort = append(append([]string(nil), r.Sort...), make([]string, len(r.Cells)-len(r.Sort))...)
				old.Rows = append(old.Rows, r)
			}
			if err := before.ExecuteTemplate(&want, "table", &partBefore{table: old, M: m, Root: root}); err != nil {
				t.Fatal(err)
			}
			if err := after.ExecuteTemplate(&got, "table", p.Part(tb)); err != nil {
				t.Fatal(err)
			}
			if got.String() != want.String() || !strings.Contains(got.String(), "data-sort") {
				t.Errorf("%s root %q: the table differs from before:\n%s\nwant\n%s", lang, root, got.String(), want.String())
			}
		}
	}
}

// TestCellAsTemplate draws cells of random text, hostile and not UTF-8,
// by appendCell and by html/template from the template the table used
// before: the same bytes.
func TestCellAsTemplate(t *testing.T) {
	tpl := template.Must(template.New("c").Parse(`<td{{if .Num}} class="num"{{end}}{{with .Sort}} data-sort="{{.}}"{{end}}>{{.Text}}</td>`))
	pieces := []string{"<", ">", "&", "'", `"`, "+", "\x00", "\xff", "\xe2\x82", "€", "\ufdd0", "\uffff", " ", "a", "1 234", "=", "\u2028", "javascript:", "&amp;"}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		var text, sort strings.Builder
		for range rng.IntN(8) {
			text.WriteString(pieces[rng.IntN(len(pieces))])
		}
		for range rng.IntN(4) {
			sort.WriteString(pieces[rng.IntN(len(pieces))])
		}
		num := rng.IntN(2) == 0
		var want bytes.Buffer
		if err := tpl.Execute(&want, struct {
			Text, Sort string
			Num        bool
		}{text.String(), sort.String(), num}); err != nil {
			t.Fatal(err)
		}
		if got := appendCell(nil, text.String(), sort.String(), num); string(got) != want.String() {
			t.Fatalf("cell %q sort %q: %q, want %q", text.String(), sort.String(), got, want.String())
		}
	}
}
