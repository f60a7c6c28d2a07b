package bibstat

import "testing"

func TestStateOrder(t *testing.T) {
	all := States()
	if len(all) != 9 || all[0] != StateCredentialsBroken || all[len(all)-1] != StateOK {
		t.Fatalf("States() = %v", all)
	}
	for i := 1; i < len(all); i++ {
		if all[i-1].Severity() <= all[i].Severity() {
			t.Errorf("%s is not worse than %s", all[i-1], all[i])
		}
	}
	all[0] = StateOK // a caller's copy: the order itself stays
	if States()[0] != StateCredentialsBroken {
		t.Error("States() shares its array")
	}
	tests := []struct{ a, b, want State }{
		{StateOK, StateZero, StateZero},
		{StateZero, StatePartial, StatePartial},
		{StatePartial, StateUnsupported, StateUnsupported},
		{StateUnsupported, StateNotReady, StateNotReady},
		{StateNotReady, StateQueued, StateQueued},
		{StateQueued, StateThrottled, StateThrottled},
		{StateThrottled, StateFailed, StateFailed},
		{StateFailed, StateCredentialsBroken, StateCredentialsBroken},
		{StateCredentialsBroken, "", ""}, // never harvested: nothing is known
		{StateOK, StateOK, StateOK},
	}
	for _, tt := range tests {
		if got := Worse(tt.a, tt.b); got != tt.want {
			t.Errorf("Worse(%q, %q) = %q, want %q", tt.a, tt.b, got, tt.want)
		}
		if got := Worse(tt.b, tt.a); got != tt.want {
			t.Errorf("Worse(%q, %q) = %q, want %q", tt.b, tt.a, got, tt.want)
		}
	}
}
