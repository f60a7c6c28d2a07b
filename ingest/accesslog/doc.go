// Package accesslog counts COUNTER usage from the consortium's own access
// logs: the proxy that patrons pass through with their library card
// (Apache/NGINX combined format, EZproxy-style, the user and home library
// in configured fields) and the single sign-on's JSON-lines events. Unlike
// a vendor, the login knows each patron's home library.
//
// Vocabulary:
//
//   - Source: how one kind of log is read (Config.Sources, declared in YAML).
//   - Platform: a service recognised from its hosts (or SSO service names);
//     its Rules turn a URL path into an event kind (search, investigation,
//     request) and an item key (and a title key, for Unique_Title_*).
//   - Event: one recognised, minimised line: time, pseudonym, session,
//     library, platform, kind, item, title. Nothing else of a line is kept.
//   - Pseudonym: the HMAC-SHA256 of a user id under a key kept outside the
//     archive (Keyring). It is archived in the events for rebuilds and never
//     leaves this package's counting: usage rows carry no user.
//   - Session: COUNTER's: the log's session id + date, or else the user +
//     date + hour slice.
//
// COUNTER processing (CoP 5.1 section 7): robots are excluded by user agent
// with the COUNTER robots list (robots/), double clicks on the same item by
// the same user within 30 s count once (the last), a request is also an
// investigation, and Unique_Item_* / Unique_Title_* count an item or title
// once per session. The totals per library × platform × month become usage
// rows (schemas.Row) of source "access-log", one unit each, stored like an
// upload's units so the warehouse can load them.
//
// Bad lines are counted and reported by file and line, with the reason only:
// a reason never quotes the line, which holds a real user id.
package accesslog
