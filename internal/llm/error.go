package llm

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Fault says who is responsible for an error; it decides logging level,
// metrics labels and whether a retry or fallback can help.
type Fault uint8

// Faults, grouped by who must act.
const (
	FaultGateway  Fault = iota // a bug or an internal failure in Sluice
	FaultCaller                // the client sent something wrong
	FaultPolicy                // a gateway policy refused the request (auth, limits, guardrails)
	FaultProvider              // the upstream failed or refused
)

func (f Fault) String() string {
	switch f {
	case FaultCaller:
		return "caller"
	case FaultPolicy:
		return "policy"
	case FaultProvider:
		return "provider"
	}
	return "gateway"
}

// OpenAI error types, used in Error.Type.
const (
	TypeInvalidRequest = "invalid_request_error"
	TypeAuthentication = "authentication_error"
	TypePermission     = "permission_error"
	TypeNotFound       = "not_found_error"
	TypeRateLimit      = "rate_limit_error"
	TypeAPI            = "api_error"
	TypeOverloaded     = "overloaded_error"
	TypeTimeout        = "timeout_error"
)

// Error is the one error type that reaches clients. Message, Type, Code and
// Param are shown to the client in OpenAI's error shape; Err is the cause,
// for the log only (it may hold upstream details that must not leak).
type Error struct {
	Status  int    // HTTP status to answer with
	Type    string // OpenAI error type
	Code    string // machine-readable code, e.g. "model_not_found"; may be empty
	Param   string // the request parameter at fault; may be empty
	Message string // safe to show the client
	Fault   Fault
	// Provider names the upstream that produced the error, if any.
	Provider string
	// RetryAfter is the upstream's (or a limiter's) Retry-After; zero if none.
	RetryAfter time.Duration
	// Err is the underlying cause; never shown to the client.
	Err error
}

func (e *Error) Error() string {
	msg := e.Message
	if e.Provider != "" {
		msg = e.Provider + ": " + msg
	}
	if e.Err != nil {
		return fmt.Sprintf("%d %s: %s: %v", e.Status, e.Type, msg, e.Err)
	}
	return fmt.Sprintf("%d %s: %s", e.Status, e.Type, msg)
}

func (e *Error) Unwrap() error { return e.Err }

// Codes of an upstream's refusal of the gateway's own credentials, both
// answered as 502 (the client's key is not at fault).
const (
	// CodeUpstreamAuthFailed: the upstream refused the key itself (a 401,
	// or a 403 or 400 whose error says the key is invalid, expired or
	// revoked). The vault disables such a key.
	CodeUpstreamAuthFailed = "upstream_auth_failed"
	// CodeUpstreamPermission: the upstream accepted the key but refused it
	// this request (a 403: no access to the model, region, scope or
	// service). It says nothing about the key, which stays in use.
	CodeUpstreamPermission = "upstream_permission_denied"
)

// KeyRefused reports whether e is an upstream's refusal of the key
// itself (CodeUpstreamAuthFailed).
func (e *Error) KeyRefused() bool {
	return e.Fault == FaultProvider && e.Code == CodeUpstreamAuthFailed
}

// CredentialsRefused reports whether e is an upstream's refusal of the
// gateway's credentials, of the key (KeyRefused) or of its permission for
// this request. The same request to the same target gets the same answer:
// it is not Retryable, though another target may serve it.
func (e *Error) CredentialsRefused() bool {
	return e.Fault == FaultProvider && (e.Code == CodeUpstreamAuthFailed || e.Code == CodeUpstreamPermission)
}

// Retryable reports whether sending the same request again (to the same or
// another target) may succeed: timeouts, 408, 409, 429 and 5xx from a
// provider, and connection failures; never a refusal of the gateway's
// credentials (CredentialsRefused), whatever its status.
func (e *Error) Retryable() bool {
	if e.Fault != FaultProvider || e.CredentialsRefused() {
		return false
	}
	switch {
	case e.Status == http.StatusRequestTimeout, e.Status == http.StatusConflict,
		e.Status == http.StatusTooManyRequests, e.Status >= 500:
		return true
	}
	return false
}

// AsError returns err as an *Error, wrapping anything else as a 500 gateway
// error whose message does not reveal the cause.
func AsError(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Status: http.StatusInternalServerError, Type: TypeAPI,
		Message: "internal gateway error", Fault: FaultGateway, Err: err}
}

