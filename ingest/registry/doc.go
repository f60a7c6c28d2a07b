// Package registry turns COUNTER Registry records (registry.countermetrics.org,
// the Registry API's JSON) into proposed platform entries for the config:
// an id, the name, the SUSHI base URL without /r51 or /reports, the newest
// release the record offers (5 or 5.1), which of customer_id, requestor_id,
// api_key and platform the service requires, and notes.
//
// A record is a platform (its sushi_services embedded or linked), a
// sushi-service, a list of either or a paged API response. Links and further
// pages are fetched through an Importer's Fetch, which bounds time and size;
// without one they are reported, not followed.
//
// Vendor text is untrusted: names and notes are cleaned (no control or format
// characters, no line breaks, bounded length) before they reach a proposal,
// and URLs must be http(s) with a host. Diff compares proposals with the
// config's platforms field by field; Apply writes them into the config file's
// text, leaving every other line, comment and blank line as it was.
//
// The config has no field for notes or required parameters: Apply writes them
// as comments above a new entry.
package registry
