package course

import (
	"fmt"
	"regexp"
	"strings"
)

// Key is a parsed course run key.
type Key struct {
	Org, Course, Run string
	// Legacy is set for old-Mongo keys written Org/Course/Run.
	Legacy bool
}

// keyPart is what opaque-keys allows in a course key component.
var keyPart = regexp.MustCompile(`^[\w\-~.:%]+$`)

// ParseKey parses course-v1:Org+Course+Run or the legacy Org/Course/Run.
// Keys compare case-sensitively, as the platform's CourseKey does.
func ParseKey(s string) (Key, error) {
	bad := func(why string) (Key, error) {
		return Key{}, fmt.Errorf("malformed course id %q: %s (want course-v1:Org+Course+Run)", s, why)
	}
	var parts []string
	legacy := false
	switch {
	case strings.HasPrefix(s, "course-v1:"):
		parts = strings.Split(strings.TrimPrefix(s, "course-v1:"), "+")
	case strings.Count(s, "/") == 2 && !strings.Contains(s, ":"):
		parts = strings.Split(s, "/")
		legacy = true
	default:
		return bad("unknown form")
	}
	if len(parts) != 3 {
		return bad("need three parts, org, course and run")
	}
	for _, p := range parts {
		if p == "" || !keyPart.MatchString(p) {
			return bad(fmt.Sprintf("bad part %q", p))
		}
	}
	return Key{Org: parts[0], Course: parts[1], Run: parts[2], Legacy: legacy}, nil
}

// String returns the key's canonical text.
func (k Key) String() string {
	if k.Legacy {
		return k.Org + "/" + k.Course + "/" + k.Run
	}
	return "course-v1:" + k.Org + "+" + k.Course + "+" + k.Run
}

// UsageKey returns the usage key of block id of type typ in this course:
// block-v1:{org}+{course}+{run}+type@{typ}+block@{id}, or the i4x form for a
// legacy course.
func (k Key) UsageKey(typ, id string) string {
	if k.Legacy {
		return "i4x://" + k.Org + "/" + k.Course + "/" + typ + "/" + id
	}
	return "block-v1:" + k.Org + "+" + k.Course + "+" + k.Run + "+type@" + typ + "+block@" + id
}

// IsCourseKey reports whether s is a course run key (not a library, CCX or
// other learning context).
func IsCourseKey(s string) bool {
	_, err := ParseKey(s)
	return err == nil
}

// BlockID returns the block id (the part after block@, or the last path
// element of an i4x key) of a usage key.
func BlockID(usageKey string) string {
	if i := strings.LastIndex(usageKey, "block@"); i >= 0 {
		return usageKey[i+len("block@"):]
	}
	if i := strings.LastIndex(usageKey, "/"); i >= 0 {
		return usageKey[i+1:]
	}
	return usageKey
}

// BlockType returns the block type of a usage key.
func BlockType(usageKey string) string {
	if i := strings.Index(usageKey, "+type@"); i >= 0 {
		rest := usageKey[i+len("+type@"):]
		t, _, _ := strings.Cut(rest, "+")
		return t
	}
	if strings.HasPrefix(usageKey, "i4x://") {
		p := strings.Split(strings.TrimPrefix(usageKey, "i4x://"), "/")
		if len(p) == 4 {
			return p[2]
		}
	}
	return ""
}
