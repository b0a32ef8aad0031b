package course

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// ImportOptions say how to import an OLX export.
type ImportOptions struct {
	// CourseID, when set, imports the export under this course key instead
	// of the one its course.xml names. Block ids are kept; org, course and
	// run may change, as a Studio import into another course does.
	CourseID string
}

const (
	// maxTreeDepth bounds how deep blocks may nest across pointer files
	// (course → chapter → sequential → vertical → … is 5 for a real course).
	maxTreeDepth = 64
)

// ImportOLX reads the OLX course export at path — a directory holding
// course.xml, a directory holding a course/ folder that does, or a .tar.gz
// with course.xml at its root or one folder down — and returns its outline.
//
// Malformed XML, a missing course.xml, policy or pointer target, and a
// pointer cycle are errors naming the file. Problems that leave the outline
// usable (an unknown block type, a problem the platform could not score, an
// inline block without url_name) are recorded in Outline.Warnings.
func ImportOLX(path string, opts ImportOptions) (*Outline, error) {
	fsys, err := openExport(path)
	if err != nil {
		return nil, fmt.Errorf("course %s: %w", path, err)
	}
	imp := &importer{src: path, fsys: fsys, onStack: map[string]bool{}}
	o, err := imp.run(opts)
	if err != nil {
		return nil, err
	}
	o.Source = "olx:" + path
	o.ComputeVersion()
	return o, nil
}

// Exports returns the course exports path names: path itself when it is
// an export (an archive, or a folder holding course.xml or course/course.xml),
// otherwise, for a folder of exports (what "figures seed" writes, or a
// folder of Studio downloads), its subfolders that are exports and its
// .tar.gz files, in name order. A folder holding neither is an error naming
// it.
func Exports(path string) ([]string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("course %s: %w", path, err)
	}
	if !st.IsDir() || isExportDir(path) {
		return []string{path}, nil
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return nil, fmt.Errorf("course %s: %w", path, err)
	}
	var out []string
	for _, e := range entries {
		p := filepath.Join(path, e.Name())
		// Stat, not the entry's type: a linked export counts too.
		est, err := os.Stat(p)
		if err != nil {
			continue
		}
		switch {
		case est.IsDir() && isExportDir(p):
			out = append(out, p)
		case est.Mode().IsRegular() && (strings.HasSuffix(e.Name(), ".tar.gz") || strings.HasSuffix(e.Name(), ".tgz")):
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("course %s: no course.xml in %s or %s, and no course export in it", path, path, filepath.Join(path, "course"))
	}
	return out, nil
}

func isExportDir(dir string) bool {
	for _, d := range []string{dir, filepath.Join(dir, "course")} {
		if _, err := os.Stat(filepath.Join(d, "course.xml")); err == nil {
			return true
		}
	}
	return false
}

// openExport returns a file system rooted at the folder holding course.xml.
func openExport(p string) (fs.FS, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		for _, dir := range []string{p, filepath.Join(p, "course")} {
			if _, err := os.Stat(filepath.Join(dir, "course.xml")); err == nil {
				return os.DirFS(dir), nil
			}
		}
		return nil, fmt.Errorf("no course.xml in %s or %s", p, filepath.Join(p, "course"))
	}
	return readArchive(p)
}

// importer builds one outline.
type importer struct {
	src  string
	fsys fs.FS
	key  Key
	// policy holds policy.json's per-block settings, keyed "{tag}/{url_name}".
	policy map[string]map[string]json.RawMessage
	// onStack holds the files being loaded by the current walk, to detect
	// pointer cycles.
	onStack  map[string]bool
	warnings []string
	// usedNames holds the url_names given so far per tag, pointers
	// included, as the platform's importer tracks them to keep names unique.
	usedNames map[string]map[string]bool
	// partitions are the course's partitions; known holds the ids whose
	// group_access restrictions count (active course partitions and the
	// enrollment track).
	partitions []Partition
	known      map[int]bool
	// courseStart is the course root's start.
	courseStart time.Time
}

