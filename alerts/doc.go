// Package alerts works out, after each nightly run, what needs a person,
// and tells them once: one digest e-mail to the operator with everything,
// and one to each affected library's contact address with its own, in the
// library's language (nb, nn or en), each with a link to the portal page
// that shows it (the operator's /admin, the library's own page).
//
// What needs a person (Kind):
//
//   - run_failed: a stage of the night failed (the run log, last 7 days).
//   - credential_broken: the vendor refuses a credential (the ledger's
//     credentials_broken units); told again only when the credential
//     changes (its fingerprint) and is refused again.
//   - platform_failing: a platform whose units got no answer from the
//     vendor (failed, queued, throttled) for alerts.failing_nights harvest
//     runs in a row; operator only.
//   - upload_rejected: a file the inbox moved to inbox/<vendor>/rejected/;
//     operator only (the operator drops the vendors' files).
//   - month_missing: a unit not in (never harvested, failed, not ready,
//     queued or throttled) on alerts.due_day of the next month; a broken
//     credential's months are its one credential alert instead.
//   - access_pending: staff confirmed a request for a portal account and
//     wait on /admin/requests; operator only.
//
// Each alert has an ID; the digest state records, per recipient, the IDs
// told. A digest holds only the open alerts its recipient was not told; an
// alert that closes (the unit comes in, the credential works) is dropped
// from the state, so that it is told again if it comes back.
//
// The digest state is a JSON file beside the ledger (alerts.state), not in
// the object store: the store holds what the warehouse is rebuilt from,
// and this is neither raw data nor register, but the same kind of local
// operating record as the ledger and the run log it is worked out from,
// on the host that runs the nights. It is replaced whole and synced
// (atomicfile). Lost, it errs towards telling again: the next digest
// repeats what is still open, once, and nothing is ever left untold. It
// also keeps each platform's run of failing nights, which the ledger (the
// latest state of each unit only) cannot give.
package alerts
