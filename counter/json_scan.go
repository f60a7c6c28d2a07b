package counter

// The JSON reader's tokens from a small document's bytes: encoding/json's
// Decoder.Token decodes every scalar as a value of its own (a scanner per
// byte, reflection, and a syntax error formatted at the comma that ends
// it), most of the cost of a national night's five-row responses.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// tokens is where the JSON reader takes its tokens from: a Decoder, or
// byteTokens where that gives the same tokens.
type tokens interface {
	Token() (json.Token, error)
	More() bool
	InputOffset() int64
}

// maxByteTokens bounds the documents tokenized from their bytes, which are
// held whole; a larger one is streamed through the Decoder.
const maxByteTokens = 16 << 20

// jsonTokens is the tokens of the document r holds. A document of up to
// maxByteTokens that json.Valid accepts is tokenized from its bytes: on
// such a document byteTokens gives the Decoder's tokens, offsets and end,
// so the reader reads it the same. Any other (a syntax error, data after
// the value, a read error, a larger one) goes to the Decoder as it was, its
// bytes read so far given back in front, so every failure is the
// Decoder's own. The bytes are read into s, whose memory they reuse.
func jsonTokens(r io.Reader, s *jsonScratch) tokens {
	buf := bytes.NewBuffer(s.data[:0])
	_, err := buf.ReadFrom(io.LimitReader(r, maxByteTokens+1))
	data := buf.Bytes()
	s.data = data
	switch {
	case err != nil:
		return newDecoder(io.MultiReader(bytes.NewReader(data), errReader{err}))
	case len(data) > maxByteTokens:
		return newDecoder(io.MultiReader(bytes.NewReader(data), r))
	case !json.Valid(data):
		return newDecoder(bytes.NewReader(data))
	}
	return &byteTokens{data: data}
}

// errReader fails every read with err: the read error a document ended
// with, given to the Decoder after its bytes.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// byteTokens tokenizes a document json.Valid accepts, as Decoder.Token
// does: delimiters as json.Delim, strings unquoted as encoding/json does
// (invalid UTF-8 and lone surrogates become U+FFFD), numbers as
// json.Number, true and false as bool, null as nil, the commas and colons
// passed over. Valid input is what lets it skip the checks.
type byteTokens struct {
	data []byte
	pos  int // the end of the last token, or of the space More passed
}

func isJSONSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// InputOffset is the Decoder's: the end of the last token read.
func (t *byteTokens) InputOffset() int64 { return int64(t.pos) }

// More says whether the current object or array holds another element,
// passing over space as the Decoder's does (not at the end of the input).
func (t *byteTokens) More() bool {
	i := t.pos
	for i < len(t.data) && isJSONSpace(t.data[i]) {
		i++
	}
	if i == len(t.data) {
		return false
	}
	t.pos = i
	return t.data[i] != ']' && t.data[i] != '}'
}

func (t *byteTokens) Token() (json.Token, error) {
	d := t.data
	i := t.pos
	for i < len(d) && (isJSONSpace(d[i]) || d[i] == ',' || d[i] == ':') {
		i++
	}
	if i == len(d) {
		return nil, io.EOF // the Decoder's offset stays at the last token
	}
	switch c := d[i]; c {
	case '{', '}', '[', ']':
		t.pos = i + 1
		return json.Delim(c), nil
	case '"':
		end, escaped := stringEnd(d, i)
		t.pos = end
		s := d[i+1 : end-1]
		if escaped || !utf8.Valid(s) {
			return unquoteJSON(s), nil
		}
		if v, ok := knownStrings()[string(s)]; ok {
			return v, nil
		}
		return string(s), nil
	case 't':
		t.pos = i + 4
		return true, nil
	case 'f':
		t.pos = i + 5
		return false, nil
	case 'n':
		t.pos = i + 4
		return nil, nil
	}
	j := i + 1
	for j < len(d) && isNumberByte(d[j]) {
		j++
	}
	t.pos = j
	return json.Number(d[i:j]), nil
}

