package course

import (
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
	// usedNames holds the url_names seen per tag, to derive unique ids for
	// inline blocks without one, as the platform's importer does.
	usedNames map[string]map[string]bool
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
	run, _ := courseXML.attr("url_name")
	org, _ := courseXML.attr("org")
	number, _ := courseXML.attr("course")
	if run == "" || org == "" || number == "" {
		return nil, imp.errf("course.xml", `<course> needs url_name, org and course attributes (got url_name=%q org=%q course=%q)`, run, org, number)
	}
	key, err := ParseKey("course-v1:" + org + "+" + number + "+" + run)
	if err != nil {
		return nil, imp.errf("course.xml", "%w", err)
	}
	if opts.CourseID != "" {
		if key, err = ParseKey(opts.CourseID); err != nil {
			return nil, fmt.Errorf("course %s: --course-id: %w", imp.src, err)
		}
	}
	imp.key = key
	if err := imp.loadPolicy(run); err != nil {
		return nil, err
	}

	// course.xml is normally a pointer to course/{run}.xml (exactly the
	// url_name, org and course attributes, nothing inside, as is_pointer_tag
	// has it); an old-style export defines the course in course.xml itself.
	root, rootFile := courseXML, "course.xml"
	if len(courseXML.Children) == 0 && strings.TrimSpace(courseXML.Text) == "" && len(courseXML.Attrs) == 3 {
		rootFile = "course/" + nameToPath(run) + ".xml"
		if root, err = imp.readXML(rootFile); err != nil {
			return nil, err
		}
		if root.Tag != "course" {
			return nil, imp.errf(rootFile, "root element is <%s>, want <course>", root.Tag)
		}
	}
	b := imp.newBlock(root, "course", run, rootFile)
	o := &Outline{CourseID: key.String(), DisplayName: b.attrs["display_name"], Chapters: []Chapter{}}
	ctx := inherited{}.apply(b)
	if ctx.staffOnly {
		imp.warnf(rootFile, "course", "the whole course is visible_to_staff_only: the outline is empty")
		o.Warnings = imp.warnings
		return o, nil
	}
	imp.onStack[rootFile] = true
	for _, child := range root.Children {
		if child.Tag == "wiki" {
			continue // the course wiki's slug, not a block
		}
		cb, err := imp.resolve(child, rootFile, 1)
		if err != nil {
			return nil, err
		}
		cctx := ctx.apply(cb)
		if cctx.staffOnly {
			imp.leave(cb)
			continue
		}
		if cb.tag != "chapter" {
			imp.warnf(cb.file, cb.label(), "a <%s> directly under the course is graded as a chapter", cb.tag)
		}
		ch, err := imp.chapter(cb, cctx)
		imp.leave(cb)
		if err != nil {
			return nil, err
		}
		o.Chapters = append(o.Chapters, ch)
	}
	o.Warnings = imp.warnings
	return o, nil
}

