// Package server is BibStat's HTTP face: the portal that serves the report
// site with per-user access control, a COUNTER_SUSHI R5.1 server built from
// the warehouse, and the operator's endpoints (/healthz, /metrics, /admin).
//
// Vocabulary:
//
//   - user: an account in the users file (Users). Its role is admin (the
//     consortium: everything), county (the libraries of one county, by the
//     warehouse's library_county, and the county's page) or library (one
//     library's pages and downloads). Passwords and API tokens are stored as
//     argon2id hashes only.
//   - resource: a file of the report site, classified by its path
//     (Classify); anything that is not a known kind of site file is not served.
//   - session: a server-side login, named by a random 32-byte cookie value
//     (Secure, HttpOnly, SameSite=Strict), with an absolute and an idle
//     expiry, kept across restarts in sessions.json beside the users file
//     as SHA-256 hashes of the ids only.
//   - throttle: failed logins and SUSHI keys lock out their account (or,
//     for names no account has, their client address) for an exponentially
//     growing time. A failure is counted before the hash is computed, and
//     at most Config.HashSlots hashes run at once: more get 429 at once.
//   - client address: the peer's, or the one a trusted proxy
//     (Config.TrustedProxies) names in Forwarded or X-Forwarded-For.
//   - /metrics: label values from closed sets (methods outside the standard
//     ones are "other", routes are mux patterns); served to an admin
//     session, Config.MetricsToken, or anyone on Config.MetricsAddr.
//   - run log: a JSONL file beside the ledger where harvest, transform and
//     report runs append start, end and outcome (RunLog); /admin shows it.
//   - completeness: /admin shows the ledger's grid (ledger.GridOf: library ×
//     platform × month, each cell coloured by its worst state) and /metrics
//     its units by state, every state present.
//
// The SUSHI server answers /r51/status, /r51/members, /r51/reports and
// /r51/reports/{id} for the 4 master reports and 12 standard views, valid
// against the COUNTER API 5.1 schema and the COUNTER Validator's rules
// (sushi_valid_test.go, sushi_rules_test.go). A library's usage is its
// attributed usage in facts_chosen (the marts' one rule of choice: one
// source and one release per platform and month), COUNTER releases 5 and
// 5.1 only, and one report of the master's family per platform and month.
// R5 usage is served as R5.1: a Data_Type R5.1 lacks or a vendor left out
// is Unspecified, a DR database's searches and denials are of its database
// Data_Type (dataTypeExpr). Granularity=Totals and Include_Parent_Details
// are served; the global customer_id gets 2011. Pooled (allocated) usage
// is not COUNTER usage and is not served. customer_id is the library's ISIL;
// requestor_id is the BibStat user name and api_key a token from
// "bibstat users add --token". An unknown requestor_id and a wrong key get
// the same exception (2000) after the same work.
package server
