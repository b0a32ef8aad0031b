package course

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// MaxGrades supplies the largest max_grade the LMS recorded in
// courseware_studentmodule for each block of a course, keyed by usage key.
// The Course Blocks API has no max score, so an unweighted problem's raw
// maximum comes from what learners' rows recorded.
type MaxGrades interface {
	MaxGrades(ctx context.Context, courseID string) (map[string]float64, error)
}

// BlocksClient reads course structure from the LMS Course Blocks API with an
// OAuth2 client-credentials JWT. The token is cached until it expires and
// fetched again on expiry or when the LMS answers 401. A BlocksClient is safe
// for concurrent use.
type BlocksClient struct {
	base                   string
	clientID, clientSecret string
	hc                     *http.Client
	// now is the clock; tests replace it.
	now func() time.Time

	mu      sync.Mutex
	token   string
	expires time.Time
}

// tokenMargin renews a token this long before the LMS says it expires, so a
// request never leaves with a token about to lapse.
const tokenMargin = 30 * time.Second

// maxBlocksResponse bounds the Blocks API answer: a whole course comes back
// in one response, a few MB for a large one.
const maxBlocksResponse = 256 << 20

// NewBlocksClient returns a client for the LMS at baseURL (such as
// https://lms.example.com) authenticating as the OAuth2 application
// clientID/clientSecret, whose service user must be global or course staff
// for all_blocks=true. hc may be nil for a client with a 60 s timeout.
func NewBlocksClient(baseURL, clientID, clientSecret string, hc *http.Client) (*BlocksClient, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("LMS URL %q: want http(s)://host[:port]", baseURL)
	}
	if clientID == "" || clientSecret == "" {
		return nil, errors.New("Blocks API: an OAuth2 client id and secret are required (a client-credentials application of a staff service user)")
	}
	if hc == nil {
		hc = &http.Client{Timeout: 60 * time.Second}
	}
	return &BlocksClient{base: strings.TrimSuffix(baseURL, "/"), clientID: clientID, clientSecret: clientSecret, hc: hc, now: time.Now}, nil
}

// FetchOptions say how to turn a Blocks API answer into an outline.
type FetchOptions struct {
	// MaxGrades, when set, supplies raw maxima for problems whose type
	// does not fix one.
	MaxGrades MaxGrades
	// MaxCounts gives library_content max_count by usage key. The API does
	// not expose max_count; a library absent from it gets the field's
	// default, 1, and a warning.
	MaxCounts map[string]int
}

// apiBlock is one entry of the Blocks API's "blocks" map. Fields the
// platform leaves null are omitted from the answer, hence the pointers.
type apiBlock struct {
	ID                 string   `json:"id"`
	BlockID            string   `json:"block_id"`
	Type               string   `json:"type"`
	DisplayName        string   `json:"display_name"`
	Children           []string `json:"children"`
	Graded             *bool    `json:"graded"`
	Format             *string  `json:"format"`
	Due                *string  `json:"due"`
	Start              *string  `json:"start"`
	HasScore           *bool    `json:"has_score"`
	Weight             *float64 `json:"weight"`
	VisibleToStaffOnly *bool    `json:"visible_to_staff_only"`
}

type apiResponse struct {
	Root   string              `json:"root"`
	Blocks map[string]apiBlock `json:"blocks"`
}

// requestedFields are the fields FetchOutline asks for.
const requestedFields = "children,graded,format,due,start,has_score,weight,visible_to_staff_only,display_name"

