package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The dashboard's files. Everything under static/ is served as is; the
// page templates are not served directly.
//
//go:embed static
var staticFS embed.FS

//go:embed templates
var templateFS embed.FS

// contentTypes are the types of the files the dashboard ships, set here
// rather than taken from the operating system's MIME table, which varies
// between machines (and a module script is refused unless its type is a
// JavaScript one).
var contentTypes = map[string]string{
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
	".png":  "image/png",
	".ico":  "image/x-icon",
	".txt":  "text/plain; charset=utf-8",
	".md":   "text/plain; charset=utf-8",
	".map":  "application/json",
	".json": "application/json",
}

// asset is one embedded file, ready to serve.
type asset struct {
	body  []byte
	gz    []byte // gzip-compressed body, when that is worth it
	ctype string
	etag  string
}

// assets are the embedded files and the version that names them.
type assets struct {
	files map[string]*asset // by path below static/
	// version is a digest of every file: it changes whenever one does, so
	// a URL with it can be cached for good.
	version string
	prefix  string // staticPath + version
}

// loadAssets reads and prepares the embedded files.
func loadAssets() (*assets, error) {
	as := &assets{files: map[string]*asset{}}
	var names []string
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(p, "static/")
		ext := path.Ext(name)
		ct, ok := contentTypes[ext]
		if !ok {
			ct = mime.TypeByExtension(ext)
		}
		if ct == "" {
			ct = "application/octet-stream"
		}
		sum := sha256.Sum256(body)
		a := &asset{body: body, ctype: ct, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
		if compressible(ct) && len(body) > 1024 {
			var b bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
			zw.Write(body)
			if err := zw.Close(); err != nil {
				return err
			}
			if b.Len() < len(body) {
				a.gz = b.Bytes()
			}
		}
		as.files[name] = a
		names = append(names, name)
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		h.Write([]byte(n + "\x00" + as.files[n].etag + "\x00"))
	}
	as.version = hex.EncodeToString(h.Sum(nil)[:6])
	as.prefix = staticPath + as.version
	return as, nil
}

func compressible(ct string) bool {
	return strings.HasPrefix(ct, "text/") || strings.HasPrefix(ct, "application/json") || ct == "image/svg+xml"
}

// serveAsset serves /figures/static/<version>/<file>. The current version's
// files are cached for a year (immutable: the version changes with their
// content); another version's URL, from a page loaded before an upgrade,
// still gets the current file, revalidated every time, rather than a
// broken page.
func (h *Handler) serveAsset(w http.ResponseWriter, r *http.Request) {
	a, ok := h.assets.files[r.PathValue("file")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", a.ctype)
	hd.Set("ETag", a.etag)
	if r.PathValue("version") == h.assets.version {
		hd.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		hd.Set("Cache-Control", "no-cache")
	}
	body := a.body
	if a.gz != nil {
		hd.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r) {
			hd.Set("Content-Encoding", "gzip")
			// The compressed body is another representation: its own tag,
			// so that a cache never serves one for the other.
			hd.Set("ETag", strings.TrimSuffix(a.etag, `"`)+`-gz"`)
			body = a.gz
		}
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

// acceptsGzip reports whether the request accepts a gzip-encoded answer.
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			continue
		}
		q := 1.0
		for _, p := range strings.Split(params, ";") {
			k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
			if strings.EqualFold(k, "q") {
				if f, err := strconv.ParseFloat(v, 64); err == nil {
					q = f
				}
			}
		}
		return q > 0
	}
	return false
}