// errf returns an error naming the export and the file.
func (imp *importer) errf(file, format string, args ...any) error {
	return fmt.Errorf("course %s: %s: %w", imp.src, file, fmt.Errorf(format, args...))
}

// warnf records a warning naming the file and the block.
func (imp *importer) warnf(file, block, format string, args ...any) {
	imp.warnings = append(imp.warnings, fmt.Sprintf("%s: %s: %s", file, block, fmt.Sprintf(format, args...)))
}

// readXML reads and parses one file of the export.
func (imp *importer) readXML(name string) (*element, error) {
	data, err := fs.ReadFile(imp.fsys, name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, imp.errf(name, "file missing: %w", err)
		}
		return nil, imp.errf(name, "%w", err)
	}
	el, err := parseXML(data)
	if err != nil {
		return nil, imp.errf(name, "malformed XML: %w", err)
	}
	return el, nil
}

func (imp *importer) run(opts ImportOptions) (*Outline, error) {
	courseXML, err := imp.readXML("course.xml")
	if err != nil {
		return nil, err
	}
	if courseXML.Tag != "course" {
		return nil, imp.errf("course.xml", "root element is <%s>, want <course>", courseXML.Tag)
	}
	// xmodule/modulestore/xml.py load_course: the run is url_name, else the
	// legacy slug, else the cleaned legacy name; a missing org is "edx".
	run, _ := courseXML.attr("url_name")
	if run == "" {
		run, _ = courseXML.attr("slug")
	}
	if v, ok := courseXML.attr("name"); run == "" && ok && v != "" {
		run = cleanName(v)
	}
	org, _ := courseXML.attr("org")
	number, _ := courseXML.attr("course")
	if opts.CourseID == "" {
		if _, ok := courseXML.attr("org"); !ok {
			org = "edx"
			imp.warnf("course.xml", "course", `no org attribute: "edx" is used, as the platform does`)
		}
		if run == "" || org == "" || number == "" {
			return nil, imp.errf("course.xml", `<course> needs url_name (or slug), org and course attributes (got url_name=%q org=%q course=%q)`, run, org, number)
		}
	}
	var key Key
	if opts.CourseID != "" {
		if key, err = ParseKey(opts.CourseID); err != nil {
			return nil, fmt.Errorf("course %s: --course-id: %w", imp.src, err)
		}
		if run == "" {
			run = key.Run
		}
	} else if key, err = ParseKey("course-v1:" + org + "+" + number + "+" + run); err != nil {
		return nil, imp.errf("course.xml", "%w", err)
	}
	imp.key = key
	imp.loadPolicy(run)

	// course.xml is normally a pointer to course/{run}.xml: exactly the
	// url_name (or slug), org and course attributes, nothing inside, as
	// is_pointer_tag has it once the slug became the url_name. An
	// old-style export defines the course in course.xml itself.
	root, rootFile := courseXML, "course.xml"
	names := map[string]bool{}
	for k := range courseXML.Attrs {
		names[k] = true
	}
	if names["slug"] && !names["url_name"] {
		delete(names, "slug")
		names["url_name"] = true
	}
	if len(courseXML.Children) == 0 && strings.TrimSpace(courseXML.Text) == "" && len(names) == 3 &&
		names["url_name"] && names["org"] && names["course"] {
		rootFile = "course/" + nameToPath(run) + ".xml"
		if root, err = imp.readXML(rootFile); err != nil {
			return nil, err
		}
		if root.Tag != "course" {
			imp.warnf(rootFile, "course", "root element is <%s>; loaded as the course, as the platform does", root.Tag)
		}
	}
	imp.usedNames = map[string]map[string]bool{"course": {run: true}}
	b := imp.newBlock(root, "course", run, rootFile)
	o := &Outline{CourseID: key.String(), DisplayName: b.attrs["display_name"], Chapters: []Chapter{}, Structure: StructureVersion}
	imp.courseSettings(o, b)
	ctx := inherited{}.apply(b)
	acc := imp.rootAccess(o, b)
	imp.onStack[rootFile] = true
	for _, child := range root.Children {
		if child.Tag == "wiki" || child.Tag == "textbook" {
			continue // the course wiki's slug and textbooks, not blocks
		}
		cb, err := imp.resolve(child, rootFile, 1, false)
		if err != nil {
			return nil, err
		}
		if cb == nil {
			continue
		}
		if cb.tag != "chapter" {
			imp.warnf(cb.file, cb.label(), "a <%s> directly under the course is graded as a chapter", cb.tag)
		}
		ch, err := imp.chapter(cb, ctx.apply(cb), acc)
		imp.leave(cb)
		if err != nil {
			return nil, err
		}
		o.Chapters = append(o.Chapters, ch)
	}
	o.Warnings = imp.warnings
	return o, nil
}

