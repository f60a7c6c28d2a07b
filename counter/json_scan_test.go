package counter

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/bibliotek24/bibstat/schemas"
)

// readOutcome is everything a Read shows of a document: the Document, the
// rows in order, and the error as text (its chain's CellError, if any).
type readOutcome struct {
	doc  *Document
	rows []string
	err  string
	cell *CellError
}

func readBoth(t testing.TB, in []byte, opts Options) (oldWay, newWay readOutcome) {
	t.Helper()
	read := func(stream bool) readOutcome {
		o := opts
		o.streamJSON = stream
		var out readOutcome
		var r schemas.Row
		doc, err := Read(context.Background(), bytes.NewReader(in), o, func(rec arrow.RecordBatch) error {
			defer rec.Release()
			for i := range int(rec.NumRows()) {
				r.SetFrom(rec, i)
				out.rows = append(out.rows, fmt.Sprintf("%#v", r))
			}
			return nil
		})
		out.doc = doc
		if err != nil {
			out.err = err.Error()
			if ce, ok := err.(*CellError); ok {
				out.cell = ce
			}
		}
		return out
	}
	return read(true), read(false)
}

// sameRead fails t where the byte tokens read in differently from the
// Decoder.
func sameRead(t *testing.T, name string, in []byte, opts Options) {
	t.Helper()
	a, b := readBoth(t, in, opts)
	if a.err != b.err {
		t.Errorf("%s: error\n  decoder: %s\n  bytes:   %s", name, a.err, b.err)
	}
	if !reflect.DeepEqual(a.cell, b.cell) {
		t.Errorf("%s: cell error\n  decoder: %#v\n  bytes:   %#v", name, a.cell, b.cell)
	}
	if !reflect.DeepEqual(a.doc, b.doc) {
		t.Errorf("%s: document\n  decoder: %+v\n  bytes:   %+v", name, a.doc, b.doc)
	}
	if !reflect.DeepEqual(a.rows, b.rows) {
		t.Errorf("%s: %d rows against %d\n  decoder: %v\n  bytes:   %v", name, len(a.rows), len(b.rows), a.rows, b.rows)
	}
}

// TestByteTokensReadAsTheDecoder: every fixture and shared sample (JSON or
// not: the sniffing decides) reads to the same document, rows and error
// through the byte tokens as through encoding/json's Decoder, under the
// defaults and under small limits.
func TestByteTokensReadAsTheDecoder(t *testing.T) {
	var files []string
	for _, dir := range []string{fixtures, samplesDir} {
		names, _ := filepath.Glob(filepath.Join(dir, "*"))
		files = append(files, names...)
	}
	if len(files) < 40 {
		t.Fatalf("only %d fixtures found", len(files))
	}
	for _, name := range files {
		in, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, opts := range []Options{{}, {BatchRows: 2, MaxDepth: 6}, {AcceptPartial: true, MaxDepth: 3}, {MaxBytes: 300}} {
			opts.Name = filepath.Base(name)
			sameRead(t, opts.Name, in, opts)
		}
	}
	for _, n := range []int{1, 5, 40} {
		sameRead(t, "synthetic PR", syntheticPR(n), Options{})
	}
	sameRead(t, "synthetic TR", syntheticTRJSON(50), Options{BatchRows: 7})
}

// TestPropertyByteTokensReadAsTheDecoder: random COUNTER-like JSON
// documents (both layouts, headers late or missing, odd spacing, escapes,
// invalid UTF-8, surrogates, duplicate keys, bad counts, deep nesting,
// data after the value) and random damage to them read the same both ways.
func TestPropertyByteTokensReadAsTheDecoder(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 5))
	valid := 0
	for i := range 3000 {
		doc := randomJSONDoc(rng)
		switch rng.IntN(6) {
		case 0: // cut short
			doc = doc[:rng.IntN(len(doc)+1)]
		case 1: // a byte changed
			if len(doc) > 0 {
				const bytes = "{}[]\",:0a\\ \xff"
				doc[rng.IntN(len(doc))] = bytes[rng.IntN(len(bytes))]
			}
		}
		if json.Valid(doc) {
			valid++
		}
		opts := Options{BatchRows: 1 + rng.IntN(4), MaxDepth: 4 + rng.IntN(12), AcceptPartial: rng.IntN(3) == 0}
		sameRead(t, fmt.Sprintf("document %d %q", i, doc), doc, opts)
		if t.Failed() {
			return
		}
	}
	if valid < 1500 {
		t.Fatalf("only %d of 3000 generated documents were valid JSON", valid)
	}
}

