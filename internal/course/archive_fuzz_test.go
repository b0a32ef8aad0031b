package course

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"testing"
)

// FuzzReadArchive feeds arbitrary bytes to the .tar.gz reader: it never
// panics, and whatever it returns holds only the entries an outline can
// need, within the limits it was given.
func FuzzReadArchive(f *testing.F) {
	pack := func(entries ...tar.Header) []byte {
		var buf bytes.Buffer
		gz := gzip.NewWriter(&buf)
		tw := tar.NewWriter(gz)
		for _, h := range entries {
			h.Mode = 0o644
			tw.WriteHeader(&h)
			tw.Write(bytes.Repeat([]byte("<a/>"), int(h.Size)/4))
			tw.Write(make([]byte, int(h.Size)%4))
		}
		tw.Close()
		gz.Close()
		return buf.Bytes()
	}
	valid := pack(tar.Header{Name: "course/course.xml", Size: 8, Typeflag: tar.TypeReg},
		tar.Header{Name: "course/chapter/c.xml", Size: 4, Typeflag: tar.TypeReg},
		tar.Header{Name: "course/static/x.png", Size: 100, Typeflag: tar.TypeReg})
	f.Add(valid)
	f.Add(valid[:len(valid)/2])
	f.Add(pack(tar.Header{Name: "./course.xml", Size: 4, Typeflag: tar.TypeReg}, tar.Header{Name: "d/", Typeflag: tar.TypeDir},
		tar.Header{Name: "l", Linkname: "/etc/passwd", Typeflag: tar.TypeSymlink}))
	f.Add(pack(tar.Header{Name: "../../evil.xml", Size: 4, Typeflag: tar.TypeReg}, tar.Header{Name: "/abs/policy.json", Size: 2, Typeflag: tar.TypeReg}))
	f.Add(pack(tar.Header{Name: "a/course.xml", Size: 4, Typeflag: tar.TypeReg}, tar.Header{Name: "b/course.xml", Size: 4, Typeflag: tar.TypeReg}))
	f.Add(pack(tar.Header{Name: "course/big.xml", Size: 70 << 10, Typeflag: tar.TypeReg}))
	f.Add([]byte("not gzip at all"))
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff})
	lim := ArchiveLimits{Bytes: 1 << 20, Entries: 100, FileBytes: 64 << 10, KeptBytes: 128 << 10}
	f.Fuzz(func(t *testing.T, data []byte) {
		files, err := readArchiveFrom(bytes.NewReader(data), lim)
		if err != nil {
			return
		}
		var kept int64
		for name, file := range files {
			if !keptInArchive(name) {
				t.Errorf("kept %q, which no outline needs", name)
			}
			if int64(len(file.Data)) > lim.FileBytes {
				t.Errorf("kept %q of %d bytes, over the %d limit", name, len(file.Data), lim.FileBytes)
			}
			kept += int64(len(file.Data)+len(name)) + keptOverhead
		}
		if kept > lim.KeptBytes || len(files) > lim.Entries {
			t.Errorf("kept %d files, %d bytes: over the limits %+v", len(files), kept, lim)
		}
		exportRoot(files)
	})
}