// FetchOutline reads courseID's whole block tree (all_blocks=true, as staff,
// so no learner-specific filtering) and builds its outline. Staff-only
// blocks are left out, library_content children are recorded as in an OLX
// import, and each scorable block's raw maximum comes from its type's rule
// where that rule needs no content (drag-and-drop-v2 and done: 1;
// staffgradedxblock, lti and lti_consumer: their weight), otherwise from
// opts.MaxGrades; with neither, RawUnknown is set and, for an unweighted
// block, a warning recorded.
func (c *BlocksClient) FetchOutline(ctx context.Context, courseID string, opts FetchOptions) (*Outline, error) {
	key, err := ParseKey(courseID)
	if err != nil {
		return nil, err
	}
	q := url.Values{}
	q.Set("course_id", key.String())
	q.Set("all_blocks", "true")
	q.Set("depth", "all")
	q.Set("requested_fields", requestedFields)
	q.Set("return_type", "dict")
	endpoint := c.base + "/api/courses/v1/blocks/?" + q.Encode()
	body, err := c.get(ctx, endpoint)
	if err != nil {
		return nil, fmt.Errorf("course %s: Blocks API: %w", courseID, err)
	}
	var resp apiResponse
	if err := json.Unmarshal(body, &resp); err != nil {
		return nil, fmt.Errorf("course %s: Blocks API: answer is not the blocks JSON: %w", courseID, err)
	}
	var grades map[string]float64
	if opts.MaxGrades != nil {
		if grades, err = opts.MaxGrades.MaxGrades(ctx, key.String()); err != nil {
			return nil, fmt.Errorf("course %s: max grades: %w", courseID, err)
		}
	}
	o, err := buildFromBlocks(key.String(), &resp, grades, opts.MaxCounts)
	if err != nil {
		return nil, fmt.Errorf("course %s: Blocks API: %w", courseID, err)
	}
	o.Source = "blocks-api:" + c.base
	o.ComputeVersion()
	return o, nil
}

// get sends an authenticated GET, renewing the token once on a 401.
func (c *BlocksClient) get(ctx context.Context, endpoint string) ([]byte, error) {
	for attempt := 0; ; attempt++ {
		tok, err := c.accessToken(ctx)
		if err != nil {
			return nil, err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "JWT "+tok)
		req.Header.Set("Accept", "application/json")
		res, err := c.hc.Do(req)
		if err != nil {
			return nil, fmt.Errorf("GET %s: %w", endpoint, err)
		}
		body, err := io.ReadAll(io.LimitReader(res.Body, maxBlocksResponse+1))
		res.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("GET %s: reading the answer: %w", endpoint, err)
		}
		if len(body) > maxBlocksResponse {
			return nil, fmt.Errorf("GET %s: answer larger than %d bytes", endpoint, maxBlocksResponse)
		}
		switch {
		case res.StatusCode == http.StatusUnauthorized && attempt == 0:
			// The LMS may have revoked or expired the token early.
			c.dropToken(tok)
			continue
		case res.StatusCode == http.StatusUnauthorized:
			return nil, fmt.Errorf("GET %s: 401 Unauthorized with a fresh token: %s", endpoint, snippet(body))
		case res.StatusCode == http.StatusForbidden:
			return nil, fmt.Errorf("GET %s: 403 Forbidden: the OAuth2 application's user must be global or course staff to read all blocks: %s", endpoint, snippet(body))
		case res.StatusCode == http.StatusNotFound:
			return nil, fmt.Errorf("GET %s: 404 Not Found: no such course on this LMS: %s", endpoint, snippet(body))
		case res.StatusCode/100 != 2:
			return nil, fmt.Errorf("GET %s: %s: %s", endpoint, res.Status, snippet(body))
		}
		return body, nil
	}
}

// accessToken returns the cached token, fetching a new one when none is
// cached or it is about to expire.
func (c *BlocksClient) accessToken(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token != "" && c.now().Before(c.expires) {
		return c.token, nil
	}
	form := url.Values{"grant_type": {"client_credentials"}, "token_type": {"jwt"}}
	endpoint := c.base + "/oauth2/access_token"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.SetBasicAuth(c.clientID, c.clientSecret)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	res, err := c.hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("OAuth2 token: POST %s: %w", endpoint, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return "", fmt.Errorf("OAuth2 token: POST %s: %w", endpoint, err)
	}
	if res.StatusCode/100 != 2 {
		hint := ""
		if res.StatusCode == http.StatusUnauthorized || res.StatusCode == http.StatusBadRequest {
			hint = " (check the client id and secret of a confidential client-credentials application)"
		}
		return "", fmt.Errorf("OAuth2 token: POST %s: %s%s: %s", endpoint, res.Status, hint, snippet(body))
	}
	var tok struct {
		AccessToken string  `json:"access_token"`
		TokenType   string  `json:"token_type"`
		ExpiresIn   float64 `json:"expires_in"`
	}
	if err := json.Unmarshal(body, &tok); err != nil || tok.AccessToken == "" {
		return "", fmt.Errorf("OAuth2 token: POST %s: no access_token in the answer: %s", endpoint, snippet(body))
	}
	life := time.Duration(tok.ExpiresIn * float64(time.Second))
	if life <= 0 {
		life = time.Hour // the platform's default lifetime
	}
	c.token = tok.AccessToken
	c.expires = c.now().Add(life - min(tokenMargin, life/2))
	return c.token, nil
}