// loadPolicy reads policies/{run}/policy.json, or the older
// policies/{run}.json when the first is missing or unusable. As the
// platform's load_policy does, a malformed policy is warned about and
// ignored: the course still loads, without its policy settings.
func (imp *importer) loadPolicy(run string) {
	imp.policy = map[string]map[string]json.RawMessage{}
	for _, name := range []string{"policies/" + run + "/policy.json", "policies/" + run + ".json"} {
		data, err := fs.ReadFile(imp.fsys, name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			imp.warnf(name, "policy", "unreadable, ignored as the platform ignores it: %v", err)
			continue
		}
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(data, &raw); err != nil {
			imp.warnf(name, "policy", "malformed JSON, ignored as the platform ignores it (the course's policy settings are not applied): %v", err)
			continue
		}
		for k, v := range raw {
			var fields map[string]json.RawMessage
			if err := json.Unmarshal(v, &fields); err != nil {
				imp.warnf(name, k, "not an object of settings: ignored")
				continue
			}
			imp.policy[k] = fields
		}
		if len(imp.policy) > 0 {
			return
		}
	}
}

// block is a resolved OLX block: its definition element with the policy
// applied.
type block struct {
	tag, urlName string
	def          *element
	// attrs are the definition's attributes overridden by policy.json.
	attrs map[string]string
	// file is where the definition lives, for messages.
	file string
	// loaded holds the files loaded for the definition (a pointer's
	// target, a filename attribute's file), which the walk marks on its
	// stack while inside the block.
	loaded []string
}

func (b *block) label() string { return b.tag + " " + b.urlName }

// newBlock applies policy.json to a definition element.
func (imp *importer) newBlock(def *element, tag, urlName, file string) *block {
	b := &block{tag: tag, urlName: urlName, def: def, file: file, attrs: make(map[string]string, len(def.Attrs))}
	for k, v := range def.Attrs {
		b.attrs[k] = v
	}
	for field, raw := range imp.policy[tag+"/"+urlName] {
		b.attrs[field] = policyValue(raw)
	}
	return b
}

// policyValue turns a policy.json value into the attribute text an export
// would carry: strings as they are, null as "null", other JSON as written.
func policyValue(raw json.RawMessage) string {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s
	}
	return strings.TrimSpace(string(raw))
}

// nameToPath maps a url_name to its file path as the platform does
// (name_to_pathname): colons become directory separators.
func nameToPath(name string) string { return strings.ReplaceAll(name, ":", "/") }

