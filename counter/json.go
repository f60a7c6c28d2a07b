package counter

// The JSON reader: one COUNTER response, streamed token by token, and
// what the response turned out to be (a report, an envelope, exceptions
// or a /reports list).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/bibliotek24/bibstat/schemas"
)

// jsonReader walks one JSON document with the streaming tokenizer so that a
// report is held one Report_Item at a time, never whole.
type jsonReader struct {
	ctx  context.Context
	dec  tokens
	opts Options
	emit func(arrow.RecordBatch) error
	doc  *Document

	sink              *sink
	base              schemas.Row // header fields stamped on every row
	row               schemas.Row
	header            bool     // the header has been read
	layout            string   // "5" or "5.1" item layout seen, for a header without Release
	pending           []*jnode // items that came before their header
	strings           int      // nesting of JSON-encoded strings
	warnedStringCount bool

	itemsList   bool   // Report_Items came as a list
	nItems      int    // Report_Items read, whatever they held
	oneMonth    bool   // a count was dated by one calendar month
	notOneMonth string // the first performance period that was not, "" if none
	shaped      bool   // the Report_ID has been checked against the items' shape

	nodes   []jnode // see node
	keySlab []string
	valSlab []*jnode
	scratch jsonScratch // kept by readerPool from one read to the next
}

func readJSON(ctx context.Context, r io.Reader, opts Options, emit func(arrow.RecordBatch) error, doc *Document) error {
	jr := readerPool.Get().(*jsonReader)
	defer func() {
		if jr.recycle() {
			readerPool.Put(jr)
		}
	}()
	return jr.read(ctx, r, opts, emit, doc)
}

// read reads one document with jr's scratch, the rest of jr zero.
func (jr *jsonReader) read(ctx context.Context, r io.Reader, opts Options, emit func(arrow.RecordBatch) error, doc *Document) error {
	jr.ctx, jr.opts, jr.emit, jr.doc = ctx, opts, emit, doc
	defer func() {
		if jr.sink != nil {
			jr.sink.release()
		}
	}()
	if opts.streamJSON {
		jr.dec = newDecoder(r)
	} else {
		jr.dec = jsonTokens(r, &jr.scratch)
	}
	tok, err := jr.token()
	if err != nil {
		return err
	}
	if err := jr.document(tok, 0); err != nil {
		return err
	}
	if _, err := jr.dec.Token(); err != io.EOF {
		jr.doc.warnf("data after the JSON document ignored")
	}
	if jr.notOneMonth != "" && !jr.oneMonth {
		return fmt.Errorf("performance period %s is not one calendar month, and no count is dated by month", jr.notOneMonth)
	}
	if jr.sink != nil {
		if err := jr.sink.flush(); err != nil {
			return err
		}
	}
	// An absent Report_Items is not Empty: the CoP's "zero usage" rule
	// omits items, months and metrics inside the list, and an R5 server
	// with no usage says 3030; a report with no list at all is more often
	// a body cut short or a header-only error than a positive zero.
	doc.settleEmpty(jr.itemsList && jr.nItems == 0)
	return nil
}

// jsonKind names what a JSON token starts, for errors.
func jsonKind(tok json.Token) string {
	switch t := tok.(type) {
	case json.Delim:
		if t == '{' {
			return "an object"
		}
		return "a list"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	}
	return "null"
}

func newDecoder(r io.Reader) *json.Decoder {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	return dec
}

func (jr *jsonReader) token() (json.Token, error) {
	tok, err := jr.dec.Token()
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("parse json at offset %d: %w", jr.dec.InputOffset(), err)
	}
	return tok, nil
}

// document reads the value starting with tok as a whole COUNTER response.
func (jr *jsonReader) document(tok json.Token, depth int) error {
	switch t := tok.(type) {
	case json.Delim:
		if t == '{' {
			return jr.object(depth)
		}
		n, err := jr.value(tok, depth+1, "")
		if err != nil {
			return err
		}
		return jr.array(n)
	case string:
		// Some gateways JSON-encode the whole response a second time.
		if jr.strings >= 2 {
			return errors.New("parse json: response is a string nested too deeply")
		}
		jr.strings++
		jr.doc.warnf("response is a JSON-encoded string")
		outer := jr.dec
		jr.dec = newDecoder(strings.NewReader(t))
		defer func() { jr.dec = outer }()
		inner, err := jr.token()
		if err != nil {
			return err
		}
		return jr.document(inner, depth+1)
	case nil:
		return errors.New("not a COUNTER document: the response is null")
	}
	return fmt.Errorf("not a COUNTER document: the response is a JSON %T", tok)
}

