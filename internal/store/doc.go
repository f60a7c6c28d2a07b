// Package store is BibStat's object store: one small interface (Store) with
// a local-directory implementation (the default), an in-memory one for fast
// tests, and S3. Every implementation passes the acceptance suite in
// storetest.
//
// Objects are immutable blobs named by slash-separated keys (see the key
// layout in package bibstat). A Put is atomic: a reader sees the whole
// object or nothing, never a partial file, even if the process dies mid-write.
package store
