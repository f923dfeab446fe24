package admin

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/sluicehq/sluice/internal/auth"
	"github.com/sluicehq/sluice/internal/jsonw"
	"github.com/sluicehq/sluice/internal/llm"
	"github.com/sluicehq/sluice/internal/store"
	"github.com/sluicehq/sluice/internal/vault"
)

// This file serves /admin/v1/credentials: the provider-key vault. A
// provider API key is sealed (internal/vault) under the master key as it
// arrives and never leaves again: answers, audit entries and logs show
// its last four characters only. Credentials serve every tenant, so only
// owners and admins of no tenant write them; viewers and admins read
// them; members cannot see them. Every change reaches
// Options.CredentialChanged after the store has it.

const kindCredential = "credential"

// Bounds of a provider key as given to POST and PATCH.
const (
	minCredentialKey = 8
	maxCredentialKey = 4096
)

// credentialOptions are the Options the credential endpoints use.
type credentialOptions struct {
	vault     *vault.Vault // nil: locked
	providers func() []string
	changed   func(c store.Credential, deleted bool)
	// afterRead, when set (tests only), runs in PATCH between reading the
	// credential and writing it back.
	afterRead func()
}

// credentialPatchTries is how often PATCH reads and writes a credential
// that keeps changing under it before it answers 409.
const credentialPatchTries = 2

// vaultLocked is the 503 for a write that needs the master key.
func vaultLocked() *llm.Error {
	return &llm.Error{Status: http.StatusServiceUnavailable, Type: llm.TypeAPI, Code: "vault_locked",
		Fault: llm.FaultGateway,
		Message: "the provider-key vault is locked: set " + vault.EnvMasterKey + " (32 random bytes as 64 hex " +
			"digits, e.g. from `openssl rand -hex 32`) and restart the gateway to store provider keys"}
}

// needCredentialRead refuses members: credentials are installation-wide.
func needCredentialRead(p *auth.Principal) *llm.Error {
	if p.TeamScoped() {
		return forbidden("", "role %q may not read provider credentials", p.Role)
	}
	return need(p, auth.ReadLogs)
}

// needCredentialWrite refuses all but owners and admins of no tenant: a
// provider key serves every tenant.
func needCredentialWrite(c *call) *llm.Error {
	if !c.p.Can(auth.ManageCredentials) {
		return forbidden("", "role %q may not manage provider credentials", c.p.Role)
	}
	if c.scope.byTenant {
		return forbidden("", "provider credentials serve every tenant: only a key of no tenant may manage them")
	}
	return nil
}

// secret decodes member "key", a provider API key: 8 to 4096 visible
// ASCII characters (it travels in a header). Refusals never show it.
func (f fields) secret() (*string, *llm.Error) {
	v, ok := f["key"]
	if !ok {
		return nil, nil
	}
	if isNull(v) {
		return nil, llm.BadRequest("key", "key: want the provider's API key as a string, got null")
	}
	s, perr := f.text("key", maxCredentialKey) // its refusals name the kind or length, never the value
	if perr != nil {
		return nil, perr
	}
	if len(*s) < minCredentialKey {
		return nil, llm.BadRequest("key", "key: at least %d characters", minCredentialKey)
	}
	for i := 0; i < len(*s); i++ {
		if c := (*s)[i]; c <= ' ' || c > '~' {
			return nil, llm.BadRequest("key", "key: only visible ASCII characters (no spaces, line breaks or control characters)")
		}
	}
	return s, nil
}

// weight decodes member "weight": 1 to store.MaxCredentialWeight.
func (f fields) weight() (*int64, *llm.Error) {
	w, perr := f.count("weight", store.MaxCredentialWeight)
	if perr == nil && w != nil && *w < 1 {
		perr = llm.BadRequest("weight", "weight: want an integer from 1 to %d, got 0", store.MaxCredentialWeight)
	}
	return w, perr
}

// last4 is all an API shows of a key.
func last4(key string) string { return key[len(key)-4:] }

// credentialDetail is what audit entries say of a credential.
func credentialDetail(cr *store.Credential) map[string]string {
	return map[string]string{"provider": cr.Provider, "name": cr.Name, "last4": cr.Last4}
}

