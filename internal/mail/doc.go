// Package mail sends BibStat's e-mail: the alert digests and the access
// requests' links and answers, through one SMTP server (host, port,
// STARTTLS, user, password by reference, from).
//
// A Message is built here into one RFC 5322 message: every header value is
// checked or encoded (no CR or LF from a vendor's or a requester's text
// ever starts a header of its own), the body is UTF-8, quoted-printable, a
// text part and, when given, an HTML part the caller has escaped. Messages
// carry Auto-Submitted: auto-generated (RFC 3834) so that vacation
// responders do not answer them.
//
// Vocabulary:
//
//   - sender: what sends a Message; SMTP is the real one, tests and dry
//     runs use their own (interfaces are declared where they are used).
//   - STARTTLS: required unless switched off; with a user and password set
//     and no TLS, Go's PLAIN auth refuses to send them except to loopback.
package mail