// resolve turns a child element into a block as the platform's importer
// does (process_xml, then XmlMixin.parse_xml and load_definition): the
// element is named (see uniqueName); an element left with its url_name
// alone is a pointer to {tag}/{url_name}.xml, whatever that file's root
// tag; a definition with a filename attribute takes its content from
// {tag}/{filename}.xml, its own attributes winning. ascii says how the
// parent serializes its children (see lxmlString). depth bounds nesting
// across files. It returns nil, with a warning, for an element the
// platform loads as an error block.
func (imp *importer) resolve(el *element, file string, depth int, ascii bool) (*block, error) {
	if depth > maxTreeDepth {
		return nil, imp.errf(file, "line %d: blocks nested more than %d deep", el.Line, maxTreeDepth)
	}
	urlName, pointer, fallback, renamed := imp.uniqueName(el, file, ascii)
	if !pointer {
		def, loaded, err := imp.withFilename(el, el.Tag, file)
		if err != nil {
			return nil, err
		}
		b := imp.newBlock(def, el.Tag, urlName, file)
		b.loaded = loaded
		if len(loaded) > 0 {
			b.file = loaded[0]
		}
		return b, nil
	}
	target := el.Tag + "/" + nameToPath(urlName) + ".xml"
	if urlName == "" || !fs.ValidPath(target) {
		// An empty name, or one that would climb out of the export.
		return nil, imp.errf(file, "line %d: <%s url_name=%q> is not a usable url_name", el.Line, el.Tag, urlName)
	}
	if _, err := fs.Stat(imp.fsys, target); err != nil && (fallback || renamed) {
		// The platform's importer looks for a file under the name it gave
		// the element; there is none, so it loads an error block.
		why := "an empty <" + el.Tag + "> without any name"
		if renamed {
			why = fmt.Sprintf("a second <%s url_name=%q>, renamed %q", el.Tag, el.Attrs["url_name"], urlName)
		}
		imp.warnf(file, fmt.Sprintf("line %d <%s>", el.Line, el.Tag), "%s: the platform finds no %s and loads an error block in its place, which scores nothing", why, target)
		return nil, nil
	}
	if imp.onStack[target] {
		return nil, imp.errf(file, "line %d: <%s url_name=%q> points back to %s, which contains it (a cycle)", el.Line, el.Tag, urlName, target)
	}
	if k := kindOf(el.Tag); k == kindLeaf || k == kindHidden {
		// Nothing in a non-scorable leaf matters to the outline; checking
		// the file exists is enough.
		if _, err := fs.Stat(imp.fsys, target); err != nil {
			return nil, imp.errf(file, "line %d: <%s url_name=%q>: pointer target %s missing: %w", el.Line, el.Tag, urlName, target, err)
		}
		return &block{tag: el.Tag, urlName: urlName, def: el, attrs: map[string]string{}, file: target}, nil
	}
	def, err := imp.readXML(target)
	if err != nil {
		if _, serr := fs.Stat(imp.fsys, target); serr != nil {
			return nil, imp.errf(file, "line %d: <%s url_name=%q>: pointer target %s missing", el.Line, el.Tag, urlName, target)
		}
		return nil, err
	}
	if def.Tag != el.Tag {
		imp.warnf(target, el.Tag+" "+urlName, "root element is <%s>, but %s points to it as <%s>: loaded as a <%s>, as the platform does", def.Tag, file, el.Tag, el.Tag)
	}
	imp.onStack[target] = true
	loaded := []string{target}
	// A filename attribute names the file by the definition's own tag
	// (XmlMixin.load_definition).
	def2, more, err := imp.withFilename(def, def.Tag, target)
	if err != nil {
		delete(imp.onStack, target)
		return nil, err
	}
	b := imp.newBlock(def2, el.Tag, urlName, target)
	b.loaded = append(loaded, more...)
	return b, nil
}

