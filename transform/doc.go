// Package transform builds the DuckDB warehouse from the raw archive: it
// loads the parsed usage of every unit's newest loadable harvest into the
// facts table (supersession: a newer harvest of a unit replaces the older
// one's facts, so a re-harvest never double counts), keeps the dimensions,
// and defines the marts that reports read.
//
// transform never imports package ingest: the two meet at the object-store
// key layout and sidecars (package bibstat) and the usage schema (package
// schemas).
package transform
