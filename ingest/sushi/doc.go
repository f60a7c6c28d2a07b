// Package sushi is a COUNTER_SUSHI client for R5 and R5.1. It fetches one
// report for one credential and period and hands back the response as the
// vendor sent it, byte for byte, for the harvester to archive before
// anything else looks at it.
//
// Secrets (api_key, requestor_id) go into the request only: Response.URL
// and every error carry the URL with them removed.
package sushi
