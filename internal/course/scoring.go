package course

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// blockKind says how the importer treats a block type.
type blockKind int

const (
	// kindUnknown is a type the importer has no rule for: warned about and
	// not scored.
	kindUnknown blockKind = iota
	// kindContainer is walked for scorable descendants.
	kindContainer
	// kindLibrary is a randomized library_content (or item bank) block:
	// walked, and its scorable children recorded as a Library.
	kindLibrary
	// kindScorable publishes a grade; scoreRules has its raw maximum.
	kindScorable
	// kindLeaf never publishes a grade and has no children worth walking.
	kindLeaf
	// kindHidden is a tag the current platform has no block type for and
	// loads as a hidden block without children (HiddenBlock): nothing in it
	// counts.
	kindHidden
)

// containerTypes are walked for scorable descendants. A split_test shows a
// learner only the child of their group; its children are all walked here
// (a documented over-count, warned about). A conditional shows its children
// when its condition holds, but they are in every learner's structure and
// count toward the subsection's possible points, as on the platform.
//
// randomize shows a learner one child, but the grades app's block
// structure holds all of them (RandomizeBlock only narrows its children for
// rendering), and wrapper is a plain container: both are walked.
var containerTypes = map[string]bool{
	"chapter":     true,
	"sequential":  true,
	"vertical":    true,
	"unit":        true,
	"split_test":  true,
	"conditional": true,
	"randomize":   true,
	"wrapper":     true,
}

// hiddenTypes are legacy tags with no block type in the current platform
// (their entry points were removed), which its importer loads as hidden
// blocks without children.
var hiddenTypes = map[string]bool{
	"videosequence": true,
	"problemset":    true,
	"section":       true,
}

// libraryTypes are randomized content blocks: each learner sees max_count of
// their children (field default 1; -1 means all), recorded in the learner's
// StudentModule state as "selected".
var libraryTypes = map[string]bool{
	"library_content": true,
	"itembank":        true,
}

// leafTypes are known XBlocks that never publish a grade (has_score is false
// or absent): their content is irrelevant to the outline.
var leafTypes = map[string]bool{
	"html":                  true,
	"video":                 true,
	"videoalpha":            true, // an alias of video
	"hidden":                true,
	"error":                 true,
	"book":                  true, // custom tag templates
	"image":                 true,
	"slides":                true,
	"discuss":               true,
	"videodev":              true,
	"discussion":            true,
	"poll":                  true, // xblock-poll: completion only, no has_score
	"survey":                true, // xblock-poll
	"annotatable":           true,
	"word_cloud":            true,
	"poll_question":         true,
	"imageannotation":       true,
	"textannotation":        true,
	"videoannotation":       true,
	"google-document":       true,
	"google-calendar":       true,
	"pdf":                   true,
	"recommender":           true,
	"wiki":                  true,
	"about":                 true,
	"course_info":           true,
	"static_tab":            true,
	"custom_tag_template":   true,
	"customtag":             true,
	"image-explorer":        true,
	"oppia":                 true,
	"edx_reverification":    true,
	"embedded_answers":      true,
	"inline-dropdown-image": true,
}

// rawScore is the outcome of a scoring rule for one block.
type rawScore struct {
	// scorable is false when the block does not publish a grade at all
	// (an lti block without has_score="true").
	scorable bool
	raw      float64
	// problem, when set, is a warning: the platform cannot compute a max
	// score for this block as written, and raw is what it falls back to.
	problem string
}

// scoreRule computes a scorable block's raw maximum (its max_score()) from
// its definition element.
type scoreRule func(def *element) rawScore

// scoreRules are the per-type rules, each researched from the block's own
// max_score() (sources in docs/OUTLINES.md).
var scoreRules = map[string]scoreRule{
	// xmodule/capa_block.py ProblemBlock.max_score → LoncapaProblem.get_max_score.
	"problem": capaMaxScore,
	// edx-ora2 lms_mixin.py: Σ over rubric criteria of the largest option points.
	"openassessment": oraMaxScore,
	// xblock-drag-and-drop-v2: max_score() is always 1 (weight scales it).
	"drag-and-drop-v2": fixedScore(1),
	// DoneXBlock: max_score() is 1.
	"done": fixedScore(1),
	// staff_graded-xblock: max_score() is the weight field (default 1.0).
	"staffgradedxblock": weightScore,
	// edx-sga: max_score() is the points field (Integer, default 100).
	"edx_sga": sgaMaxScore,
	// xblock-lti-consumer and the legacy lti block: max_score() is the
	// weight field (default 1.0) when has_score is true, else no score.
	"lti_consumer": ltiMaxScore,
	"lti":          ltiMaxScore,
}

// kindOf classifies a block type.
func kindOf(tag string) blockKind {
	switch {
	case containerTypes[tag]:
		return kindContainer
	case libraryTypes[tag]:
		return kindLibrary
	case scoreRules[tag] != nil:
		return kindScorable
	case leafTypes[tag]:
		return kindLeaf
	case hiddenTypes[tag]:
		return kindHidden
	}
	return kindUnknown
}

