// Package storetest is the acceptance suite every store.Store passes: the
// local directory, memory and S3 implementations run the same tests.
package storetest