// knownStrings are the keys and values COUNTER responses repeat, each
// boxed as a token once: a small response's strings are mostly these, and
// a string made and boxed anew was two allocations each.
var knownStrings = sync.OnceValue(func() map[string]json.Token {
	keys := []string{"Report_Header", "Report_Name", "Report_ID", "Release", "Institution_Name", "Institution_ID",
		"Customer_ID", "Report_Filters", "Report_Attributes", "Attributes_To_Show", "Begin_Date", "End_Date", "Created",
		"Created_By", "Exceptions", "Exception", "Code", "Severity", "Message", "Data", "Help_URL", "Report_Items",
		"Platform", "Database", "Title", "Item", "Items", "Item_ID", "Publisher", "Publisher_ID", "Attribute_Performance",
		"Performance", "Period", "Instance", "Metric_Type", "Count", "Data_Type", "Section_Type", "Access_Type",
		"Access_Method", "YOP", "Authors", "Name", "Publication_Date", "Article_Version", "Item_Contributors",
		"Item_Dates", "Item_Attributes", "Item_Parent", "Item_Name", "Item_Component", "Type", "Value", "DOI", "ISBN",
		"Print_ISSN", "Online_ISSN", "URI", "Proprietary", "ISNI", "ISIL", "ROR", "OCLC", "Journal", "Article",
		"Other", "Unspecified", "Repository_Item", "Thesis_or_Dissertation", "Report", "Newspaper_or_Newsletter",
		"Conference", "Conference_Item", "Dataset", "Patent", "Standard", "Software", "Book_Segment", "Chapter",
		"Section", "OA_Gold", "Other_Free_To_Read", "Warning", "Error", "Fatal", "Info", "Debug", "5", "5.1"}
	m := map[string]json.Token{}
	for _, list := range [][]string{keys, Metrics, Reports, BookDataTypes, MultimediaDataTypes, AccessTypes, AccessMethods} {
		for _, s := range list {
			m[s] = s
		}
	}
	for y := 2015; y < 2040; y++ {
		for mo := 1; mo <= 12; mo++ {
			ym := fmt.Sprintf("%04d-%02d", y, mo)
			m[ym] = ym
		}
	}
	return m
})

func isNumberByte(c byte) bool {
	return '0' <= c && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E'
}

// stringEnd is the end of the string whose quote is at d[i] (just past
// its closing quote), and whether it holds an escape.
func stringEnd(d []byte, i int) (end int, escaped bool) {
	for j := i + 1; j < len(d); j++ {
		switch d[j] {
		case '"':
			return j + 1, escaped
		case '\\':
			escaped = true
			j++ // the escaped byte; \uXXXX's digits hold no quote
		}
	}
	return len(d), escaped // not reached on valid input
}

// unquoteJSON is encoding/json's unquote of a valid string's content s.
func unquoteJSON(s []byte) string {
	b := make([]byte, 0, len(s)+2*utf8.UTFMax)
	for r := 0; r < len(s); {
		c := s[r]
		switch {
		case c == '\\':
			r++
			switch e := s[r]; e {
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				rr := getu4(s[r-1:])
				r += 5
				if utf16.IsSurrogate(rr) {
					if dec := utf16.DecodeRune(rr, getu4(s[r:])); dec != unicode.ReplacementChar {
						b = utf8.AppendRune(b, dec)
						r += 6
						continue
					}
					rr = unicode.ReplacementChar
				}
				b = utf8.AppendRune(b, rr)
				continue
			default: // " \ /
				b = append(b, e)
			}
			r++
		case c < utf8.RuneSelf:
			b = append(b, c)
			r++
		default:
			// Invalid UTF-8 becomes U+FFFD, a byte at a time.
			rr, size := utf8.DecodeRune(s[r:])
			b = utf8.AppendRune(b, rr)
			r += size
		}
	}
	return string(b)
}

// getu4 decodes \uXXXX at the start of s, or -1.
func getu4(s []byte) rune {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
		return -1
	}
	var r rune
	for _, c := range s[2:6] {
		switch {
		case '0' <= c && c <= '9':
			c = c - '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}
