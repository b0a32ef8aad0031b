package course

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"
)

// archiveEntry is one entry of a test archive: a file of data, or of size
// zero bytes when data is nil.
type archiveEntry struct {
	name string
	data []byte
	size int64
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// writeArchive writes the files under dir (named prefix + their path) and
// extra entries as a .tar.gz to a temporary file, and returns its path.
func writeArchive(t testing.TB, dir, prefix string, extra ...archiveEntry) string {
	t.Helper()
	var entries []archiveEntry
	if dir != "" {
		err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
			if err != nil || info.IsDir() {
				return err
			}
			data, err := os.ReadFile(p)
			rel, _ := filepath.Rel(dir, p)
			entries = append(entries, archiveEntry{name: prefix + filepath.ToSlash(rel), data: data})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	p := filepath.Join(t.TempDir(), "export.tar.gz")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, _ := gzip.NewWriterLevel(f, gzip.BestSpeed)
	tw := tar.NewWriter(gz)
	for _, e := range append(entries, extra...) {
		var r io.Reader = zeroReader{}
		size := e.size
		if e.data != nil {
			r, size = bytes.NewReader(e.data), int64(len(e.data))
		}
		if err := tw.WriteHeader(&tar.Header{Name: e.name, Mode: 0o644, Size: size, Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := io.CopyN(tw, r, size); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

// peakHeap runs f and returns about the most heap it held at once beyond
// what was in use before (sampled every half millisecond).
func peakHeap(f func()) uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m)
	base, peak := m.HeapAlloc, m.HeapAlloc
	done := make(chan bool)
	go func() {
		tick := time.NewTicker(500 * time.Microsecond)
		defer tick.Stop()
		for {
			var s runtime.MemStats
			runtime.ReadMemStats(&s)
			peak = max(peak, s.HeapAlloc)
			select {
			case <-done:
				done <- true
				return
			case <-tick.C:
			}
		}
	}()
	f()
	done <- true
	<-done
	return peak - min(base, peak)
}

// A real export with a static asset over 64 MiB (which the outline never
// needs) imports, and the asset is read through, not into memory: the
// import allocates a small fraction of it. So does its HTML.
func TestArchiveSkipsStaticAssets(t *testing.T) {
	want, err := ImportOLX("testdata/basic", ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p := writeArchive(t, "testdata/basic/course", "course/",
		archiveEntry{name: "course/static/lecture.mp4", size: 65 << 20},
		archiveEntry{name: "course/static/handout.xml", size: 20 << 20},
		archiveEntry{name: "course/html/big.html", size: 20 << 20})
	var o *Outline
	n := peakHeap(func() { o, err = ImportOLX(p, ImportOptions{}) })
	if err != nil {
		t.Fatal(err)
	}
	if o.Version != want.Version || !reflect.DeepEqual(o.Summarize(), want.Summarize()) {
		t.Errorf("archive with assets: version %s, the folder's %s", o.Version, want.Version)
	}
	if n > 16<<20 {
		t.Errorf("importing an archive with 105 MiB of assets held %d MiB: the assets were read into memory", n>>20)
	}
}

// Each limit on what one archive may cost is enforced with an error
// naming it, before the archive's cost exceeds it.
func TestArchiveLimits(t *testing.T) {
	defer func(l ArchiveLimits) { archiveLimits = l }(archiveLimits)
	archiveLimits = ArchiveLimits{Bytes: 4 << 20, Entries: 200, FileBytes: 64 << 10, KeptBytes: 512 << 10}
	var many []archiveEntry
	for i := range 200 {
		many = append(many, archiveEntry{name: fmt.Sprintf("course/static/f%d.png", i)})
	}
	var kept []archiveEntry
	for i := range 10 {
		kept = append(kept, archiveEntry{name: fmt.Sprintf("course/problem/big%d.xml", i), size: 60 << 10})
	}
	for _, tc := range []struct {
		name  string
		extra []archiveEntry
		want  string
	}{
		{"entries", many, "more than 200 entries, the limit on entries of an archive"},
		{"bytes", []archiveEntry{{name: "course/static/video.mp4", size: 5 << 20}}, "more than 4194304 bytes uncompressed, the limit on an archive's size"},
		{"file", []archiveEntry{{name: "course/problem/huge.xml", size: 65 << 10}}, "course/problem/huge.xml is 66560 bytes, more than 65536, the limit on one XML or JSON file"},
		{"kept", kept, "its XML and JSON files hold more than 524288 bytes, the limit on what is read into memory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := writeArchive(t, "testdata/basic/course", "course/", tc.extra...)
			_, err := ImportOLX(p, ImportOptions{})
			if !errors.Is(err, ErrArchiveLimit) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), p) {
				t.Errorf("err = %v, want ErrArchiveLimit naming %s and saying %q", err, p, tc.want)
			}
		})
	}
	// Within every limit, the same archive imports.
	if _, err := ImportOLX(writeArchive(t, "testdata/basic/course", "course/", many[:100]...), ImportOptions{}); err != nil {
		t.Errorf("an archive within the limits: %v", err)
	}
}

// An archive of a million empty entries (which took 650 MB) fails at the
// entry limit holding next to nothing: the skipped entries are not kept.
func TestArchiveManyEntries(t *testing.T) {
	var extra []archiveEntry
	for i := range DefaultArchiveLimits.Entries + 1 {
		extra = append(extra, archiveEntry{name: fmt.Sprintf("course/static/e%07d", i)})
	}
	p := writeArchive(t, "", "", extra...)
	extra = nil
	var err error
	n := peakHeap(func() { _, err = ImportOLX(p, ImportOptions{}) })
	if !errors.Is(err, ErrArchiveLimit) || !strings.Contains(err.Error(), "entries") {
		t.Errorf("err = %v, want the entry limit", err)
	}
	if n > 16<<20 {
		t.Errorf("reading %d empty entries held %d MiB", DefaultArchiveLimits.Entries+1, n>>20)
	}
}

func TestKeptInArchive(t *testing.T) {
	for name, want := range map[string]bool{
		"course.xml": true, "course/course.xml": true, "course/chapter/c.xml": true, "policies/r/policy.json": true,
		"course/policies/r/grading_policy.json": true, "course/problem/P.XML": true,
		"course/static/a.xml": false, "static/b.json": false, "course/static/x/y.xml": false,
		"course/html/h.html": false, "course/static/video.mp4": false, "course/about/overview.html": false,
	} {
		if got := keptInArchive(name); got != want {
			t.Errorf("keptInArchive(%q) = %v, want %v", name, got, want)
		}
	}
}
