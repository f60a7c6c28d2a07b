package bibstat

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestSidecarRoundTrip(t *testing.T) {
	s := Sidecar{Key: "raw/sushi/p/c/pr/2025-01/x.json", Source: "sushi", Platform: "p", Credential: "c",
		Library: "2030100", Report: "pr", Month: "2025-01", SHA256: "ab", Size: 3, State: StateOK, Rows: 2,
		HarvestedAt: time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)}
	b, err := EncodeSidecar(s)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("{\n  \"key\": ")) {
		t.Errorf("encoding changed: %s", b)
	}
	got, err := DecodeSidecar(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if got.Key != s.Key || got.State != s.State || !got.HarvestedAt.Equal(s.HarvestedAt) || got.Rows != s.Rows {
		t.Errorf("round trip: got %+v, want %+v", got, s)
	}
}

func TestDecodeSidecarRejects(t *testing.T) {
	tests := []struct {
		name string
		in   string
	}{
		{"empty", ""},
		{"truncated", `{"key": "raw/x"`},
		{"not an object", `[1, 2]`},
		{"too large", `{"key": "` + strings.Repeat("x", MaxSidecarBytes) + `"}`},
	}
	for _, tt := range tests {
		if _, err := DecodeSidecar(strings.NewReader(tt.in)); err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
}

// TestAccessLogUnitsLoad: an access-log unit loads as any other unit
// does, by its state; which source counts is the warehouse's rule.
func TestAccessLogUnitsLoad(t *testing.T) {
	for _, tc := range []struct {
		source string
		state  State
		want   bool
	}{
		{"sushi", StateOK, true},
		{"upload", StateZero, true},
		{"sushi", StateFailed, false},
		{SourceAccessLog, StateOK, true},
		{SourceAccessLog, StateZero, true},
		{SourceAccessLog, StateFailed, false},
	} {
		s := Sidecar{Source: tc.source, State: tc.state}
		if got := s.Loadable(); got != tc.want {
			t.Errorf("%s %s: Loadable = %v, want %v", tc.source, tc.state, got, tc.want)
		}
	}
}
