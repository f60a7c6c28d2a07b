// Package atomicfile replaces a small local file whole: a reader sees the
// old file or the new one, never half of one, and a crash leaves the old
// one in place. It is for the files BibStat keeps beside the store (the
// users and sessions files, a rebuilt ledger, an edited config), which are
// written rarely and must survive a power cut, so it syncs; the report
// site, which writes hundreds of pages a run, has its own writer that does
// not.
package atomicfile