// loadPolicy reads policies/{run}/policy.json (or the older
// policies/{run}.json). A missing policy is normal; a malformed one is an
// error.
func (imp *importer) loadPolicy(run string) error {
	imp.policy = map[string]map[string]json.RawMessage{}
	for _, name := range []string{"policies/" + run + "/policy.json", "policies/" + run + ".json"} {
		data, err := fs.ReadFile(imp.fsys, name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return imp.errf(name, "%w", err)
		}
		if err := json.Unmarshal(data, &imp.policy); err != nil {
			return imp.errf(name, "malformed policy JSON (want {\"tag/url_name\": {field: value}}): %w", err)
		}
		return nil
	}
	return nil
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
	// loaded is set when the definition came from its own file (a pointer),
	// which the walk marks on its stack while inside the block.
	loaded bool
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

// resolve turns a child element into a block: a pointer loads
// {tag}/{url_name}.xml; an inline definition is used as it is, with an id
// derived when it has no url_name. depth bounds nesting across files.
func (imp *importer) resolve(el *element, file string, depth int) (*block, error) {
	if depth > maxTreeDepth {
		return nil, imp.errf(file, "line %d: blocks nested more than %d deep", el.Line, maxTreeDepth)
	}
	if el.isPointer() {
		urlName := el.Attrs["url_name"]
		target := el.Tag + "/" + nameToPath(urlName) + ".xml"
		if urlName == "" || !fs.ValidPath(target) {
			// An empty name, or one that would climb out of the export.
			return nil, imp.errf(file, "line %d: <%s url_name=%q> is not a usable url_name", el.Line, el.Tag, urlName)
		}
		if imp.onStack[target] {
			return nil, imp.errf(file, "line %d: <%s url_name=%q> points back to %s, which contains it (a cycle)", el.Line, el.Tag, urlName, target)
		}
		if kindOf(el.Tag) == kindLeaf {
			// Nothing in a non-scorable leaf matters to the outline;
			// checking the file exists is enough.
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
			return nil, imp.errf(target, "root element is <%s>, but %s points to it as <%s>", def.Tag, file, el.Tag)
		}
		b := imp.newBlock(def, el.Tag, urlName, target)
		b.loaded = true
		imp.onStack[target] = true
		return b, nil
	}
	if kindOf(el.Tag) == kindLeaf {
		// A non-scorable leaf's id never reaches the outline.
		return &block{tag: el.Tag, urlName: el.Attrs["url_name"], def: el, attrs: map[string]string{}, file: file}, nil
	}
	urlName := imp.inlineName(el, file)
	return imp.newBlock(el, el.Tag, urlName, file), nil
}

// leave pops a block's file off the cycle-detection stack.
func (imp *importer) leave(b *block) {
	if b.loaded {
		delete(imp.onStack, b.file)
	}
}

// invalidNameChars are the characters opaque-keys replaces in a derived
// block id (BlockUsageLocator.DEPRECATED_INVALID_CHARS).
var invalidNameChars = regexp.MustCompile(`[^\p{L}\p{N}_.%-]`)
var underscores = regexp.MustCompile(`_+`)

// needUniqueNames are the tags whose ids the platform keeps unique on import.
var needUniqueNames = map[string]bool{"problem": true, "sequential": true, "video": true, "course": true,
	"chapter": true, "poll_question": true, "vertical": true}

// inlineName returns the url_name of an inline definition the way the
// platform's XML importer names it (xmodule/modulestore/xml.py
// make_name_unique): url_name, else slug, else the cleaned name or
// display_name attribute. With none of those the platform hashes its own
// serialization of the element, which cannot be reproduced byte for byte;
// we use "{tag}_" + the first 12 hex digits of a SHA-1 of a canonical
// serialization (stable, but not the platform's id) and warn.
func (imp *importer) inlineName(el *element, file string) string {
	if imp.usedNames == nil {
		imp.usedNames = map[string]map[string]bool{}
	}
	used := imp.usedNames[el.Tag]
	if used == nil {
		used = map[string]bool{}
		imp.usedNames[el.Tag] = used
	}
	name, derived := "", false
	if v := el.Attrs["url_name"]; v != "" {
		name = v
	} else if v := el.Attrs["slug"]; v != "" {
		name = v
	} else if v, ok := el.Attrs["name"]; ok {
		name, derived = cleanName(v), true
	} else if v, ok := el.Attrs["display_name"]; ok {
		name, derived = cleanName(v), true
	}
	hash := func() string { return el.canonicalHash()[:12] }
	switch {
	case name == "":
		name = el.Tag + "_" + hash()
		imp.warnf(file, fmt.Sprintf("line %d <%s>", el.Line, el.Tag),
			"inline block without url_name, name or display_name: id %s derived from its content (the platform's id differs); learner state cannot be matched to it", name)
	case used[name] && needUniqueNames[el.Tag]:
		old := name
		name = el.Tag + "_" + old + "_" + hash()
		imp.warnf(file, fmt.Sprintf("line %d <%s>", el.Line, el.Tag),
			"url_name %q is used twice: the platform renames the second by a content hash; id %s derived here (the platform's id differs)", old, name)
	case derived:
		imp.warnf(file, fmt.Sprintf("line %d <%s>", el.Line, el.Tag),
			"inline block without url_name: id %q derived from its name, as the platform does", name)
	}
	used[name] = true
	return name
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

// inherited carries the inheritable fields down the tree (InheritanceMixin
// in xmodule/modulestore/inheritance.py: graded, start, due and
// visible_to_staff_only among the fields we need; format is not
// inheritable). A block's explicit value, null included, replaces its
// parent's for it and its descendants.
type inherited struct {
	graded, start, due setting
	staffOnly          bool
}

// apply returns the values b sees: its own where set, its parent's
// otherwise. visible_to_staff_only is sticky: a staff-only ancestor hides
// the whole subtree whatever its descendants say (VisibilityTransformer).
func (in inherited) apply(b *block) inherited {
	out := in
	for field, dst := range map[string]*setting{"graded": &out.graded, "start": &out.start, "due": &out.due} {
		if v, ok := b.attrs[field]; ok {
			*dst = setting{set: true, value: v}
		}
	}
	if v, ok := b.attrs["visible_to_staff_only"]; ok && parseBool(v) {
		out.staffOnly = true
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

// parseDate reads an XBlock Date field: ISO 8601, UTC when no zone is given.
func parseDate(v string) (time.Time, error) {
	s := strings.TrimSpace(v)
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

func (imp *importer) chapter(b *block, ctx inherited) (Chapter, error) {
	ch := Chapter{UsageKey: imp.key.UsageKey(b.tag, b.urlName), DisplayName: b.attrs["display_name"], Subsections: []Subsection{}}
	for _, child := range b.def.Children {
		sb, err := imp.resolve(child, b.file, 2)
		if err != nil {
			return ch, err
		}
		sctx := ctx.apply(sb)
		if sctx.staffOnly {
			imp.leave(sb)
			continue
		}
		if sb.tag != "sequential" {
			imp.warnf(sb.file, sb.label(), "a <%s> directly under a chapter is graded as a subsection", sb.tag)
		}
		sub, err := imp.subsection(sb, sctx)
		imp.leave(sb)
		if err != nil {
			return ch, err
		}
		ch.Subsections = append(ch.Subsections, sub)
	}
	return ch, nil
}

func (imp *importer) subsection(b *block, ctx inherited) (Subsection, error) {
	sub := Subsection{
		UsageKey:    imp.key.UsageKey(b.tag, b.urlName),
		DisplayName: b.attrs["display_name"],
		Graded:      ctx.isGraded(),
		Start:       imp.date(ctx.start, b, "start"),
		Due:         imp.date(ctx.due, b, "due"),
		Blocks:      []Block{},
	}
	if f, ok := b.attrs["format"]; ok && !isNull(f) {
		sub.Format = f
	}
	w := &subWalk{imp: imp, sub: &sub, seen: map[string]bool{}}
	if err := w.children(b, ctx, "", 3); err != nil {
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

// children walks b's children; lib is the usage key of the enclosing
// library_content block, if any.
func (w *subWalk) children(b *block, ctx inherited, lib string, depth int) error {
	for _, child := range b.def.Children {
		cb, err := w.imp.resolve(child, b.file, depth)
		if err != nil {
			return err
		}
		err = w.visit(cb, ctx, lib, depth)
		w.imp.leave(cb)
		if err != nil {
			return err
		}
	}
	return nil
}

func (w *subWalk) visit(b *block, parent inherited, lib string, depth int) error {
	ctx := parent.apply(b)
	if ctx.staffOnly {
		return nil
	}
	switch kindOf(b.tag) {
	case kindContainer:
		if b.tag == "split_test" {
			w.imp.warnf(b.file, b.label(), "split_test shows each learner one group's content; all groups are counted here")
		}
		if b.tag == "chapter" || b.tag == "sequential" {
			w.imp.warnf(b.file, b.label(), "a <%s> nested inside a subsection is walked as a plain container", b.tag)
		}
		return w.children(b, ctx, lib, depth+1)
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
		if err := w.children(b, ctx, key, depth+1); err != nil {
			return err
		}
		l := Library{UsageKey: key, MaxCount: maxCount, Children: []string{}}
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
		blk := Block{UsageKey: key, Type: b.tag, RawPossible: rs.raw, Graded: ctx.isGraded(), Library: lib}
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
	case kindLeaf:
		return nil
	}
	w.imp.warnf(b.file, b.label(), "unknown block type %q: not scored (add a rule to internal/course/scoring.go if it publishes grades)", b.tag)
	return nil
}