// randomJSONDoc is a COUNTER-like JSON response built from random parts.
func randomJSONDoc(rng *rand.Rand) []byte {
	var b bytes.Buffer
	sp := func() {
		if rng.IntN(3) == 0 {
			b.WriteString([]string{" ", "\n", "\t", "\r\n  ", ""}[rng.IntN(5)])
		}
	}
	str := func() string {
		return []string{`"Total_Item_Requests"`, `"Unique_Item_Requests"`, `"Searches_Platform"`, `"Made_Up"`, `""`,
			`"J\u00f8rnal \"x\""`, `"a\\b\/c\n\t"`, `"\ud83d\ude00"`, `"\ud800 lone"`, "\"bad \xff\xfe utf8\"", `"æøå"`,
			`"Total for all titles"`, `"2025-03"`, `" 5 "`, `"1,5"`}[rng.IntN(15)]
	}
	count := func() string {
		return []string{"1", "7", "0", "12", "-3", "1.5", "2e3", `"4"`, "null", "true", "{}", "[]", "9223372036854775807", `""`}[rng.IntN(14)]
	}
	month := func() string {
		return fmt.Sprintf(`"2025-%02d"`, 1+rng.IntN(13))
	}
	members := func(fields ...string) {
		b.WriteByte('{')
		first := true
		for _, f := range fields {
			if f == "" {
				continue
			}
			if !first {
				b.WriteByte(',')
			}
			first = false
			sp()
			b.WriteString(f)
			sp()
		}
		b.WriteByte('}')
	}
	perf51 := func() string {
		var p strings.Builder
		p.WriteString(`{`)
		for k := range 1 + rng.IntN(3) {
			if k > 0 {
				p.WriteByte(',')
			}
			fmt.Fprintf(&p, `%s:{`, str())
			for m := range 1 + rng.IntN(3) {
				if m > 0 {
					p.WriteByte(',')
				}
				fmt.Fprintf(&p, `%s: %s`, month(), count())
			}
			p.WriteByte('}')
		}
		p.WriteString(`}`)
		return p.String()
	}
	header := func() string {
		var h bytes.Buffer
		old := b
		b = h
		release := []string{`"5.1"`, `"5"`, `"4"`, `5.1`, `"9"`}[rng.IntN(5)]
		members(`"Report_Name":"Platform Report"`, `"Report_ID":`+[]string{`"PR"`, `"TR"`, `"IR"`, `"DR"`}[rng.IntN(4)],
			`"Release":`+release, `"Institution_Name":`+str(),
			[]string{`"Institution_ID":{"ISIL":["NO-2030100"],"Proprietary":["p:c1"]}`, `"Institution_ID":[{"Type":"ISIL","Value":"NO-1"}]`, ""}[rng.IntN(3)],
			[]string{`"Report_Filters":{"Begin_Date":"2025-01-01","End_Date":"2025-06-30"}`,
				`"Report_Filters":[{"Name":"Begin_Date","Value":"2025-02-01"},{"Name":"End_Date","Value":"2025-02-28"}]`, ""}[rng.IntN(3)],
			[]string{`"Exceptions":[{"Code":3030,"Message":"No Usage Available"}]`, `"Exceptions":[{"Code":3031,"Severity":"Warning","Message":"x"}]`, ""}[rng.IntN(3)],
			[]string{`"Release":"5"`, ""}[rng.IntN(4)%2])
		s := b.String()
		b = old
		return s
	}
	item := func() string {
		old := b
		b = bytes.Buffer{}
		switch rng.IntN(4) {
		case 0, 1: // R5.1
			members(`"Title":`+str(), `"Platform":"P"`, []string{`"Item_ID":{"DOI":"10.1/x","Print_ISSN":["1234-5678"]}`, ""}[rng.IntN(2)],
				`"Attribute_Performance":[{"Data_Type":"Journal","YOP":`+[]string{`"2020"`, `2021`, `"x"`}[rng.IntN(3)]+`,"Performance":`+perf51()+`}]`)
		case 2: // R5
			members(`"Title":`+str(), `"Platform":"P"`, `"Item_ID":[{"Type":"DOI","Value":"10.1/y"}]`,
				fmt.Sprintf(`"Performance":[{"Period":{"Begin_Date":"2025-0%d-01","End_Date":"2025-0%d-%d"},"Instance":[{"Metric_Type":%s,"Count":%s}]}]`,
					1+rng.IntN(6), 1+rng.IntN(6), 28+rng.IntN(4), str(), count()))
		default: // R5.1 IR parent, or nesting
			if rng.IntN(2) == 0 {
				members(`"Title":"Parent"`, `"Items":[{"Item":"Child","Attribute_Performance":[{"Performance":`+perf51()+`}]}]`)
			} else {
				b.WriteString(strings.Repeat(`{"x":[`, rng.IntN(10)) + "1" + strings.Repeat(`]}`, rng.IntN(10)))
			}
		}
		s := b.String()
		b = old
		return s
	}
	var items []string
	for range rng.IntN(5) {
		items = append(items, item())
	}
	list := `"Report_Items":[` + strings.Join(items, ",") + `]`
	switch rng.IntN(10) {
	case 0:
		members(list, `"Report_Header":`+header())
	case 1:
		b.WriteString(`[{"Code":2010,"Severity":"Error","Message":"Unauthorized"}]`)
	case 2:
		inner, _ := json.Marshal(fmt.Sprintf(`{"Report_Header":%s,%s}`, header(), list))
		b.Write(inner)
	case 3:
		members(`"Report_Header":`+header(), list, `"Report_Header":`+header())
	default:
		members(`"Report_Header":`+header(), list)
	}
	sp()
	if rng.IntN(20) == 0 {
		b.WriteString(` {"more":1}`)
	}
	return b.Bytes()
}

