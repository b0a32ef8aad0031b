package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"
)

// The messages DRF answers with, kept word for word so that clients that
// match on them keep working.
const (
	msgNoCredentials = "Authentication credentials were not provided."
	msgInvalidToken  = "Invalid token."
	msgForbidden     = "You do not have permission to perform this action."
	msgNotFound      = "Not found."
	msgInternal      = "A server error occurred."
)

// writeJSON writes v as a JSON response.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"detail":"` + msgInternal + `"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

// writeDetail writes DRF's error shape, {"detail": msg}.
func writeDetail(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"detail": msg})
}

// StatusError is a failure with the HTTP status and the detail message to
// answer it with ({"detail": Detail}). Authentication and site resolution
// return it, so that the dashboard can answer the same way.
type StatusError struct {
	Status int
	Detail string
	// Err is the underlying cause, for logs; it is never sent to clients.
	Err error
}

// Error implements error.
func (e *StatusError) Error() string {
	if e.Err != nil {
		return e.Detail + ": " + e.Err.Error()
	}
	return e.Detail
}

// Unwrap returns the cause.
func (e *StatusError) Unwrap() error { return e.Err }

// WriteError answers err as the API does: a *StatusError as its status and
// {"detail": ...} (a 401 with a WWW-Authenticate challenge; the original
// answered 403, which tells a client nothing about whether credentials
// would help), anything else as a 500.
func WriteError(w http.ResponseWriter, err error) {
	var se *StatusError
	if !errors.As(err, &se) {
		writeDetail(w, http.StatusInternalServerError, msgInternal)
		return
	}
	if se.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="figures"`)
	}
	writeDetail(w, se.Status, se.Detail)
}

// fieldErrors collects invalid query parameters: name → messages. It is
// answered as 400 with django-filter 2's shape, {"param": ["message"]}.
type fieldErrors map[string][]string

func (fe fieldErrors) add(name, msg string) { fe[name] = append(fe[name], msg) }

// Error implements error: the messages, for logs.
func (fe fieldErrors) Error() string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(fe)) {
		parts = append(parts, k+": "+strings.Join(fe[k], " "))
	}
	return strings.Join(parts, "; ")
}

var errNotFound = &StatusError{Status: http.StatusNotFound, Detail: msgNotFound}

// badRequest returns a 400 error answered as {"detail": msg}.
func badRequest(msg string) error { return &StatusError{Status: http.StatusBadRequest, Detail: msg} }

// fail answers err: a fieldErrors or *StatusError as itself, a request
// whose store time ran out as 503, anything else as a logged 500 whose
// detail does not leak internals.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var fe fieldErrors
	var se *StatusError
	switch {
	case errors.As(err, &fe):
		writeJSON(w, http.StatusBadRequest, fe)
	case errors.As(err, &se) && se.Status != http.StatusInternalServerError:
		if se.Err != nil {
			s.log.Info("api request refused", "path", clip(r.URL.Path), "status", se.Status, "err", clip(se.Err.Error()))
		}
		WriteError(w, se)
	case storeTimedOut(r.Context()):
		s.log.Warn("api request timed out waiting for the store", "path", clip(r.URL.Path), "query", clip(r.URL.RawQuery),
			"cause", context.Cause(r.Context()), "err", clip(err.Error()))
		w.Header().Set("Retry-After", "10")
		writeDetail(w, http.StatusServiceUnavailable, "The store did not answer in time ("+context.Cause(r.Context()).Error()+"). Try again later.")
	case r.Context().Err() != nil:
		// The client went away; there is no one to answer.
	default:
		s.log.Error("api request failed", "path", clip(r.URL.Path), "query", clip(r.URL.RawQuery), "err", clip(err.Error()))
		writeDetail(w, http.StatusInternalServerError, msgInternal)
	}
}

// jsonString returns s as a JSON string literal, without HTML escaping
// (so that the & of a link stays readable).
func jsonString(s string) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(s)
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// maxLogged bounds what a log line quotes of a request (a path, a query
// string, an error that quotes them): a megabyte of parameters must not
// become a megabyte of log.
const maxLogged = 512

// clip returns s cut to maxLogged bytes (on a rune boundary), saying how
// much was left out.
func clip(s string) string {
	if len(s) <= maxLogged {
		return s
	}
	cut := maxLogged
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + fmt.Sprintf("…(%d more bytes)", len(s)-cut)
}