// withFilename follows a definition's legacy filename attribute: the
// content of {tag}/{filename}.xml, with the definition's attributes added
// over the file root's (XmlMixin.load_definition). A definition without
// one is returned as it is.
func (imp *importer) withFilename(def *element, tag, file string) (*element, []string, error) {
	name, ok := def.Attrs["filename"]
	if !ok || kindOf(tag) == kindLeaf || kindOf(tag) == kindHidden {
		return def, nil, nil
	}
	target := tag + "/" + name + ".xml"
	if name == "" || !fs.ValidPath(target) {
		return nil, nil, imp.errf(file, "line %d: <%s filename=%q> is not a usable file name", def.Line, def.Tag, name)
	}
	if imp.onStack[target] {
		return nil, nil, imp.errf(file, "line %d: <%s filename=%q> points back to %s, which contains it (a cycle)", def.Line, def.Tag, name, target)
	}
	fdef, err := imp.readXML(target)
	if err != nil {
		return nil, nil, imp.errf(file, "line %d: <%s filename=%q>: %w", def.Line, def.Tag, name, err)
	}
	merged := *fdef
	merged.Attrs = make(map[string]string, len(fdef.Attrs)+len(def.Attrs))
	for k, v := range fdef.Attrs {
		merged.Attrs[k] = v
	}
	for k, v := range def.Attrs {
		merged.Attrs[k] = v
	}
	imp.onStack[target] = true
	return &merged, []string{target}, nil
}

// leave pops a block's files off the cycle-detection stack.
func (imp *importer) leave(b *block) {
	for _, f := range b.loaded {
		delete(imp.onStack, f)
	}
}

// invalidNameChars are the characters opaque-keys replaces in a derived
// block id (BlockUsageLocator.DEPRECATED_INVALID_CHARS).
var invalidNameChars = regexp.MustCompile(`[^\p{L}\p{N}_.%-]`)
var underscores = regexp.MustCompile(`_+`)

// needUniqueNames are the tags whose ids the platform keeps unique on import.
var needUniqueNames = map[string]bool{"problem": true, "sequential": true, "video": true, "course": true,
	"chapter": true, "poll_question": true, "vertical": true}

// fallbackPattern recognises a name the fallback rule made.
var fallbackPattern = regexp.MustCompile(`[0-9a-fA-F]{12}$`)

// uniqueName names an element as the platform's XML importer does
// (make_name_unique in xmodule/modulestore/xml.py), for every element, a
// pointer or not, in document order: url_name, else slug, else the cleaned
// name or display_name attribute; with none of those (or an empty one)
// "{tag}_" + the first 12 hex digits of the SHA-1 of the element's lxml
// serialization. A name already given to an element of the same tag is, for
// the tags that keep state (needUniqueNames), replaced by
// "{tag}_{name}_{hash}"; for other tags it is kept, and the two elements
// are one block. pointer reports whether the element, so named, is a
// pointer (is_pointer_tag: its url_name, or a slug turned url_name, alone,
// with no children and no text); fallback and renamed say which rule named
// it.
func (imp *importer) uniqueName(el *element, file string, ascii bool) (name string, pointer, fallback, renamed bool) {
	used := imp.usedNames[el.Tag]
	if used == nil {
		used = map[string]bool{}
		imp.usedNames[el.Tag] = used
	}
	attrs := len(el.Attrs)
	key, derived := "", false
	switch {
	case hasAttr(el, "url_name"):
		key, name = "url_name", el.Attrs["url_name"]
	case hasAttr(el, "slug"):
		key, name = "slug", el.Attrs["slug"]
		attrs-- // the slug is removed and becomes the url_name
	case hasAttr(el, "name"):
		key, name, derived = "name", cleanName(el.Attrs["name"]), true
	case hasAttr(el, "display_name"):
		key, name, derived = "display_name", cleanName(el.Attrs["display_name"]), true
	}
	if key != "url_name" {
		attrs++ // url_name is set on the element
	}
	hash := func(orig string) string {
		if strings.HasPrefix(orig, el.Tag) && fallbackPattern.MatchString(orig) && len(orig) >= len(el.Tag)+13 {
			orig = orig[len(el.Tag)+1 : len(orig)-12]
		}
		if orig != "" {
			orig = "_" + orig
		}
		sum := sha1.Sum([]byte(el.lxmlString(ascii)))
		return el.Tag + orig + "_" + hex.EncodeToString(sum[:])[:12]
	}
	at := fmt.Sprintf("line %d <%s>", el.Line, el.Tag)
	if name == "" {
		name, fallback = hash(""), true
		if kindOf(el.Tag) != kindLeaf {
			imp.warnf(file, at, "inline block without url_name, name or display_name: id %s derived from its content, as the platform derives it", name)
		}
	} else if derived && kindOf(el.Tag) != kindLeaf {
		imp.warnf(file, at, "inline block without url_name: id %q derived from its %s, as the platform does", name, key)
	}
	if used[name] && needUniqueNames[el.Tag] {
		old := name
		name, renamed = hash(old), true
		imp.warnf(file, at, "url_name %q is used twice: the platform renames the second %q", old, name)
	}
	used[name] = true
	pointer = attrs == 1 && len(el.Children) == 0 && strings.TrimSpace(el.Text) == ""
	return name, pointer, fallback, renamed
}