// dropToken forgets tok if it is still the cached token.
func (c *BlocksClient) dropToken(tok string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.token == tok {
		c.token = ""
	}
}

// snippet returns the start of an answer body for an error message.
func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	if s == "" {
		return "(empty body)"
	}
	return s
}

// rawFromType gives the raw maximum of block types whose max_score() does
// not depend on content the API hides (see scoreRules for the sources).
func rawFromType(typ string, weight *float64) (float64, bool) {
	switch typ {
	case "drag-and-drop-v2", "done":
		return 1, true
	case "staffgradedxblock", "lti", "lti_consumer":
		if weight != nil {
			return *weight, true
		}
		return 1, true
	}
	return 0, false
}

// blocksBuilder turns a Blocks API answer into an outline.
type blocksBuilder struct {
	resp      *apiResponse
	grades    map[string]float64
	maxCounts map[string]int
	warnings  []string
	onPath    map[string]bool
	// courseStart is the root's start (the platform default when unset).
	courseStart time.Time
}

func (b *blocksBuilder) warnf(key, format string, args ...any) {
	b.warnings = append(b.warnings, key+": "+fmt.Sprintf(format, args...))
}

func buildFromBlocks(courseID string, resp *apiResponse, grades map[string]float64, maxCounts map[string]int) (*Outline, error) {
	root, ok := resp.Blocks[resp.Root]
	if resp.Root == "" || !ok {
		return nil, fmt.Errorf("root %q is not among the %d blocks returned", resp.Root, len(resp.Blocks))
	}
	b := &blocksBuilder{resp: resp, grades: grades, maxCounts: maxCounts, onPath: map[string]bool{resp.Root: true}}
	o := &Outline{CourseID: courseID, DisplayName: root.DisplayName, Chapters: []Chapter{}, Structure: StructureVersion}
	// The API gives each block's (inherited) start and
	// visible_to_staff_only; merged down the tree they are what the
	// platform merges. It gives no group_access, user partitions,
	// cohort_config, days_early_for_beta or self_paced (docs/OUTLINES.md).
	var err error
	if o.Start, err = apiDate(root.Start); err != nil {
		b.warnf(resp.Root, "start: %v; the platform default applies", err)
	}
	b.courseStart = o.CourseStart()
	acc := merged{start: b.courseStart, staffOnly: staffOnly(root), groups: map[int][]int{}}
	for _, chKey := range root.Children {
		ch, ok := b.child(resp.Root, chKey)
		if !ok {
			continue
		}
		chAcc := b.merge(acc, chKey, ch)
		chapter := Chapter{UsageKey: chKey, DisplayName: ch.DisplayName, Subsections: []Subsection{}, Access: chAcc.export(b.courseStart)}
		b.onPath[chKey] = true
		for _, subKey := range ch.Children {
			s, ok := b.child(chKey, subKey)
			if !ok {
				continue
			}
			sub, err := b.subsection(subKey, s, b.merge(chAcc, subKey, s))
			if err != nil {
				return nil, err
			}
			chapter.Subsections = append(chapter.Subsections, sub)
		}
		delete(b.onPath, chKey)
		o.Chapters = append(o.Chapters, chapter)
	}
	o.Warnings = b.warnings
	return o, nil
}

func staffOnly(a apiBlock) bool { return a.VisibleToStaffOnly != nil && *a.VisibleToStaffOnly }

// merge is a block's merged access under its parent's: the later start and
// either's staff-only flag.
func (b *blocksBuilder) merge(parent merged, key string, a apiBlock) merged {
	m := merged{start: parent.start, staffOnly: parent.staffOnly || staffOnly(a), groups: parent.groups}
	t, err := apiDate(a.Start)
	if err != nil {
		b.warnf(key, "start: %v; ignored", err)
	} else if t != nil && t.After(m.start) {
		m.start = *t
	}
	return m
}

