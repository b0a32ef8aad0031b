package course

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"testing/fstest"
)

// A .tar.gz export is read in one pass, as a stream: only the entries an
// outline can need — the XML definitions and the JSON policies — are kept,
// in memory; every other entry (static assets, HTML bodies, anything under
// static/) is read through without being held. What one archive may cost
// is bounded, each limit named in the error of an archive that exceeds it.

// ArchiveLimits bound what reading one .tar.gz export may cost.
type ArchiveLimits struct {
	// Bytes is the most uncompressed bytes the archive may hold, in all
	// its entries, kept or not: the bound on the time spent reading it.
	Bytes int64
	// Entries is the most entries (files, folders, links) it may hold.
	Entries int
	// FileBytes is the largest XML or JSON file kept.
	FileBytes int64
	// KeptBytes is the most bytes of XML and JSON kept in all: the bound
	// on memory.
	KeptBytes int64
}

// DefaultArchiveLimits are far above any real course export: the two
// demo courses hold 0.5 MB of XML and JSON in 300 files; a large course's
// XML is tens of megabytes; its videos and documents, which may run to
// gigabytes, are read through and dropped.
var DefaultArchiveLimits = ArchiveLimits{
	Bytes:     8 << 30,
	Entries:   200_000,
	FileBytes: 16 << 20,
	KeptBytes: 128 << 20,
}

// keptOverhead is what keeping one file costs beyond its name and data
// (its map entry and descriptor), counted against KeptBytes so that many
// empty files are bounded too.
const keptOverhead = 160

// archiveLimits are the limits readArchive applies (tests lower them).
var archiveLimits = DefaultArchiveLimits

// ErrArchiveLimit is wrapped by the error of an archive that exceeds one
// of its limits.
var ErrArchiveLimit = errors.New("archive exceeds a limit")

// keptInArchive reports whether an archive entry can matter to an
// outline: an XML or JSON file outside the static/ folder (at the
// archive's root or one folder down, where course.xml may be).
func keptInArchive(name string) bool {
	ext := strings.ToLower(path.Ext(name))
	if ext != ".xml" && ext != ".json" {
		return false
	}
	parts := strings.SplitN(name, "/", 3)
	return parts[0] != "static" && (len(parts) < 3 || parts[1] != "static")
}

// readArchive reads the .tar.gz export at p and returns the folder
// holding course.xml (the archive root, or the one top-level folder that
// holds it) with the entries an outline needs.
func readArchive(p string) (fs.FS, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	files, err := readArchiveFrom(f, archiveLimits)
	if err != nil {
		return nil, err
	}
	return exportRoot(files)
}

// readArchiveFrom reads a .tar.gz stream, keeping the entries an outline
// needs, within lim.
func readArchiveFrom(r io.Reader, lim ArchiveLimits) (fstest.MapFS, error) {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("not a .tar.gz archive: %w", err)
	}
	defer gz.Close()
	tr := tar.NewReader(gz)
	files := fstest.MapFS{}
	limit := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s (extract it and import the folder if the course is real)", ErrArchiveLimit, fmt.Sprintf(format, args...))
	}
	var total, kept int64
	for entries := 1; ; entries++ {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading archive: %w", err)
		}
		if entries > lim.Entries {
			return nil, limit("more than %d entries, the limit on entries of an archive", lim.Entries)
		}
		// Read through, kept or not: the next header is after the data.
		total += max(h.Size, 0)
		if total > lim.Bytes {
			return nil, limit("more than %d bytes uncompressed, the limit on an archive's size", lim.Bytes)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		name := path.Clean(strings.TrimPrefix(h.Name, "/"))
		if name == "." || name == ".." || strings.HasPrefix(name, "../") || !keptInArchive(name) {
			continue
		}
		if h.Size > lim.FileBytes {
			return nil, limit("%s is %d bytes, more than %d, the limit on one XML or JSON file", name, h.Size, lim.FileBytes)
		}
		kept += h.Size + int64(len(name)) + keptOverhead
		if kept > lim.KeptBytes {
			return nil, limit("its XML and JSON files hold more than %d bytes, the limit on what is read into memory", lim.KeptBytes)
		}
		data := make([]byte, h.Size)
		if _, err := io.ReadFull(tr, data); err != nil {
			return nil, fmt.Errorf("reading archive member %s: %w", name, err)
		}
		files[name] = &fstest.MapFile{Data: data, Mode: 0o444}
	}
	return files, nil
}

// exportRoot returns the folder of files holding course.xml: the root, or
// the one top-level folder that holds it.
func exportRoot(files fstest.MapFS) (fs.FS, error) {
	if _, ok := files["course.xml"]; ok {
		return files, nil
	}
	var roots []string
	for name := range files {
		if dir, base := path.Split(name); base == "course.xml" && strings.Count(dir, "/") == 1 {
			roots = append(roots, strings.TrimSuffix(dir, "/"))
		}
	}
	sort.Strings(roots)
	switch len(roots) {
	case 0:
		return nil, errors.New("no course.xml at the archive root or one folder down")
	case 1:
		return fs.Sub(files, roots[0])
	}
	return nil, fmt.Errorf("course.xml found in several folders (%s): which course to import is ambiguous", strings.Join(roots, ", "))
}
