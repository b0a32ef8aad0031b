package api

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// pager is a pagination style: how a request names its page, and the JSON
// envelope around the results.
type pager interface {
	// window returns the rows to answer, given how many there are.
	window(q url.Values, count int) (limit, offset int, err error)
	// head returns the envelope up to and including `"results":[`.
	head(link func(url.Values) string, q url.Values, count, limit, offset int) []byte
}

// positiveInt parses a strictly positive integer, as DRF's _positive_int
// with strict=True; ok is false for anything else.
func positiveInt(s string) (int, bool) {
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return 0, false
	}
	return n, true
}

// maxLimit is the largest ?limit= a JSON page answers: a larger one is
// cut to it, as DRF's LimitOffsetPagination does with max_limit set (the
// original left max_limit unset). It is the L1000 lists' default page, so
// a client that follows next still gets every row.
const maxLimit = 1000

// limitOffset is DRF's LimitOffsetPagination: ?limit= (an invalid, zero
// or negative value gives the default; above maxLimit, maxLimit) and
// ?offset= (invalid or negative gives 0), envelope
// {"count","next","previous","results"}.
type limitOffset struct{ def int }

func (p limitOffset) window(q url.Values, _ int) (int, int, error) {
	limit, ok := positiveInt(q.Get("limit"))
	if !ok {
		limit = p.def
	}
	limit = min(limit, maxLimit)
	offset, err := strconv.Atoi(q.Get("offset"))
	if err != nil || offset < 0 {
		offset = 0
	}
	return limit, offset, nil
}

func (p limitOffset) head(link func(url.Values) string, q url.Values, count, limit, offset int) []byte {
	var next, prev []byte
	// limit < count-offset is offset+limit < count without the overflow
	// of an offset near the largest integer.
	if limit < count-offset {
		v := cloneValues(q)
		v.Set("limit", strconv.Itoa(limit))
		v.Set("offset", strconv.Itoa(offset+limit))
		next = jsonString(link(v))
	}
	if offset > 0 {
		v := cloneValues(q)
		v.Set("limit", strconv.Itoa(limit))
		if offset-limit <= 0 {
			v.Del("offset")
		} else {
			v.Set("offset", strconv.Itoa(offset-limit))
		}
		prev = jsonString(link(v))
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, `{"count":%d,"next":%s,"previous":%s,"results":[`, count, orNull(next), orNull(prev))
	return b.Bytes()
}

// pageNumber is the LMS's default pagination (edx-drf-extensions
// DefaultPagination), which the original's MAU snapshot endpoints inherited:
// ?page= and ?page_size= (default 10, at most 100), envelope
// {"next","previous","count","num_pages","current_page","start","results"}.
type pageNumber struct{ def, max int }

func (p pageNumber) size(q url.Values) int {
	n, ok := positiveInt(q.Get("page_size"))
	if !ok {
		return p.def
	}
	return min(n, p.max)
}

func numPages(count, size int) int {
	if count == 0 {
		return 1 // Django's Paginator allows an empty first page
	}
	return (count + size - 1) / size
}

func (p pageNumber) page(q url.Values, count int) (int, error) {
	size := p.size(q)
	pages := numPages(count, size)
	v := q.Get("page")
	switch v {
	case "":
		return 1, nil
	case "last":
		return pages, nil
	}
	n, ok := positiveInt(v)
	if !ok || n > pages {
		return 0, &StatusError{Status: http.StatusNotFound, Detail: "Invalid page."}
	}
	return n, nil
}

func (p pageNumber) window(q url.Values, count int) (int, int, error) {
	page, err := p.page(q, count)
	if err != nil {
		return 0, 0, err
	}
	size := p.size(q)
	return size, (page - 1) * size, nil
}

func (p pageNumber) head(link func(url.Values) string, q url.Values, count, limit, offset int) []byte {
	page := offset/limit + 1
	pages := numPages(count, limit)
	var next, prev []byte
	if page < pages {
		v := cloneValues(q)
		v.Set("page", strconv.Itoa(page+1))
		next = jsonString(link(v))
	}
	if page > 1 {
		v := cloneValues(q)
		if page-1 == 1 {
			v.Del("page")
		} else {
			v.Set("page", strconv.Itoa(page-1))
		}
		prev = jsonString(link(v))
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, `{"next":%s,"previous":%s,"count":%d,"num_pages":%d,"current_page":%d,"start":%d,"results":[`,
		orNull(next), orNull(prev), count, pages, page, offset)
	return b.Bytes()
}

func orNull(b []byte) []byte {
	if b == nil {
		return []byte("null")
	}
	return b
}

func cloneValues(q url.Values) url.Values {
	v := url.Values{}
	for k, vs := range q {
		v[k] = append([]string(nil), vs...)
	}
	return v
}

// pageLink returns the function that makes a pagination link for the
// request: its absolute URL with the query replaced. Like DRF, the query is
// re-encoded with its keys sorted.
func (s *Server) pageLink(r *http.Request) func(url.Values) string {
	base := s.baseURL(r) + r.URL.Path
	return func(v url.Values) string {
		if len(v) == 0 {
			return base
		}
		return base + "?" + v.Encode()
	}
}
