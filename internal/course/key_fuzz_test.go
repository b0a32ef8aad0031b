package course

import (
	"strings"
	"testing"
)

// FuzzKeys checks course and usage keys on arbitrary text: ParseKey never
// panics, a key it accepts prints back as the text it was given and parses
// again to itself, an error quotes the input, and a usage key built from a
// valid block type and id gives them back.
func FuzzKeys(f *testing.F) {
	for _, s := range [][3]string{
		{"course-v1:OpenedX+DemoX+DemoCourse", "problem", "a1b2"},
		{"edX/DemoX/Demo_Course", "sequential", "basic_questions"},
		{"course-v1:A+B+C+D", "type@x", "block@y"},
		{"course-v1:a.b~c-d+e:f+g%20h", "html", "x.y"},
		{"library-v1:Org+Lib", "chapter", ""},
		{"ccx-v1:Org+C+R+ccx@3", "vertical", "v"},
		{"a/b/c:d", "problem", "p/q"},
		{"course-v1:++", "", "+"},
		{"course-v1:Org+Cöurse+Rün", "problem", "ü"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, s, typ, id string) {
		k, err := ParseKey(s)
		if err != nil {
			if !strings.Contains(err.Error(), "malformed course id") {
				t.Errorf("ParseKey(%q): %v", s, err)
			}
			if IsCourseKey(s) {
				t.Errorf("IsCourseKey(%q) despite %v", s, err)
			}
			return
		}
		if k.String() != s {
			t.Errorf("ParseKey(%q).String() = %q", s, k.String())
		}
		if again, err := ParseKey(k.String()); err != nil || again != k {
			t.Errorf("%q parses to %+v, which prints as %q, which parses to %+v, %v", s, k, k.String(), again, err)
		}
		if !keyPart.MatchString(typ) || !keyPart.MatchString(id) {
			return
		}
		u := k.UsageKey(typ, id)
		if BlockType(u) != typ || BlockID(u) != id {
			t.Errorf("UsageKey(%q, %q) = %q: type %q, id %q", typ, id, u, BlockType(u), BlockID(u))
		}
	})
}