// object streams the members of the response object: Report_Items one item
// at a time, everything else decoded whole (it is small).
func (jr *jsonReader) object(depth int) error {
	root := &jnode{kind: '{'}
	body := false
	for jr.dec.More() {
		ktok, err := jr.token()
		if err != nil {
			return err
		}
		key, _ := ktok.(string)
		if root.get(key) != nil && root.has(key) {
			jr.doc.warnf("duplicate JSON key %q at the top level", key)
		}
		tok, err := jr.token()
		if err != nil {
			return err
		}
		switch {
		case strings.EqualFold(key, "Report_Items") && tok == json.Delim('['):
			jr.itemsList = true
			if err := jr.items(root, depth+1); err != nil {
				return err
			}
			root.set(key, &jnode{kind: '['})
			continue
		case strings.EqualFold(key, "Report_Items"):
			// Read as "no items" this would become a zero for the period.
			return fmt.Errorf("report structure: Report_Items is %s, not a list", jsonKind(tok))
		case strings.EqualFold(key, "body") && tok != nil && !jr.header && depth < 4:
			// An envelope {"body": report, "response": {...}}.
			body = true
			if err := jr.document(tok, depth+1); err != nil {
				return fmt.Errorf("body: %w", err)
			}
			continue
		}
		v, err := jr.value(tok, depth+1, key)
		if err != nil {
			return err
		}
		root.set(key, v)
		if strings.EqualFold(key, "Report_Header") && v.kind == '{' && !jr.header {
			if err := jr.setHeader(v, root); err != nil {
				return err
			}
		}
	}
	if _, err := jr.token(); err != nil { // the closing brace
		return err
	}
	return jr.settle(root, body)
}

// settle decides what the response object root turned out to be, once
// all of it has been read: a report whose header may have come last (or
// sits at the root), an envelope whose body was the report, or exceptions.
func (jr *jsonReader) settle(root *jnode, body bool) error {
	if !jr.header && looksLikeHeader(root) {
		if root.get("Report_Header") == nil {
			jr.doc.warnf("report header fields at the top level, without Report_Header")
		}
		if err := jr.setHeader(root, root); err != nil {
			return err
		}
	}
	if jr.header {
		for _, it := range jr.pending {
			if err := jr.item(it); err != nil {
				return err
			}
		}
		jr.pending = nil
		if root.get("Report_Header") != nil {
			jr.exceptions(root.get("Exceptions"))
			jr.exceptions(root.get("Exception"))
		}
		return nil
	}
	if body && jr.doc.Kind != "" {
		return nil // the envelope's body was the document
	}
	if len(jr.pending) > 0 {
		return errors.New("not a COUNTER document: Report_Items without a Report_Header")
	}
	before := len(jr.doc.Exceptions)
	switch {
	case isException(root):
		jr.exceptions(root)
	case root.get("Exceptions") != nil || root.get("Exception") != nil:
		jr.exceptions(root.get("Exceptions"))
		jr.exceptions(root.get("Exception"))
	case isException(root.get("response")):
		jr.exceptions(root.get("response"))
	}
	if len(jr.doc.Exceptions) > before {
		jr.doc.Kind = KindExceptions
		return nil
	}
	return errors.New("not a COUNTER document: no Report_Header, exception or report list")
}

// array reads a top-level array: a list of exceptions or a /reports list.
func (jr *jsonReader) array(n *jnode) error {
	if len(n.vals) == 0 {
		return errors.New("not a COUNTER document: an empty array")
	}
	switch {
	case isException(n.vals[0]):
		jr.exceptions(n)
		jr.doc.Kind = KindExceptions
		return nil
	case n.vals[0].get("Report_ID") != nil && n.vals[0].get("Report_Name") != nil:
		jr.doc.Kind = KindReportList
		rel := n.vals[0].str1("Release")
		if rel == "" {
			jr.doc.warnf("report list without Release")
			return nil
		}
		r, err := supportedRelease(rel)
		if err != nil {
			return err
		}
		jr.doc.Release = r
		return nil
	}
	return errors.New("not a COUNTER document: an array of neither exceptions nor reports")
}

func looksLikeHeader(n *jnode) bool {
	return n.get("Report_Header") != nil || (n.get("Release") != nil && n.get("Report_ID") != nil)
}
