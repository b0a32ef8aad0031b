package api

import (
	"context"
	"crypto"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// KeySource gives the public keys that verify JWT signatures.
type KeySource interface {
	// Keys returns the candidate keys for a token whose header names key
	// id kid ("" when it names none).
	Keys(ctx context.Context, kid string) ([]crypto.PublicKey, error)
}

// JWK is one key of a JSON Web Key Set (RFC 7517). Only RSA signing keys
// are used: those are what the LMS publishes (JWT_PUBLIC_SIGNING_JWK_SET).
type JWK struct {
	Kid string `json:"kid"`
	Kty string `json:"kty"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	N   string `json:"n"`
	E   string `json:"e"`
}

// KeySet is a parsed JWKS: RSA public keys by key id.
type KeySet struct {
	byKid map[string][]crypto.PublicKey
	all   []crypto.PublicKey
}

// ParseJWKS parses a JSON Web Key Set, {"keys": [...]}. Keys that are not
// RSA or are meant for encryption are skipped; a set with no usable key is
// an error, since it could verify nothing.
func ParseJWKS(data []byte) (*KeySet, error) {
	var doc struct {
		Keys []JWK `json:"keys"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("JWKS: %w", err)
	}
	ks := &KeySet{byKid: map[string][]crypto.PublicKey{}}
	for i, k := range doc.Keys {
		if k.Kty != "RSA" || k.Use == "enc" {
			continue
		}
		pub, err := rsaKey(k)
		if err != nil {
			return nil, fmt.Errorf("JWKS key %d (kid %q): %w", i, k.Kid, err)
		}
		ks.byKid[k.Kid] = append(ks.byKid[k.Kid], pub)
		ks.all = append(ks.all, pub)
	}
	if len(ks.all) == 0 {
		return nil, errors.New("JWKS: no RSA signing key")
	}
	return ks, nil
}

// rsaKey decodes an RSA JWK. Whitespace inside the base64url values is
// dropped: some LMS settings files carry keys wrapped over several lines.
func rsaKey(k JWK) (*rsa.PublicKey, error) {
	clean := func(s string) string {
		return strings.TrimRight(strings.Join(strings.Fields(s), ""), "=")
	}
	n, err := base64.RawURLEncoding.DecodeString(clean(k.N))
	if err != nil {
		return nil, fmt.Errorf("modulus n: %w", err)
	}
	e, err := base64.RawURLEncoding.DecodeString(clean(k.E))
	if err != nil {
		return nil, fmt.Errorf("exponent e: %w", err)
	}
	// The modulus's bit length, not its byte count: leading zero bytes
	// would pass a short key off as a long one.
	mod := new(big.Int).SetBytes(n)
	if mod.BitLen() < 2048 {
		return nil, fmt.Errorf("modulus of %d bits: at least 2048 are required", mod.BitLen())
	}
	exp := new(big.Int).SetBytes(e)
	if !exp.IsInt64() || exp.Int64() < 3 || exp.Int64() > 1<<31-1 {
		return nil, errors.New("exponent e out of range")
	}
	return &rsa.PublicKey{N: mod, E: int(exp.Int64())}, nil
}

// Keys implements KeySource: the keys with id kid, or every key when the
// token names no id (the LMS's single-key sets often have none).
func (ks *KeySet) Keys(_ context.Context, kid string) ([]crypto.PublicKey, error) {
	if kid == "" {
		return ks.all, nil
	}
	if k := ks.byKid[kid]; len(k) > 0 {
		return k, nil
	}
	return nil, fmt.Errorf("no key with id %q", kid)
}

// JWKSSource is a KeySource read from a file or an http(s) URL. It is read
// once when made, then again in the background: when it is older than the
// refresh interval, and when a token names a key id it does not know (the
// LMS rotated its keys), at most once a minute either way. A refresh never
// holds a lock that a request needs: callers whose key is known get it at
// once, whatever the JWKS URL is doing; only a caller naming an unknown
// key waits, briefly (UnknownKeyWait), for the refresh its token started.
type JWKSSource struct {
	location string
	client   *http.Client
	refresh  time.Duration
	now      func() time.Time
	// UnknownKeyWait is how long a caller whose token names an unknown
	// key waits for the refresh that may bring it (default 1 s); it
	// waits alone.
	UnknownKeyWait time.Duration
	// Logger logs failed refreshes. Nil: slog.Default().
	Logger *slog.Logger

	keys atomic.Pointer[fetchedKeys]

	mu       sync.Mutex    // guards tried and inflight; never held across I/O
	tried    time.Time     // when the last refresh started
	inflight chan struct{} // closed when the running refresh ends; nil when none
}