func fixedScore(v float64) scoreRule {
	return func(*element) rawScore { return rawScore{scorable: true, raw: v} }
}

// floatField reads a Float XBlock field from an attribute: absent or "null"
// gives def; an unparseable value gives def and a message.
func floatField(def *element, name string, dflt float64) (float64, string) {
	v, ok := def.attr(name)
	if !ok || isNull(v) {
		return dflt, ""
	}
	f, err := parseFloat(v)
	if err != nil {
		return dflt, fmt.Sprintf("%s=%q is not a number; the field default %g is used", name, v, dflt)
	}
	return f, ""
}

func weightScore(def *element) rawScore {
	w, msg := floatField(def, "weight", 1)
	return rawScore{scorable: true, raw: w, problem: msg}
}

func ltiMaxScore(def *element) rawScore {
	hs, ok := def.attr("has_score")
	if !ok || !parseBool(hs) {
		return rawScore{}
	}
	return weightScore(def)
}

func sgaMaxScore(def *element) rawScore {
	v, ok := def.attr("points")
	if !ok || isNull(v) {
		return rawScore{scorable: true, raw: 100}
	}
	n, err := pyInt(v)
	if err != nil {
		return rawScore{scorable: true, raw: 100, problem: fmt.Sprintf("points=%q is not an integer; the field default 100 is used", v)}
	}
	return rawScore{scorable: true, raw: float64(n)}
}

// oraMaxScore sums, over the rubric's criteria, the largest option points
// (0 for a criterion without options, a feedback-only criterion).
func oraMaxScore(def *element) rawScore {
	var rubric *element
	for _, c := range def.Children {
		if c.Tag == "rubric" {
			rubric = c
			break
		}
	}
	if rubric == nil {
		return rawScore{scorable: true, problem: "no <rubric>: ORA cannot load it; counted as 0 points"}
	}
	total := 0
	for _, crit := range rubric.Children {
		if crit.Tag != "criterion" {
			continue
		}
		best, any := 0, false
		for _, opt := range crit.Children {
			if opt.Tag != "option" {
				continue
			}
			p, ok := opt.attr("points")
			n, err := pyInt(p)
			if !ok || err != nil {
				return rawScore{scorable: true, problem: fmt.Sprintf("rubric option on line %d has points=%q, not an integer: ORA cannot load it; counted as 0 points", opt.Line, p)}
			}
			if !any || n > best {
				best, any = n, true
			}
		}
		total += best
	}
	return rawScore{scorable: true, raw: float64(total)}
}

// capaResponse describes a registered capa response type
// (xmodule/capa/responsetypes.py).
type capaResponse struct {
	// inputs are the input tags the response allows (allowed_inputfields).
	inputs []string
	// maxInputs is max_inputfields; 0 means no limit.
	maxInputs int
	// required are the attributes that must be present and non-empty.
	required []string
}

var customInputs = []string{"textline", "textbox", "crystallography", "chemicalequationinput", "vsepr_input",
	"drag_and_drop_input", "designprotein2dinput", "editageneinput", "annotationinput", "jsinput",
	"formulaequationinput"}

// capaResponses are the registered response types.
var capaResponses = map[string]capaResponse{
	"choiceresponse":         {inputs: []string{"checkboxgroup", "radiogroup"}, maxInputs: 1},
	"multiplechoiceresponse": {inputs: []string{"choicegroup"}, maxInputs: 1},
	"truefalseresponse":      {inputs: []string{"choicegroup"}, maxInputs: 1},
	"optionresponse":         {inputs: []string{"optioninput"}},
	"numericalresponse":      {inputs: []string{"textline", "formulaequationinput"}, maxInputs: 1, required: []string{"answer"}},
	"stringresponse":         {inputs: []string{"textline"}, maxInputs: 1, required: []string{"answer"}},
	"customresponse":         {inputs: customInputs},
	"symbolicresponse":       {inputs: customInputs, maxInputs: 1},
	"coderesponse":           {inputs: []string{"textbox", "filesubmission", "matlabinput"}, maxInputs: 1},
	"externalresponse":       {inputs: []string{"textline", "textbox"}},
	"formularesponse":        {inputs: []string{"textline", "formulaequationinput"}, maxInputs: 1, required: []string{"answer", "samples"}},
	"schematicresponse":      {inputs: []string{"schematic"}},
	"imageresponse":          {inputs: []string{"imageinput"}},
	"annotationresponse":     {inputs: []string{"annotationinput"}, maxInputs: 1},
	"choicetextresponse":     {inputs: []string{"radiotextgroup", "checkboxtextgroup"}, maxInputs: 1},
}