// BadRequest is a 400 caller error naming the parameter at fault.
func BadRequest(param, format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Type: TypeInvalidRequest, Param: param,
		Message: fmt.Sprintf(format, args...), Fault: FaultCaller}
}

// Unsupported is a 400 for a parameter the chosen provider cannot honour.
func Unsupported(provider, param string) *Error {
	return &Error{Status: http.StatusBadRequest, Type: TypeInvalidRequest,
		Code: "unsupported_parameter", Param: param, Provider: provider,
		Message: fmt.Sprintf("parameter %q is not supported by provider %q", param, provider),
		Fault:   FaultCaller}
}

// ModelNotFound is the 404 for a model no route or provider serves.
func ModelNotFound(model string) *Error {
	return &Error{Status: http.StatusNotFound, Type: TypeInvalidRequest, Code: "model_not_found",
		Param: "model", Message: fmt.Sprintf("the model %q does not exist or is not served by this gateway", model),
		Fault: FaultCaller}
}

// ProviderStatusError maps an upstream HTTP failure to a canonical error that
// keeps the upstream's status where it means the same to the client (400,
// 404, 408, 413, 422, 429), maps 503 and Anthropic's 529 to 503, 504 to
// 504 and other server failures to 502. A refusal of the gateway's
// credentials is a 502 too: a 401, or a 403 whose typ or code says the key
// itself is bad (badKeyCode), is CodeUpstreamAuthFailed; any other 403 (a
// model, region or scope the key may not use) CodeUpstreamPermission.
// Neither passes the upstream's message on (it may name the project or
// echo part of the key).
// msg is the upstream's own error message, passed to the client because it
// explains the caller's mistake (e.g. an invalid parameter) and holds no
// secrets of ours; the upstream credential never appears in it.
func ProviderStatusError(provider string, status int, typ, code, param, msg string, retryAfter time.Duration) *Error {
	e := &Error{Status: status, Type: typ, Code: code, Param: param, Message: msg,
		Provider: provider, RetryAfter: retryAfter, Fault: FaultProvider}
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden && badKeyCode(typ, code):
		// The gateway's upstream credential was refused: not the client's
		// fault, and the client must not think its own key is wrong.
		e.Status = http.StatusBadGateway
		e.Type = TypeAPI
		e.Code = CodeUpstreamAuthFailed
		e.Message = fmt.Sprintf("provider %q rejected the gateway's credentials", provider)
	case status == http.StatusForbidden:
		e.Status = http.StatusBadGateway
		e.Type = TypeAPI
		e.Code = CodeUpstreamPermission
		e.Message = fmt.Sprintf("provider %q refused this request with the gateway's credentials: "+
			"they lack permission for it (for instance for this model)", provider)
	case status == http.StatusTooManyRequests:
		e.Type = TypeRateLimit
	case status == 529: // Anthropic "overloaded"
		e.Status = http.StatusServiceUnavailable
		e.Type = TypeOverloaded
	case status == http.StatusGatewayTimeout:
		e.Type = TypeTimeout
	case status == http.StatusServiceUnavailable:
		e.Type = TypeOverloaded
	case status >= 500:
		e.Status = http.StatusBadGateway
		if e.Type == "" {
			e.Type = TypeAPI
		}
	case status == http.StatusNotFound:
		if e.Type == "" {
			e.Type = TypeNotFound
		}
	case status >= 400:
		if e.Type == "" {
			e.Type = TypeInvalidRequest
		}
	}
	if e.Type == "" {
		e.Type = TypeAPI
	}
	if e.Message == "" {
		e.Message = fmt.Sprintf("provider %q returned HTTP %d", provider, status)
	}
	return e
}

// badKeyCode reports whether an upstream's error type or code says the
// key itself is invalid, expired or revoked, as some answer with a 403:
// Anthropic's authentication_error, OpenAI's (and compatible servers')
// invalid_api_key and account_deactivated. OpenAI's permission 403s
// (model_not_found, unsupported_country_region_territory, missing scopes)
// and Anthropic's permission_error are not.
func badKeyCode(typ, code string) bool {
	switch code {
	case "invalid_api_key", "account_deactivated", "api_key_invalid", "api_key_expired":
		return true
	}
	return typ == TypeAuthentication
}
