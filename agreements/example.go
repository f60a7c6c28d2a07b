package agreements

import _ "embed"

// Example is a registry of synthetic agreements on the demo's platforms and
// libraries (example.yaml): the demo imports it, and it documents the format.
//
//go:embed example.yaml
var Example []byte