func hasAttr(el *element, name string) bool {
	_, ok := el.Attrs[name]
	return ok
}

// cleanName is opaque-keys' BlockUsageLocator.clean: invalid characters
// become "_" and runs of "_" collapse.
func cleanName(s string) string {
	return underscores.ReplaceAllString(invalidNameChars.ReplaceAllString(s, "_"), "_")
}

// setting is one inheritable field's value along the tree: unset, set to
// null (which the platform inherits as None), or set to a value.
type setting struct {
	set   bool
	value string
}

// inherited carries the inheritable fields the outline reports down the
// tree (InheritanceMixin in xmodule/modulestore/inheritance.py: graded,
// start and due; format is not inheritable). A block's explicit value,
// null included, replaces its parent's for it and its descendants.
type inherited struct {
	graded, start, due setting
}

// apply returns the values b sees: its own where set, its parent's
// otherwise.
func (in inherited) apply(b *block) inherited {
	out := in
	for field, dst := range map[string]*setting{"graded": &out.graded, "start": &out.start, "due": &out.due} {
		if v, ok := b.attrs[field]; ok {
			*dst = setting{set: true, value: v}
		}
	}
	return out
}

func (in inherited) isGraded() bool {
	return in.graded.set && !isNull(in.graded.value) && parseBool(in.graded.value)
}

// date parses an inherited date field; an unparseable one is warned about
// and treated as unset.
func (imp *importer) date(s setting, b *block, field string) *time.Time {
	if !s.set || isNull(s.value) || strings.TrimSpace(s.value) == "" {
		return nil
	}
	t, err := parseDate(s.value)
	if err != nil {
		imp.warnf(b.file, b.label(), "%s %q is not a date; left unset", field, s.value)
		return nil
	}
	return &t
}

var dateLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02",
}

