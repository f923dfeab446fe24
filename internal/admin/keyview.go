package admin

import (
	"net/url"
	"time"

	"github.com/sluicehq/sluice/internal/jsonw"
	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/store"
	"github.com/sluicehq/sluice/internal/telemetry"
)

// appendKey appends k as the API's key object. It never holds the hash;
// secret, when not "", is added as member "key" (the create and rotate
// answers, once). Every member is always present: lists as [], maps as
// {}, unset times as null.
func appendKey(dst []byte, k *store.Key, secret string) []byte {
	dst = append(dst, '{')
	dst = appendStr(dst, "object", "key")
	dst = appendStr(dst, "id", k.ID)
	dst = appendStr(dst, "name", k.Name)
	dst = appendStr(dst, "prefix", k.Prefix)
	dst = appendStr(dst, "tenant_id", k.TenantID)
	dst = appendStr(dst, "team_id", k.TeamID)
	dst = appendStr(dst, "role", k.Role)
	dst = appendPolicy(dst, &k.Policy)
	dst = jsonw.AppendKey(dst, "allowed_cidrs")
	dst = appendStrings(dst, k.AllowedCIDRs)
	dst = jsonw.AppendKey(dst, "metadata")
	dst = appendStringMap(dst, k.Metadata)
	dst = appendTime(dst, "expires_at", k.ExpiresAt)
	// The previous secret's end of validity after a rotation, while it
	// is stored; null when there is none.
	var prevUntil time.Time
	if len(k.PrevHash) > 0 {
		prevUntil = k.PrevUntil
	}
	dst = appendTime(dst, "previous_key_valid_until", prevUntil)
	dst = appendTime(dst, "created_at", k.CreatedAt)
	dst = appendTime(dst, "updated_at", k.UpdatedAt)
	dst = appendTime(dst, "last_used_at", k.LastUsedAt)
	dst = jsonw.AppendKey(dst, "disabled")
	dst = jsonw.AppendBool(dst, k.Disabled)
	if secret != "" {
		dst = appendStr(dst, "key", secret)
	}
	return append(dst, '}')
}

// appendTime appends member key: t in the record's time format, or null
// for the zero time.
func appendTime(dst []byte, key string, t time.Time) []byte {
	dst = jsonw.AppendKey(dst, key)
	if t.IsZero() {
		return append(dst, "null"...)
	}
	return telemetry.AppendTime(dst, t)
}

// appendStrings appends list as a JSON array; nil is [].
func appendStrings(dst []byte, list []string) []byte {
	dst = append(dst, '[')
	for i, s := range list {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = jsonw.AppendString(dst, s)
	}
	return append(dst, ']')
}

// parseKeysQuery reads GET /keys parameters, under the rules of eachParam:
// tenant_id, team_id, role (owner, admin, member, viewer, or gateway for
// keys without a role), include_disabled (true or false), limit, cursor.
func parseKeysQuery(q url.Values) (store.KeyFilter, *llm.Error) {
	var f store.KeyFilter
	err := eachParam(q, func(name, v string) *llm.Error {
		switch name {
		case "tenant_id":
			f.TenantID = v
		case "team_id":
			f.TeamID = v
		case "role":
			role := v
			switch v {
			case "gateway":
				role = ""
			case "owner", "admin", "member", "viewer":
			default:
				return llm.BadRequest(name, "role: want owner, admin, member, viewer or gateway, got %s", short(v))
			}
			f.Role = &role
		case "include_disabled":
			if v != "true" && v != "false" {
				return llm.BadRequest(name, "include_disabled: want true or false, got %s", short(v))
			}
			f.IncludeDisabled = v == "true"
		case "limit":
			n, err := limitParam(name, v)
			f.Limit = n
			return err
		case "cursor":
			f.Cursor = v
		default:
			return unknownParam(name, v)
		}
		return nil
	})
	return f, err
}

// narrowKeys forces the scope onto a key list's filter, as narrow does
// for logs. A member's list is held by its team; a scope limited to the
// default tenant alone, which KeyFilter cannot express, only ever comes
// with a team.
func (sc scope) narrowKeys(f *store.KeyFilter) *llm.Error {
	return sc.narrow(&f.TenantID, &f.TeamID)
}