// seal seals key for cr and sets its Sealed, MasterID and Last4.
func (s *server) seal(cr *store.Credential, key string) error {
	sealed, err := s.creds.vault.SealCredential(cr.ID, cr.Provider, key)
	if err != nil {
		return err // a failing random source: a 500
	}
	cr.Sealed, cr.MasterID, cr.Last4 = sealed, s.creds.vault.ID(), last4(key)
	return nil
}

// createCredential serves POST /credentials: provider (a configured one),
// name, key (the secret), weight (default 1); 201 with the credential.
func (s *server) createCredential(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := needCredentialWrite(c); err != nil {
		return err
	}
	if s.creds.vault == nil {
		return vaultLocked()
	}
	f, perr := readFields(w, r)
	if perr != nil {
		return perr
	}
	if perr := f.only("provider", "name", "key", "weight"); perr != nil {
		return perr
	}
	cr := store.Credential{ID: auth.NewID("cred_"), Weight: 1}
	provider, perr := f.text("provider", entityText)
	if perr != nil {
		return perr
	}
	if provider == nil || *provider == "" {
		return llm.BadRequest("provider", "provider: required, the name of a configured provider")
	}
	var known []string
	if s.creds.providers != nil {
		known = s.creds.providers()
	}
	if !slices.Contains(known, *provider) {
		slices.Sort(known)
		return llm.BadRequest("provider", "provider: %s is not a configured provider (configured: %s)",
			short(*provider), strings.Join(known, ", "))
	}
	cr.Provider = *provider
	if name, perr := f.text("name", entityText); perr != nil {
		return perr
	} else if name != nil {
		cr.Name = *name
	}
	if wt, perr := f.weight(); perr != nil {
		return perr
	} else if wt != nil {
		cr.Weight = *wt
	}
	key, perr := f.secret()
	if perr != nil {
		return perr
	}
	if key == nil {
		return llm.BadRequest("key", "key: required, the provider's API key")
	}
	if err := s.seal(&cr, *key); err != nil {
		return err
	}
	if err := s.db.CreateCredential(r.Context(), &cr); err != nil {
		return storeError(err, kindCredential, "a credential with this ID exists; retry")
	}
	s.creds.changed(cr, false)
	c.target, c.detail = cr.ID, credentialDetail(&cr)
	w.Header().Set("Location", Prefix+"/credentials/"+cr.ID)
	c.reply(http.StatusCreated, appendCredential(nil, &cr))
	return nil
}

// listCredentials serves GET /credentials[?provider=]: newest first, one
// page, in the list envelope.
func (s *server) listCredentials(_ http.ResponseWriter, r *http.Request, c *call) error {
	if err := needCredentialRead(&c.p); err != nil {
		return err
	}
	var provider string
	if perr := eachParam(r.URL.Query(), func(name, v string) *llm.Error {
		if name != "provider" {
			return unknownParam(name, v)
		}
		provider = v
		return nil
	}); perr != nil {
		return perr
	}
	crs, err := s.db.ListCredentials(r.Context(), provider)
	if err != nil {
		return storeError(err, kindCredential, "")
	}
	buf := append(make([]byte, 0, 256+256*len(crs)), `{"object":"list","data":[`...)
	for i := range crs {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendCredential(buf, &crs[i])
	}
	c.reply(http.StatusOK, appendListEnd(buf, ""))
	return nil
}

// getCredential serves GET /credentials/{id}.
func (s *server) getCredential(_ http.ResponseWriter, r *http.Request, c *call) error {
	if err := needCredentialRead(&c.p); err != nil {
		return err
	}
	if perr := eachParam(r.URL.Query(), unknownParam); perr != nil {
		return perr
	}
	cr, err := s.db.GetCredential(r.Context(), c.target)
	if err != nil {
		return storeError(err, kindCredential, "")
	}
	c.reply(http.StatusOK, appendCredential(nil, &cr))
	return nil
}

