package report

import (
	"bytes"
	"html/template"
	"strings"
	"testing"
)

// tableBefore is the "table" template as it was when it called a function
// per cell: the template now ranges over cells readied by Part instead,
// and must draw the same bytes.
const tableBefore = `{{define "table"}}
{{if .Intro}}<p>{{.Intro}}</p>{{end}}
{{if .Rows}}
<div class="scroll" role="region" aria-labelledby="{{.ID}}-c" tabindex="0">
<table{{if .Sortable}} class="sortable" data-sort-label="{{.M.SortBy}}"{{end}} id="{{.ID}}-t">
<caption id="{{.ID}}-c">{{.Caption}}</caption>
<thead><tr><th scope="col">{{.RowHead}}</th>{{range $i, $s := .Series}}<th scope="col"{{if $.Num $i}} class="num"{{end}}>{{with index $.Links $i}}<a href="{{$.Root}}ordliste.html#{{.}}">{{$s}}</a>{{else}}{{$s}}{{end}}</th>{{end}}</tr></thead>
<tbody>
{{range $r := .Rows}}<tr><th scope="row">{{if $r.Link}}<a href="{{$.Root}}{{$r.Link}}">{{$r.Label}}</a>{{else}}{{$r.Label}}{{end}}</th>{{range $i, $c := $r.Cells}}<td{{if $.Num $i}} class="num"{{end}}{{with index $r.Sort $i}} data-sort="{{.}}"{{end}}>{{$c}}</td>{{end}}</tr>
{{end}}</tbody>
</table>
</div>
{{end}}
{{end}}`

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
	before := template.Must(template.New("x").Parse(tableBefore))
	after := template.Must(template.New("x").ParseFS(templateFiles, "templates/parts.html"))
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
