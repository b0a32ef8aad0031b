package api

import (
	"context"
	"sync"
	"time"
)

// gate bounds the requests in flight and remembers whether it is stuck:
// every slot busy and none freed for a while means the API cannot serve,
// which /healthz reports.
type gate struct {
	slots chan struct{} // nil: no bound
	now   func() time.Time

	mu   sync.Mutex
	busy int
	// fullSince is when the last slot was taken with none freed since
	// (zero while a slot is free).
	fullSince time.Time
}

func newGate(n int, now func() time.Time) *gate {
	g := &gate{now: now}
	if n > 0 {
		g.slots = make(chan struct{}, n)
	}
	return g
}

// acquire waits for a slot, in arrival order, until ctx ends; it returns
// the function that frees the slot.
func (g *gate) acquire(ctx context.Context) (func(), error) {
	if g.slots == nil {
		return func() {}, nil
	}
	select {
	case g.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	g.mu.Lock()
	g.busy++
	if g.busy == cap(g.slots) {
		g.fullSince = g.now()
	}
	g.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			g.mu.Lock()
			g.busy--
			g.fullSince = time.Time{}
			g.mu.Unlock()
			<-g.slots
		})
	}, nil
}

// stuck returns how long every slot has been busy with none freed, and
// the number of slots; 0 when a slot is free or there is no bound.
func (g *gate) stuck() (time.Duration, int) {
	if g.slots == nil {
		return 0, 0
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.fullSince.IsZero() {
		return 0, cap(g.slots)
	}
	return g.now().Sub(g.fullSince), cap(g.slots)
}