// updateCredential serves PATCH /credentials/{id}: name, weight, disabled
// (false also clears the reason) and key (a new secret: a rotation,
// audited as credential.rotate). The provider never changes. The fields
// given are applied to the credential as stored, compare-and-set: see
// credentialPatchTries.
func (s *server) updateCredential(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := needCredentialWrite(c); err != nil {
		return err
	}
	f, perr := readFields(w, r)
	if perr != nil {
		return perr
	}
	if _, ok := f["provider"]; ok {
		return llm.BadRequest("provider", "provider: a credential's provider cannot be changed (its key is sealed "+
			"for it); create a new credential instead")
	}
	if perr := f.only("name", "weight", "disabled", "key"); perr != nil {
		return perr
	}
	name, perr := f.text("name", entityText)
	if perr != nil {
		return perr
	}
	wt, perr := f.weight()
	if perr != nil {
		return perr
	}
	disabled, perr := f.flag("disabled")
	if perr != nil {
		return perr
	}
	key, perr := f.secret()
	if perr != nil {
		return perr
	}
	if key != nil && s.creds.vault == nil {
		return vaultLocked()
	}
	// Read, change, write only over the version read: a credential
	// changed in between (the gateway disabling a refused key, another
	// admin) is read again and the same fields applied to it, so that no
	// change is lost; should it change again, 409.
	var cr store.Credential
	for try := 1; ; try++ {
		read, err := s.db.GetCredential(r.Context(), c.target)
		if err != nil {
			return storeError(err, kindCredential, "")
		}
		if s.creds.afterRead != nil {
			s.creds.afterRead()
		}
		cr = read
		if name != nil {
			cr.Name = *name
		}
		if wt != nil {
			cr.Weight = *wt
		}
		if disabled != nil {
			switch {
			case !*disabled:
				cr.Disabled, cr.DisabledReason = false, ""
			case !cr.Disabled:
				cr.Disabled, cr.DisabledReason = true, "disabled through the admin API"
			}
		}
		if key != nil {
			if err := s.seal(&cr, *key); err != nil {
				return err
			}
			c.action = "credential.rotate"
		}
		err = s.db.UpdateCredentialIf(r.Context(), &cr, &read)
		if err == nil {
			break
		}
		if !errors.Is(err, store.ErrConflict) || try == credentialPatchTries {
			return storeError(err, kindCredential, "the credential changed while it was being updated "+
				"(the gateway disables a key its provider refuses); read it again and retry")
		}
	}
	s.creds.changed(cr, false)
	c.detail = credentialDetail(&cr)
	c.detail["fields"] = f.names()
	c.reply(http.StatusOK, appendCredential(nil, &cr))
	return nil
}

// deleteCredential serves DELETE /credentials/{id}: 204.
func (s *server) deleteCredential(_ http.ResponseWriter, r *http.Request, c *call) error {
	if err := needCredentialWrite(c); err != nil {
		return err
	}
	cr, err := s.db.GetCredential(r.Context(), c.target)
	if err != nil {
		return storeError(err, kindCredential, "")
	}
	if err := s.db.DeleteCredential(r.Context(), c.target); err != nil {
		return storeError(err, kindCredential, "")
	}
	s.creds.changed(cr, true)
	c.detail = credentialDetail(&cr)
	c.reply(http.StatusNoContent, nil)
	return nil
}

// appendCredential appends cr as the API's credential object: never the
// sealed key, never the master key's ID.
func appendCredential(dst []byte, cr *store.Credential) []byte {
	dst = append(dst, '{')
	dst = appendStr(dst, "object", "credential")
	dst = appendStr(dst, "id", cr.ID)
	dst = appendStr(dst, "provider", cr.Provider)
	dst = appendStr(dst, "name", cr.Name)
	dst = appendStr(dst, "last4", cr.Last4)
	dst = appendInt(dst, "weight", cr.Weight)
	dst = jsonw.AppendBool(jsonw.AppendKey(dst, "disabled"), cr.Disabled)
	dst = appendStr(dst, "disabled_reason", cr.DisabledReason)
	dst = appendTime(dst, "created_at", cr.CreatedAt)
	dst = appendTime(dst, "updated_at", cr.UpdatedAt)
	return append(dst, '}')
}
