package admin

import (
	"net/netip"
	"slices"
	"time"

	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/store"
)

// keyInput is a POST or PATCH /keys body: a nil field was not given, a
// non-nil one is the value to store (null decodes as the zero value).
// parseKeyInput has checked every value that can be checked alone; what
// depends on the store or the caller (tenant and team existence, RBAC,
// expiry against the clock) is the handler's.
type keyInput struct {
	Name, TenantID, TeamID, Role    *string
	BudgetPeriod, BudgetTZ          *string
	Models, AllowedCIDRs            *[]string
	RPM, TPM, MaxConcurrent, Budget *int64
	Metadata                        *map[string]string
	ExpiresAt                       *time.Time
	Disabled                        *bool
}

// Bounds of a key's fields beyond the store's.
const (
	maxModels    = 256
	maxCIDRs     = 256
	maxLimitRate = 1 << 40 // rpm, tpm, max_concurrent
	maxGlobLen   = 256
)

// keyCreateFields and keyPatchFields are the members POST and PATCH take.
var (
	keyCreateFields = []string{"name", "tenant_id", "team_id", "role", "models", "rpm", "tpm",
		"max_concurrent", "budget_usd", "budget_period", "budget_tz", "allowed_cidrs", "metadata", "expires_at"}
	keyPatchFields = append(slices.Clone(keyCreateFields), "disabled")
)

// parseKeyInput decodes and checks a key body; patch selects PATCH's
// members. The first bad member is refused with a 400 naming it.
func parseKeyInput(f fields, patch bool) (keyInput, *llm.Error) {
	var in keyInput
	allowed := keyCreateFields
	if patch {
		allowed = keyPatchFields
	}
	if err := f.only(allowed...); err != nil {
		return in, err
	}
	var err *llm.Error
	// Members in the order of keyCreateFields, so the one a 400 names
	// does not depend on map order.
	steps := []func(){
		func() { in.Name, err = f.text("name", entityText) },
		func() { in.TenantID, err = f.text("tenant_id", entityText) },
		func() { in.TeamID, err = f.text("team_id", entityText) },
		func() { in.Role, err = f.text("role", entityText) },
		func() { in.Models, err = f.strings("models", maxModels, maxGlobLen) },
		func() { in.RPM, err = f.count("rpm", maxLimitRate) },
		func() { in.TPM, err = f.count("tpm", maxLimitRate) },
		func() { in.MaxConcurrent, err = f.count("max_concurrent", maxLimitRate) },
		func() { in.Budget, err = f.money("budget_usd") },
		func() { in.BudgetPeriod, err = f.text("budget_period", entityText) },
		func() { in.BudgetTZ, err = f.text("budget_tz", entityText) },
		func() { in.AllowedCIDRs, err = f.strings("allowed_cidrs", maxCIDRs, 64) },
		func() { in.Metadata, err = f.metadata("metadata") },
		func() { in.ExpiresAt, err = f.instant("expires_at") },
		func() { in.Disabled, err = f.flag("disabled") },
		func() { err = in.check() },
	}
	for _, step := range steps {
		if step(); err != nil {
			return keyInput{}, err
		}
	}
	return in, nil
}

// Roles and budget periods a key may have; "" is a gateway key and no
// period.
var (
	keyRoles      = []string{"", "owner", "admin", "member", "viewer"}
	budgetPeriods = []string{"", "daily", "weekly", "monthly", "total"}
)

// check checks the decoded values that need more than their JSON type,
// and puts CIDRs in canonical form (the network address: 10.0.0.0/8).
func (in *keyInput) check() *llm.Error {
	if in.Role != nil && !slices.Contains(keyRoles, *in.Role) {
		return llm.BadRequest("role", "role: want owner, admin, member, viewer or \"\" (a gateway key), got %s", short(*in.Role))
	}
	if in.BudgetPeriod != nil && !slices.Contains(budgetPeriods, *in.BudgetPeriod) {
		return llm.BadRequest("budget_period", "budget_period: want daily, weekly, monthly, total or \"\", got %s", short(*in.BudgetPeriod))
	}
	if in.BudgetTZ != nil && *in.BudgetTZ != "" {
		// "Local" would be the server's zone, which callers cannot know.
		if _, err := time.LoadLocation(*in.BudgetTZ); err != nil || *in.BudgetTZ == "Local" {
			return llm.BadRequest("budget_tz", "budget_tz: want an IANA time zone (Europe/Berlin, UTC), got %s", short(*in.BudgetTZ))
		}
	}
	if in.Models != nil {
		for _, m := range *in.Models {
			if m == "" {
				return llm.BadRequest("models", "models: a model glob must not be empty (use \"*\" for every model)")
			}
		}
	}
	if in.AllowedCIDRs != nil {
		for i, c := range *in.AllowedCIDRs {
			pfx, err := netip.ParsePrefix(c)
			if err != nil {
				return llm.BadRequest("allowed_cidrs", "allowed_cidrs: want networks like 10.0.0.0/8 or 2001:db8::/32, got %s", short(c))
			}
			(*in.AllowedCIDRs)[i] = pfx.Masked().String()
		}
	}
	return nil
}

// apply sets the given fields of k.
func (in *keyInput) apply(k *store.Key) {
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	setN := func(dst *int64, src *int64) {
		if src != nil {
			*dst = *src
		}
	}
	set(&k.Name, in.Name)
	set(&k.TenantID, in.TenantID)
	set(&k.TeamID, in.TeamID)
	set(&k.Role, in.Role)
	set(&k.BudgetPeriod, in.BudgetPeriod)
	set(&k.BudgetTZ, in.BudgetTZ)
	setN(&k.RPM, in.RPM)
	setN(&k.TPM, in.TPM)
	setN(&k.MaxConcurrent, in.MaxConcurrent)
	setN(&k.BudgetMicros, in.Budget)
	if in.Models != nil {
		k.Models = *in.Models
	}
	if in.AllowedCIDRs != nil {
		k.AllowedCIDRs = *in.AllowedCIDRs
	}
	if in.Metadata != nil {
		k.Metadata = *in.Metadata
	}
	if in.ExpiresAt != nil {
		k.ExpiresAt = *in.ExpiresAt
	}
	if in.Disabled != nil {
		k.Disabled = *in.Disabled
	}
}
