package sushi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/bibliotek24/bibstat"
	"github.com/bibliotek24/bibstat/counter"
)

func TestEndpointsByRelease(t *testing.T) {
	var paths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths = append(paths, r.URL.Path)
		switch {
		case strings.HasSuffix(r.URL.Path, "/members"):
			if strings.HasPrefix(r.URL.Path, "/sushi/r51") {
				fmt.Fprint(w, `[{"Customer_ID":"k1","Institution_Name":"Oslo","Institution_ID":{"ISIL":["NO-2030100"]}}]`)
			} else {
				fmt.Fprint(w, `[{"Customer_ID":"k1","Name":"Oslo","Institution_ID":[{"Type":"ISIL","Value":"NO-2030100"}]}]`)
			}
		case strings.HasSuffix(r.URL.Path, "/status"):
			fmt.Fprint(w, `[{"Description":"up","Service_Active":true}]`)
		default:
			fmt.Fprint(w, `[{"Report_ID":"pr","Report_Name":"Platform Report","Release":"5.1"}]`)
		}
	}))
	defer srv.Close()
	for _, tc := range []struct{ release, prefix string }{{"5", "/sushi"}, {"5.1", "/sushi/r51"}} {
		paths = nil
		c := Credential{ID: "1", Platform: "p", BaseURL: srv.URL + "/sushi", Release: tc.release, CustomerID: "k0", APIKey: "key"}
		cl := &Client{}
		ms, err := cl.Members(context.Background(), c)
		if err != nil || len(ms) != 1 || ms[0].ISIL() != "NO-2030100" || ms[0].Name != "Oslo" {
			t.Fatalf("%s members: %+v %v", tc.release, ms, err)
		}
		if st, err := cl.Status(context.Background(), c); err != nil || !st[0].ServiceActive {
			t.Fatalf("%s status: %+v %v", tc.release, st, err)
		}
		if rs, err := cl.Reports(context.Background(), c); err != nil || rs[0].ReportID != "pr" {
			t.Fatalf("%s reports: %+v %v", tc.release, rs, err)
		}
		m := bibstat.Month{Year: 2025, Mon: 1}
		if _, err := cl.Report(context.Background(), c, "pr", m, m); err != nil {
			t.Fatal(err)
		}
		want := []string{tc.prefix + "/members", tc.prefix + "/status", tc.prefix + "/reports", tc.prefix + "/reports/pr"}
		if fmt.Sprint(paths) != fmt.Sprint(want) {
			t.Errorf("%s paths %v, want %v", tc.release, paths, want)
		}
	}
}

func TestExceptionsTypedWithHint(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "7")
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprint(w, `{"Code":"1020","Severity":"Warning","Message":"Client has made too many requests","Data":"5 per day"}`)
	}))
	defer srv.Close()
	c := Credential{ID: "1", Platform: "p", BaseURL: srv.URL, Release: "5", CustomerID: "k", APIKey: "very-secret-key"}
	_, err := (&Client{}).Members(context.Background(), c)
	var exc *counter.Exception
	if !errors.As(err, &exc) {
		t.Fatalf("err %v, want *counter.Exception", err)
	}
	if exc.Code != 1020 || exc.Severity != "Warning" || exc.Data != "5 per day" || exc.Status != 429 || exc.RetryAfter != 7*time.Second {
		t.Errorf("exception %+v", exc)
	}
	if StateOfCode(exc.Code) != bibstat.StateThrottled || !strings.Contains(HintOfCode(exc.Code), "slow down") {
		t.Errorf("state %s hint %q", StateOfCode(exc.Code), HintOfCode(exc.Code))
	}
	if strings.Contains(err.Error(), "very-secret-key") {
		t.Errorf("error leaks the key: %v", err)
	}
}

func TestStateOfCode(t *testing.T) {
	tests := []struct {
		code int
		want bibstat.State
	}{
		{0, ""}, {100, ""}, {1000, bibstat.StateThrottled}, {1010, bibstat.StateThrottled}, {1011, bibstat.StateQueued},
		{1020, bibstat.StateThrottled}, {1030, bibstat.StateCredentialsBroken}, {2000, bibstat.StateCredentialsBroken},
		{2010, bibstat.StateCredentialsBroken}, {2020, bibstat.StateCredentialsBroken}, {3000, bibstat.StateUnsupported},
		{3020, bibstat.StateFailed}, {3030, bibstat.StateZero}, {3031, bibstat.StateNotReady}, {3032, bibstat.StateZero},
		{3040, bibstat.StatePartial}, {3050, ""}, {3060, ""},
	}
	for _, tc := range tests {
		if got := StateOfCode(tc.code); got != tc.want {
			t.Errorf("%d: %q, want %q", tc.code, got, tc.want)
		}
	}
}

func TestCredentialNeverPrintsSecrets(t *testing.T) {
	c := Credential{ID: "2030100", Platform: "p", CustomerID: "k", RequestorID: "req-s3cret", APIKey: "key-s3cret"}
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	log.Info("harvest", "cred", c)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("harvest", "cred", c)
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%v %+v %#v %s", c, c, c, c), buf.String(), fmt.Errorf("x: %v", c).Error()} {
		if strings.Contains(s, "s3cret") {
			t.Errorf("secret printed: %s", s)
		}
	}
}