// parseDate reads an XBlock Date field: ISO 8601, UTC when no zone is given;
// a JSON-quoted value is accepted too.
func parseDate(v string) (time.Time, error) {
	s := strings.Trim(strings.TrimSpace(v), `"`)
	if strings.HasSuffix(s, "+00:00") {
		s = strings.TrimSuffix(s, "+00:00") + "Z"
	}
	for _, l := range dateLayouts {
		if t, err := time.ParseInLocation(l, s, time.UTC); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("date %q: want ISO 8601", v)
}

// childrenOf returns the elements of a definition that are its child
// blocks, and how it serializes them: containers and libraries have
// children; a conditional's <show> elements are references, not children.
func childrenOf(b *block) ([]*element, bool) {
	switch kindOf(b.tag) {
	case kindContainer, kindLibrary:
	default:
		return nil, false
	}
	ascii := asciiChildren[b.tag]
	if b.tag != "conditional" {
		return b.def.Children, ascii
	}
	var out []*element
	for _, c := range b.def.Children {
		if c.Tag != "show" {
			out = append(out, c)
		}
	}
	return out, ascii
}

// asciiChildren are the containers that pass their children to the
// importer as etree.tostring(child) bytes (non-ASCII as character
// references) rather than unicode text, which changes a derived id's hash.
var asciiChildren = map[string]bool{"split_test": true, "library_content": true, "itembank": true, "conditional": true}

// chapter builds a chapter: any child of the course is one for grading;
// its children, whatever their type, are its subsections.
func (imp *importer) chapter(b *block, ctx inherited, parent merged) (Chapter, error) {
	acc := imp.merge(parent, b, nil)
	ch := Chapter{UsageKey: imp.key.UsageKey(b.tag, b.urlName), DisplayName: b.attrs["display_name"],
		Access: acc.export(imp.courseStart), Subsections: []Subsection{}}
	imp.noteHidden(b)
	kids, ascii := childrenOf(b)
	for _, child := range kids {
		sb, err := imp.resolve(child, b.file, 2, ascii)
		if err != nil {
			return ch, err
		}
		if sb == nil {
			continue
		}
		if sb.tag != "sequential" {
			imp.warnf(sb.file, sb.label(), "a <%s> directly under a chapter is graded as a subsection", sb.tag)
		}
		sub, err := imp.subsection(sb, ctx.apply(sb), acc)
		imp.leave(sb)
		if err != nil {
			return ch, err
		}
		ch.Subsections = append(ch.Subsections, sub)
	}
	return ch, nil
}

// subsection builds a subsection. The grades app scores a subsection by a
// post-order walk from the subsection block itself (scores.py
// possibly_scored), so a scorable block placed directly under a chapter
// scores its own points.
func (imp *importer) subsection(b *block, ctx inherited, parent merged) (Subsection, error) {
	acc := imp.merge(parent, b, nil)
	sub := Subsection{
		UsageKey:    imp.key.UsageKey(b.tag, b.urlName),
		DisplayName: b.attrs["display_name"],
		Graded:      ctx.isGraded(),
		Start:       imp.date(ctx.start, b, "start"),
		Due:         imp.date(ctx.due, b, "due"),
		Access:      acc.export(imp.courseStart),
		Blocks:      []Block{},
	}
	if f, ok := b.attrs["format"]; ok && !isNull(f) {
		sub.Format = f
	}
	w := &subWalk{imp: imp, sub: &sub, seen: map[string]bool{}}
	if err := w.self(b, ctx, acc, "", 3); err != nil {
		return sub, err
	}
	return sub, nil
}

// subWalk collects one subsection's scorable blocks and libraries.
type subWalk struct {
	imp  *importer
	sub  *Subsection
	seen map[string]bool
}

// children walks b's child blocks; lib is the usage key of the enclosing
// library_content block, if any.
func (w *subWalk) children(b *block, ctx inherited, acc merged, lib string, depth int) error {
	kids, ascii := childrenOf(b)
	var split map[string]int
	var splitPartition int
	if b.tag == "split_test" {
		splitPartition, split = w.imp.splitGroups(b)
	}
	for _, child := range kids {
		cb, err := w.imp.resolve(child, b.file, depth, ascii)
		if err != nil {
			return err
		}
		if cb == nil {
			continue
		}
		var over *override
		if split != nil {
			g, ok := split[cb.tag+"/"+cb.urlName]
			over = &override{partition: splitPartition, group: g, mapped: ok}
		}
		err = w.visit(cb, ctx, acc, over, lib, depth)
		w.imp.leave(cb)
		if err != nil {
			return err
		}
	}
	return nil
}

func (w *subWalk) visit(b *block, parent inherited, parentAcc merged, over *override, lib string, depth int) error {
	return w.self(b, parent.apply(b), w.imp.merge(parentAcc, b, over), lib, depth)
}

// self handles a block whose inherited values and merged access are known.
func (w *subWalk) self(b *block, ctx inherited, acc merged, lib string, depth int) error {
	w.imp.noteHidden(b)
	switch kindOf(b.tag) {
	case kindContainer:
		if (b.tag == "chapter" || b.tag == "sequential") && depth > 3 {
			w.imp.warnf(b.file, b.label(), "a <%s> nested inside a subsection is walked as a plain container", b.tag)
		}
		return w.children(b, ctx, acc, lib, depth+1)
	case kindLibrary:
		key := w.imp.key.UsageKey(b.tag, b.urlName)
		if lib != "" {
			w.imp.warnf(b.file, b.label(), "a library_content inside another library_content: its children are selected by the inner block")
		}
		maxCount := 1
		if v, ok := b.attrs["max_count"]; ok && !isNull(v) {
			n, err := pyInt(v)
			if err != nil {
				w.imp.warnf(b.file, b.label(), "max_count %q is not an integer; the field default 1 is used", v)
			} else {
				maxCount = n
			}
		}
		if maxCount < 0 {
			maxCount = -1
		}
		first := len(w.sub.Blocks)
		l := Library{UsageKey: key, MaxCount: maxCount, Children: []string{}, Access: acc.export(w.imp.courseStart)}
		kids, _ := childrenOf(b)
		for _, c := range kids {
			if n, ok := w.imp.peekName(c); ok {
				l.Members = append(l.Members, w.imp.key.UsageKey(c.Tag, n))
			}
		}
		if err := w.children(b, ctx, acc, key, depth+1); err != nil {
			return err
		}
		for _, blk := range w.sub.Blocks[first:] {
			if blk.Library == key {
				l.Children = append(l.Children, blk.UsageKey)
			}
		}
		w.sub.Libraries = append(w.sub.Libraries, l)
		return nil
	case kindScorable:
		rs := scoreRules[b.tag](b.def)
		if !rs.scorable {
			return nil
		}
		if rs.problem != "" {
			w.imp.warnf(b.file, b.label(), "%s", rs.problem)
		}
		key := w.imp.key.UsageKey(b.tag, b.urlName)
		if w.seen[key] {
			w.imp.warnf(b.file, b.label(), "appears twice in subsection %s; counted once, as the platform's block structure holds it once", w.sub.UsageKey)
			return nil
		}
		w.seen[key] = true
		blk := Block{UsageKey: key, Type: b.tag, RawPossible: rs.raw, Graded: ctx.isGraded(), Library: lib, Access: acc.export(w.imp.courseStart)}
		if v, ok := b.attrs["weight"]; ok && !isNull(v) && strings.TrimSpace(v) != "" {
			f, err := parseFloat(v)
			if err != nil {
				w.imp.warnf(b.file, b.label(), "weight %q is not a number; treated as unset", v)
			} else {
				blk.Weight = &f
			}
		}
		w.sub.Blocks = append(w.sub.Blocks, blk)
		return nil
	case kindLeaf, kindHidden:
		return nil
	}
	w.imp.warnf(b.file, b.label(), "unknown block type %q: not scored (add a rule to internal/course/scoring.go if it publishes grades)", b.tag)
	return nil
}

// noteHidden warns about a block the current platform loads as a hidden
// block: its content, children included, counts for nothing.
func (imp *importer) noteHidden(b *block) {
	if kindOf(b.tag) == kindHidden {
		imp.warnf(b.file, b.label(), "<%s> is no block type of the current platform, which loads it as a hidden block without children: nothing in it counts", b.tag)
	}
}

// peekName returns the name a library child will get, without registering
// it: url_name, slug, or the cleaned name or display_name. A child named
// by its content hash has none here (it cannot be matched to a recorded
// selection anyway).
func (imp *importer) peekName(el *element) (string, bool) {
	for _, k := range []string{"url_name", "slug"} {
		if v := el.Attrs[k]; v != "" {
			return v, true
		}
	}
	for _, k := range []string{"name", "display_name"} {
		if v, ok := el.Attrs[k]; ok && cleanName(v) != "" {
			return cleanName(v), true
		}
	}
	return "", false
}
