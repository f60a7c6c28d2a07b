// Package sushi is a COUNTER_SUSHI client for R5 (/reports/{id}, /status,
// /members, /reports) and R5.1 (the same under /r51). It fetches one report
// for one credential and period and hands back the response as the vendor
// sent it, byte for byte, for the harvester to archive before anything else
// looks at it.
//
// Exceptions are typed: *Exception carries Code, Severity, Message, Data
// and a Hint for the operator; StateOfCode and StateOfHTTP map codes and
// HTTP statuses to the unit states of package bibstat.
//
// Secrets (api_key, requestor_id) go into the request only: Response.URL,
// every error and every printed or logged Credential carry them removed.
package sushi