// fetchedKeys is a key set and when it was read.
type fetchedKeys struct {
	set *KeySet
	at  time.Time
}

// jwksMinInterval is the least time between two reads of the JWKS.
const jwksMinInterval = time.Minute

// NewJWKSSource reads the key set at location (a file path, or an http or
// https URL such as the LMS's JWKS endpoint) and returns a source that
// refreshes it every refresh interval (0: one hour).
func NewJWKSSource(ctx context.Context, location string, client *http.Client, refresh time.Duration) (*JWKSSource, error) {
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	if refresh <= 0 {
		refresh = time.Hour
	}
	s := &JWKSSource{location: location, client: client, refresh: refresh, now: time.Now, UnknownKeyWait: time.Second}
	set, err := s.load(ctx)
	if err != nil {
		return nil, err
	}
	s.keys.Store(&fetchedKeys{set: set, at: s.now()})
	s.tried = s.now()
	return s, nil
}

func (s *JWKSSource) load(ctx context.Context) (*KeySet, error) {
	var data []byte
	if strings.HasPrefix(s.location, "http://") || strings.HasPrefix(s.location, "https://") {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.location, nil)
		if err != nil {
			return nil, fmt.Errorf("JWKS %s: %w", s.location, err)
		}
		resp, err := s.client.Do(req)
		if err != nil {
			return nil, fmt.Errorf("JWKS %s: %w", s.location, err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("JWKS %s: HTTP %s", s.location, resp.Status)
		}
		data, err = io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if err != nil {
			return nil, fmt.Errorf("JWKS %s: %w", s.location, err)
		}
	} else {
		var err error
		data, err = os.ReadFile(s.location)
		if err != nil {
			return nil, fmt.Errorf("JWKS: %w", err)
		}
	}
	set, err := ParseJWKS(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.location, err)
	}
	return set, nil
}

// Keys implements KeySource.
func (s *JWKSSource) Keys(ctx context.Context, kid string) ([]crypto.PublicKey, error) {
	cur := s.keys.Load()
	keys, err := cur.set.Keys(ctx, kid)
	if err == nil {
		if s.now().Sub(cur.at) > s.refresh {
			s.startRefresh()
		}
		return keys, nil
	}
	// An unknown key: the LMS may have rotated. Read the set again (at
	// most once a minute) and wait a little for it, alone.
	done := s.startRefresh()
	if done == nil {
		return nil, err
	}
	wait := s.UnknownKeyWait
	if wait <= 0 {
		return nil, err
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		return nil, err
	case <-ctx.Done():
		return nil, err
	}
	return s.keys.Load().set.Keys(ctx, kid)
}

// startRefresh starts reading the key set again in the background, unless
// a read is running (it returns that one's channel) or the last one
// started less than a minute ago (it returns nil). The channel is closed
// when the read ends. A failed read keeps the keys we have: the LMS being
// briefly unreachable must not lock every JWT caller out.
func (s *JWKSSource) startRefresh() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.inflight != nil {
		return s.inflight
	}
	now := s.now()
	if now.Sub(s.tried) < jwksMinInterval {
		return nil
	}
	s.tried = now
	done := make(chan struct{})
	s.inflight = done
	go func() {
		defer close(done)
		// Not the request's context: a caller who leaves must not cancel
		// the refresh for everyone.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		set, err := s.load(ctx)
		if err == nil {
			s.keys.Store(&fetchedKeys{set: set, at: s.now()})
		} else {
			log := s.Logger
			if log == nil {
				log = slog.Default()
			}
			log.Warn("JWKS refresh failed; keeping the keys read before", "err", err)
		}
		s.mu.Lock()
		s.inflight = nil
		s.mu.Unlock()
	}()
	return done
}

// settle waits for a running refresh, if any (tests).
func (s *JWKSSource) settle() {
	s.mu.Lock()
	done := s.inflight
	s.mu.Unlock()
	if done != nil {
		<-done
	}
}
