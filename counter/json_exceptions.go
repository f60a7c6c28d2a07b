package counter

// Exceptions in a JSON response: in the header, beside it, or alone.

import (
	"strconv"
)

// isException says whether n is an exception object: a code ("Number" in
// some R5 responses) with a message or a severity.
func isException(n *jnode) bool {
	if n == nil || n.kind != '{' {
		return false
	}
	return (n.get("Code") != nil || n.get("Number") != nil) && (n.get("Message") != nil || n.get("Severity") != nil)
}

// exceptions appends the exceptions in n: one object or an array of them.
func (jr *jsonReader) exceptions(n *jnode) {
	if n == nil {
		return
	}
	if n.kind == '[' {
		for _, e := range n.vals {
			jr.exceptions(e)
		}
		return
	}
	if n.kind != '{' {
		return
	}
	codeText := n.str1("Code")
	if codeText == "" {
		codeText = n.str1("Number")
	}
	code, err := strconv.Atoi(codeText)
	if err != nil {
		jr.doc.warnf("exception code %q is not a number", codeText)
	}
	if n.get("Code") != nil && n.get("Code").kind == 's' {
		jr.doc.warnf("exception code %q is a string", codeText)
	}
	jr.doc.Exceptions = append(jr.doc.Exceptions, Exception{Code: code, Severity: n.str1("Severity"),
		Message: n.str1("Message"), Data: n.str1("Data"), HelpURL: n.str1("Help_URL")})
}
