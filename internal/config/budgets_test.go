package config

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestBudgetsDefaults(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      Budgets
	}{
		{"absent", "log: {level: info}\n", Budgets{AlertPercent: 80, FlushInterval: Duration(time.Second)}},
		{"empty", "budgets: {}\n", Budgets{AlertPercent: 80, FlushInterval: Duration(time.Second)}},
		{"explicit 0 turns alerts off", "budgets: {alert_percent: 0}\n", Budgets{FlushInterval: Duration(time.Second)}},
		{"set", "budgets: {alert_percent: 95.5, flush_interval: 250ms}\n",
			Budgets{AlertPercent: 95.5, FlushInterval: Duration(250 * time.Millisecond)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, mustParse(t, tc.src).Budgets); diff != "" {
				t.Errorf("budgets (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBudgetsValidation(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      []string
	}{
		{"alert at 100", "budgets:\n  alert_percent: 100\n",
			[]string{"sluice.yaml:2: budgets.alert_percent: must be from 0 (no soft-limit alerts) to less than 100"}},
		{"negative alert", "budgets:\n  alert_percent: -1\n",
			[]string{"sluice.yaml:2: budgets.alert_percent: must be from 0 (no soft-limit alerts) to less than 100"}},
		{"flush too often", "budgets:\n  flush_interval: 1ms\n",
			[]string{"sluice.yaml:2: budgets.flush_interval: must be from 10ms to 1m0s"}},
		{"flush explicitly 0", "budgets:\n  flush_interval: 0\n",
			[]string{"sluice.yaml:2: budgets.flush_interval: must be from 10ms to 1m0s"}},
		{"flush too rarely", "budgets:\n  flush_interval: 2m\n",
			[]string{"sluice.yaml:2: budgets.flush_interval: must be from 10ms to 1m0s"}},
		{"unknown key", "budgets:\n  alert_pct: 80\n", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse([]byte(tc.src), "sluice.yaml", lookupIn(testEnv))
			if tc.want == nil {
				if err == nil {
					t.Fatal("an unknown key was accepted")
				}
				return
			}
			if diff := cmp.Diff(tc.want, errLines(err)); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}
