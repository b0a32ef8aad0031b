package synth

import (
	"math"
	"math/rand/v2"
)

// Every entity draws from its own random stream, derived from the seed, a
// stream kind and the entity's index. Streams never share state, so adding
// entities of one kind (the extra history of --history-factor, say) cannot
// change what any other entity draws, and nothing depends on the order in
// which Go happens to visit a map.
const (
	streamCourse uint64 = iota + 1
	streamUser
	streamAlumni
	streamEnrollment
	streamStaff
	streamSite
	streamCert
	streamPerson
	// streamGroups draws an enrollment's cohort, experiment group and
	// beta-tester role.
	streamGroups
)

// splitmix64 scrambles x; it turns (seed, kind, index) into well-spread PCG
// seeds, so that neighbouring indexes give unrelated streams.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// rng is a reseedable random stream.
type rng struct {
	pcg *rand.PCG
	*rand.Rand
}

func newRNG() *rng {
	p := rand.NewPCG(0, 0)
	return &rng{pcg: p, Rand: rand.New(p)}
}

// streamOf returns a fresh stream for (seed, kind, index).
func streamOf(seed, kind, index uint64) *rng {
	r := newRNG()
	r.reseed(seed, kind, index)
	return r
}

// reseed restarts the stream at (seed, kind, index), without allocating.
func (r *rng) reseed(seed, kind, index uint64) {
	a := splitmix64(seed ^ splitmix64(kind<<56^index))
	b := splitmix64(a ^ kind ^ index<<8)
	r.pcg.Seed(a, b)
}

// chance reports true with probability p.
func (r *rng) chance(p float64) bool { return r.Float64() < p }

// between returns an int in [lo, hi].
func (r *rng) between(lo, hi int) int {
	if hi <= lo {
		return lo
	}
	return lo + r.IntN(hi-lo+1)
}

// geometric returns a count of failures before a success with mean m
// (0, 1, 2, ...).
func (r *rng) geometric(mean float64) int {
	if mean <= 0 {
		return 0
	}
	p := 1 / (1 + mean)
	u := r.Float64()
	if u <= 0 {
		return 0
	}
	return int(math.Floor(math.Log(u) / math.Log(1-p)))
}

// weighted picks an index with probability proportional to w[i].
func (r *rng) weighted(w []float64) int {
	var total float64
	for _, x := range w {
		total += x
	}
	u := r.Float64() * total
	for i, x := range w {
		if u < x {
			return i
		}
		u -= x
	}
	return len(w) - 1
}

// hex32 returns 32 lowercase hex digits, like a uuid4().hex block id.
func (r *rng) hex32() string {
	const digits = "0123456789abcdef"
	var b [32]byte
	a, c := r.Uint64(), r.Uint64()
	for i := 0; i < 16; i++ {
		b[i] = digits[a>>(4*i)&0xf]
		b[16+i] = digits[c>>(4*i)&0xf]
	}
	return string(b[:])
}