// child looks up a child block, skipping (with a warning) one the answer
// does not hold and one that would close a cycle.
func (b *blocksBuilder) child(parent, key string) (apiBlock, bool) {
	a, ok := b.resp.Blocks[key]
	switch {
	case !ok:
		b.warnf(parent, "child %s is not among the blocks returned; skipped", key)
		return a, false
	case b.onPath[key]:
		b.warnf(parent, "child %s is its own ancestor; skipped", key)
		return a, false
	}
	return a, true
}

func (b *blocksBuilder) subsection(key string, a apiBlock, acc merged) (Subsection, error) {
	sub := Subsection{UsageKey: key, DisplayName: a.DisplayName, Graded: a.Graded != nil && *a.Graded, Blocks: []Block{},
		Access: acc.export(b.courseStart)}
	if a.Format != nil {
		sub.Format = *a.Format
	}
	var err error
	if sub.Start, err = apiDate(a.Start); err != nil {
		b.warnf(key, "start: %v; left unset", err)
	}
	if sub.Due, err = apiDate(a.Due); err != nil {
		b.warnf(key, "due: %v; left unset", err)
	}
	seen := map[string]bool{}
	b.onPath[key] = true
	defer delete(b.onPath, key)
	return sub, b.walk(&sub, key, a, acc, "", seen, 0)
}

func apiDate(s *string) (*time.Time, error) {
	if s == nil || *s == "" {
		return nil, nil
	}
	t, err := parseDate(*s)
	if err != nil {
		return nil, err
	}
	return &t, nil
}

// walk collects the scorable descendants of a (already known visible).
func (b *blocksBuilder) walk(sub *Subsection, key string, a apiBlock, acc merged, lib string, seen map[string]bool, depth int) error {
	if depth > maxTreeDepth {
		return fmt.Errorf("%s: blocks nested more than %d deep", key, maxTreeDepth)
	}
	for _, ck := range a.Children {
		c, ok := b.child(key, ck)
		if !ok {
			continue
		}
		cAcc := b.merge(acc, ck, c)
		if c.HasScore != nil && *c.HasScore {
			b.scorable(sub, ck, c, cAcc, lib, seen)
			continue
		}
		childLib := lib
		if libraryTypes[c.Type] {
			childLib = ck
		}
		first := len(sub.Blocks)
		b.onPath[ck] = true
		err := b.walk(sub, ck, c, cAcc, childLib, seen, depth+1)
		delete(b.onPath, ck)
		if err != nil {
			return err
		}
		if libraryTypes[c.Type] {
			l := Library{UsageKey: ck, MaxCount: 1, Children: []string{}, Access: cAcc.export(b.courseStart)}
			if n, ok := b.maxCounts[ck]; ok {
				l.MaxCount = max(n, -1)
			} else {
				b.warnf(ck, "the Blocks API does not expose max_count; the field default 1 is assumed")
			}
			for _, blk := range sub.Blocks[first:] {
				if blk.Library == ck {
					l.Children = append(l.Children, blk.UsageKey)
				}
			}
			sub.Libraries = append(sub.Libraries, l)
		}
	}
	return nil
}

func (b *blocksBuilder) scorable(sub *Subsection, key string, a apiBlock, acc merged, lib string, seen map[string]bool) {
	if seen[key] {
		b.warnf(key, "appears twice in subsection %s; counted once", sub.UsageKey)
		return
	}
	seen[key] = true
	blk := Block{UsageKey: key, Type: a.Type, Weight: a.Weight, Graded: a.Graded != nil && *a.Graded, Library: lib, Access: acc.export(b.courseStart)}
	if raw, ok := rawFromType(a.Type, a.Weight); ok {
		blk.RawPossible = raw
	} else if g, ok := b.grades[key]; ok {
		blk.RawPossible = g
	} else {
		blk.RawUnknown = true
		if a.Weight == nil {
			b.warnf(key, "unweighted %s with no max_grade recorded in courseware_studentmodule: raw maximum unknown, counted as 0 possible points until a learner answers it", a.Type)
		}
	}
	sub.Blocks = append(sub.Blocks, blk)
}