// capaInputs are the registered input tags (xmodule/capa/inputtypes.py).
var capaInputs = map[string]bool{
	"optioninput": true, "choicegroup": true, "radiogroup": true, "checkboxgroup": true,
	"jsinput": true, "textline": true, "filesubmission": true, "codeinput": true, "textbox": true,
	"matlabinput": true, "schematic": true, "imageinput": true, "crystallography": true,
	"vsepr_input": true, "chemicalequationinput": true, "formulaequationinput": true,
	"drag_and_drop_input": true, "designprotein2dinput": true, "editageneinput": true,
	"annotationinput": true, "radiotextgroup": true, "checkboxtextgroup": true,
}

// capaMaxScore is LoncapaProblem(minimal_init=True).get_max_score(): every
// registered response element anywhere in the problem, each worth the sum
// over the registered input elements inside it of int(points or 1). Scripts
// are not run on this path, so the count is exact. A problem the platform
// cannot build (an input its response does not allow, too many inputs, a
// missing required attribute, a dropdown with two correct options, a
// non-integer points) gets max score 0 there (ProblemBlock.max_score
// catches LoncapaProblemError), and 0 with a warning here.
func capaMaxScore(def *element) rawScore {
	var (
		total   int
		problem string
		hasInc  bool
		unknown []string
	)
	fail := func(format string, args ...any) {
		if problem == "" {
			problem = fmt.Sprintf(format, args...) + "; the platform cannot build this problem and scores it 0"
		}
	}
	def.walk(func(e *element) {
		if problem != "" {
			return
		}
		switch e.Tag {
		case "include":
			hasInc = true
		case "optioninput":
			correct := 0
			for _, o := range e.Children {
				if o.Tag != "option" {
					continue
				}
				c, ok := o.attr("correct")
				if !ok {
					fail("line %d: <option> without a correct attribute", o.Line)
					return
				}
				if strings.EqualFold(c, "true") {
					correct++
				}
			}
			if correct > 1 {
				fail("line %d: a dropdown with %d correct options", e.Line, correct)
			}
		}
		spec, ok := capaResponses[e.Tag]
		if !ok {
			if strings.HasSuffix(e.Tag, "response") && !slices.Contains(unknown, e.Tag) {
				unknown = append(unknown, e.Tag)
			}
			return
		}
		for _, a := range spec.required {
			if v, _ := e.attr(a); v == "" {
				fail("line %d: <%s> without its required %s attribute", e.Line, e.Tag, a)
				return
			}
		}
		var inputs []*element
		for _, c := range e.Children {
			c.walk(func(d *element) {
				if capaInputs[d.Tag] {
					inputs = append(inputs, d)
				}
			})
		}
		for _, in := range inputs {
			if !slices.Contains(spec.inputs, in.Tag) {
				fail("line %d: <%s> cannot hold input <%s>", in.Line, e.Tag, in.Tag)
				return
			}
		}
		if spec.maxInputs > 0 && len(inputs) > spec.maxInputs {
			fail("line %d: <%s> has %d inputs, at most %d allowed", e.Line, e.Tag, len(inputs), spec.maxInputs)
			return
		}
		if spec.maxInputs == 1 && len(inputs) == 0 {
			fail("line %d: <%s> has no input", e.Line, e.Tag)
			return
		}
		for _, in := range inputs {
			pts := 1
			if p, ok := in.attr("points"); ok {
				n, err := pyInt(p)
				if err != nil {
					fail("line %d: points=%q is not an integer", in.Line, p)
					return
				}
				pts = n
			}
			total += pts
		}
	})
	if problem != "" {
		return rawScore{scorable: true, problem: problem}
	}
	rs := rawScore{scorable: true, raw: float64(total)}
	var notes []string
	if len(unknown) > 0 {
		notes = append(notes, fmt.Sprintf("<%s> is not a response type the platform registers (any more): it scores nothing", strings.Join(unknown, ">, <")))
	}
	if hasInc {
		notes = append(notes, "<include> files are not read; the count covers the problem's own XML only")
	}
	rs.problem = strings.Join(notes, "; ")
	return rs
}

// isNull reports whether an attribute value is the JSON null an export
// writes for a field explicitly set to None.
func isNull(v string) bool { return strings.TrimSpace(v) == "null" }

// parseBool reads an XBlock Boolean field as the platform does
// (deserialize_field then Boolean.from_json): a string is true only when it
// is "true" in any case; a JSON number is true when not zero.
func parseBool(v string) bool {
	s := strings.TrimSpace(v)
	if strings.EqualFold(s, "true") {
		return true
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return f != 0
	}
	return false
}

// parseFloat reads an XBlock Float field.
func parseFloat(v string) (float64, error) {
	return strconv.ParseFloat(strings.TrimSpace(v), 64)
}

// pyInt is Python's int() on a string: optional surrounding space and sign,
// decimal digits only ("2.0" is an error, as there).
func pyInt(v string) (int, error) {
	s := strings.TrimSpace(v)
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not an integer", v)
	}
	return n, nil
}
