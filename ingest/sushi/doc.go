// Package sushi is a COUNTER_SUSHI client for R5 (/reports/{id}, /status,
// /members, /reports) and R5.1 (the same under /r51). It fetches one report
// for one credential and period and hands back the response as the vendor
// sent it, byte for byte, for the harvester to archive before anything else
// looks at it.
//
// Exceptions are typed: an error from a non-report endpoint is a
// *counter.Exception (Code, Message, Data, the HTTP Status and RetryAfter).
// StateOfCode maps an exception's class in counter's table, and
// StateOfHTTP an HTTP status, to the unit states of package bibstat;
// HintOfCode tells the operator what to do.
//
// Secrets (api_key, requestor_id) go into the request only: Response.URL,
// every error and every printed or logged Credential carry them removed.
package sushi