// TestByteTokensAsDecoderTokens: token by token, offsets included, the
// byte tokens are the Decoder's on valid JSON.
func TestByteTokensAsDecoderTokens(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 500 {
		in := randomJSONDoc(rng)
		if !json.Valid(in) {
			continue
		}
		dec, bt := newDecoder(bytes.NewReader(in)), &byteTokens{data: in}
		for step := 0; ; step++ {
			if dm, bm := dec.More(), bt.More(); dm != bm || dec.InputOffset() != bt.InputOffset() {
				t.Fatalf("document %d %q step %d: More %v at %d, bytes %v at %d", i, in, step, dm, dec.InputOffset(), bm, bt.InputOffset())
			}
			dt, derr := dec.Token()
			btok, berr := bt.Token()
			if !reflect.DeepEqual(dt, btok) || derr != berr || dec.InputOffset() != bt.InputOffset() {
				t.Fatalf("document %d %q step %d: decoder %#v %v at %d, bytes %#v %v at %d", i, in, step, dt, derr, dec.InputOffset(), btok, berr, bt.InputOffset())
			}
			if derr == io.EOF {
				break
			}
		}
	}
}

func FuzzByteTokens(f *testing.F) {
	seeds(f, ".json")
	f.Add([]byte(`{"a":["\ud800\udc00\ud800",1e3,true,null,{"b":"\u00e6\xff"}]}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) > 1<<16 {
			return
		}
		sameRead(t, "fuzz", in, Options{BatchRows: 3, MaxDepth: 16})
	})
}

// TestRowsOptionAsBatches: Options.Rows is handed the rows the batches
// hold, in their order, and the Document and error are the same, for
// every fixture and sample of every format.
func TestRowsOptionAsBatches(t *testing.T) {
	var files []string
	for _, dir := range []string{fixtures, samplesDir} {
		names, _ := filepath.Glob(filepath.Join(dir, "*"))
		files = append(files, names...)
	}
	withRows := 0
	for _, name := range files {
		in, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		opts := Options{Name: filepath.Base(name), BatchRows: 3}
		_, batches := readBoth(t, in, opts)
		var rows []string
		opts.Rows = func(r *schemas.Row) error {
			rows = append(rows, fmt.Sprintf("%#v", *r))
			return nil
		}
		doc, err := Read(context.Background(), bytes.NewReader(in), opts, nil)
		var msg string
		if err != nil {
			msg = err.Error()
		}
		if msg != batches.err || !reflect.DeepEqual(doc, batches.doc) {
			t.Errorf("%s: with Rows %+v %q, with batches %+v %q", name, doc, msg, batches.doc, batches.err)
		}
		// A document that fails may have handed rows over (documented),
		// where its batches were not yet emitted.
		if err == nil && !reflect.DeepEqual(rows, batches.rows) {
			t.Errorf("%s: Rows took %d rows, the batches hold %d:\n%v\n%v", name, len(rows), len(batches.rows), rows, batches.rows)
		}
		if len(rows) > 0 {
			withRows++
		}
	}
	if withRows < 20 {
		t.Fatalf("only %d files gave rows", withRows)
	}
}
