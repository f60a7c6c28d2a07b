// Package config reads BibStat's one YAML configuration file: the vendor
// platforms, the SUSHI credentials of each library on each platform, the
// libraries, the harvest schedule, the object store, the warehouse, the
// ledger, the server, and the mail, alerts and access requests.
//
// The file is parsed strictly: an unknown key is an error that names the key
// and its line. Secrets are never written in the file, only referenced:
// "env:NAME" reads an environment variable and "file:/path" a file (its
// content with surrounding white space trimmed), when the value is needed.
// A Secret prints as its reference, so logging a Config never leaks one.
//
// Vocabulary:
//
//   - platform: one vendor SUSHI service (a base URL, a COUNTER release,
//     a politeness host and spacing).
//   - credential: one library's access to one platform.
//   - consortium credential: the consortium's own access to a platform,
//     used to discover member libraries with /members.
package config
