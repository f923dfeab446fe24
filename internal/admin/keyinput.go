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
	Name, TenantID, TeamID, Role *string
	policyInput
	AllowedCIDRs *[]string
	Metadata     *map[string]string
	ExpiresAt    *time.Time
	Disabled     *bool
}

// maxCIDRs bounds a key's allowed_cidrs.
const maxCIDRs = 256

// keyCreateFields and keyPatchFields are the members POST and PATCH take.
var (
	keyCreateFields = slices.Concat([]string{"name", "tenant_id", "team_id", "role"}, policyFields,
		[]string{"allowed_cidrs", "metadata", "expires_at"})
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
		func() { err = in.policyInput.parse(f) },
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

// keyRoles are the roles a key may have; "" is a gateway key.
var keyRoles = []string{"", "owner", "admin", "member", "viewer"}

// check checks the decoded values that need more than their JSON type,
// and puts CIDRs in canonical form (the network address: 10.0.0.0/8).
func (in *keyInput) check() *llm.Error {
	if in.Role != nil && !slices.Contains(keyRoles, *in.Role) {
		return llm.BadRequest("role", "role: want owner, admin, member, viewer or \"\" (a gateway key), got %s", short(*in.Role))
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
	set(&k.Name, in.Name)
	set(&k.TenantID, in.TenantID)
	set(&k.TeamID, in.TeamID)
	set(&k.Role, in.Role)
	in.policyInput.apply(&k.Policy)
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
