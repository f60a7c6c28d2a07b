package counter

import "testing"

func TestParseExceptionsShapes(t *testing.T) {
	tests := []struct {
		body string
		code int
	}{
		{`{"Code":1011,"Message":"Report Queued for Processing"}`, 1011},
		{`[{"Code":3030,"Message":"No Usage"}]`, 3030},
		{`{"Exception":{"Code":"2020","Message":"APIKey Invalid"}}`, 2020},
		{`{"number":2010,"severity":"Error","message":"x"}`, 2010},
		{`{"Report_Header":{"Exceptions":[{"Code":3031,"Message":"n"}]}}`, 0},
	}
	for _, tc := range tests {
		excs := ParseExceptions([]byte(tc.body))
		got := 0
		if len(excs) > 0 {
			got = excs[0].Code
		}
		if got != tc.code {
			t.Errorf("%s: code %d, want %d", tc.body, got, tc.code)
		}
	}
}

func TestExceptionInfo(t *testing.T) {
	tests := []struct {
		code   int
		class  ExceptionClass
		status int
	}{
		{0, ClassInfo, 200}, {100, ClassInfo, 200}, {1000, ClassUnavailable, 503}, {1011, ClassQueued, 202},
		{1020, ClassUnavailable, 429}, {1030, ClassCredentials, 400}, {2011, ClassCredentials, 403},
		{2025, ClassCredentials, 200}, {2090, ClassInvalid, 200}, {3000, ClassUnsupported, 404},
		{3020, ClassInvalid, 400}, {3031, ClassNotReady, 200}, {3032, ClassNoUsage, 200},
		{3063, ClassWarning, 200}, {3210, ClassInfo, 200},
	}
	for _, tc := range tests {
		if got := ExceptionInfo(tc.code); got.Class != tc.class || got.Status != tc.status {
			t.Errorf("%d: class %s status %d, want %s %d", tc.code, got.Class, got.Status, tc.class, tc.status)
		}
	}
	if e := NewException(3030, ""); e.Message != "No Usage Available for Requested Dates" {
		t.Errorf("3030 message %q", e.Message)
	}
}
