package synth

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
)

// olxTime is how Studio exports datetimes.
const olxTime = "2006-01-02T15:04:05Z"

// olxDirName is the directory name a generated course's export gets under
// the OLX folder: org+course+run, which is unique and safe in file names.
func (c *genCourse) olxDirName() string {
	return c.Key.Org + "+" + c.Key.Course + "+" + c.Key.Run
}

// copyExport copies the course export in src to dst (which it replaces),
// regular files and folders only.
func copyExport(src, dst string) error {
	if err := os.RemoveAll(dst); err != nil {
		return fmt.Errorf("OLX export %s: %w", dst, err)
	}
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case d.Type().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			return os.WriteFile(target, b, 0o644)
		}
		return nil
	})
}

// writeOLX writes the course as a Studio export under dir (which it
// replaces): course.xml with a pointer to course/{run}.xml, one file per
// chapter, sequential, vertical, problem, html, video and library_content
// block, and policies/{run}/ with grading_policy.json and policy.json.
func (c *genCourse) writeOLX(dir string) error {
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("OLX export %s: %w", dir, err)
	}
	w := olxWriter{dir: dir}
	run := c.Key.Run
	w.file("course.xml", fmt.Sprintf("<course url_name=%s org=%s course=%s/>\n", attr(run), attr(c.Key.Org), attr(c.Key.Course)))

	var root bytes.Buffer
	fmt.Fprintf(&root, "<course display_name=%s start=%s self_paced=%s language=\"en\">\n",
		attr(c.DisplayName), attr(c.Start.UTC().Format(olxTime)), attr(strconv.FormatBool(c.SelfPaced)))
	for _, ch := range c.Chapters {
		fmt.Fprintf(&root, "  <chapter url_name=%s/>\n", attr(ch.ID))
		w.chapter(ch)
	}
	fmt.Fprintf(&root, "  <wiki slug=%s/>\n</course>\n", attr(c.Key.Org+"."+c.Key.Course+"."+run))
	w.file(filepath.Join("course", run+".xml"), root.String())

	pol := map[string]any{"GRADER": c.Policy.Graders, "GRADE_CUTOFFS": map[string]float64{"Pass": c.Policy.Cutoff}}
	w.json(filepath.Join("policies", run, "grading_policy.json"), pol)
	w.json(filepath.Join("policies", run, "policy.json"), map[string]any{
		"course/" + run: map[string]any{
			"display_name": c.DisplayName,
			"start":        c.Start.UTC().Format(olxTime),
			"self_paced":   c.SelfPaced,
			"language":     "en",
		},
	})
	w.json(filepath.Join("policies", "assets.json"), map[string]any{})
	return w.err
}

type olxWriter struct {
	dir string
	err error
}

func (w *olxWriter) file(rel, content string) {
	if w.err != nil {
		return
	}
	p := filepath.Join(w.dir, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		w.err = fmt.Errorf("OLX export: %w", err)
		return
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		w.err = fmt.Errorf("OLX export: %w", err)
	}
}

func (w *olxWriter) json(rel string, v any) {
	b, err := json.MarshalIndent(v, "", "    ")
	if err != nil {
		w.err = fmt.Errorf("OLX export %s: %w", rel, err)
		return
	}
	w.file(rel, string(b)+"\n")
}

func (w *olxWriter) chapter(ch genChapter) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "<chapter display_name=%s>\n", attr(ch.Name))
	for _, s := range ch.Subs {
		fmt.Fprintf(&b, "  <sequential url_name=%s/>\n", attr(s.ID))
		w.sequential(s)
	}
	b.WriteString("</chapter>\n")
	w.file(filepath.Join("chapter", ch.ID+".xml"), b.String())
}

func (w *olxWriter) sequential(s genSub) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "<sequential display_name=%s", attr(s.Name))
	if s.Graded {
		fmt.Fprintf(&b, " graded=\"true\" format=%s", attr(s.Format))
	}
	if s.Due != nil {
		fmt.Fprintf(&b, " due=%s", attr(s.Due.UTC().Format(olxTime)))
	}
	if s.StaffOnly {
		b.WriteString(" visible_to_staff_only=\"true\"")
	}
	b.WriteString(">\n")
	for _, v := range s.Verticals {
		fmt.Fprintf(&b, "  <vertical url_name=%s/>\n", attr(v.ID))
		w.vertical(v)
	}
	b.WriteString("</sequential>\n")
	w.file(filepath.Join("sequential", s.ID+".xml"), b.String())
}

func (w *olxWriter) vertical(v genVertical) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "<vertical display_name=%s>\n", attr(v.Name))
	for _, it := range v.Items {
		fmt.Fprintf(&b, "  <%s url_name=%s/>\n", it.Type, attr(it.ID))
		w.item(it)
	}
	b.WriteString("</vertical>\n")
	w.file(filepath.Join("vertical", v.ID+".xml"), b.String())
}

func (w *olxWriter) item(it genItem) {
	switch it.Type {
	case itemHTML:
		w.file(filepath.Join("html", it.ID+".xml"), fmt.Sprintf("<html filename=%s display_name=%s/>\n", attr(it.ID), attr(it.Name)))
		w.file(filepath.Join("html", it.ID+".html"), "<p>"+xmlText(it.Name)+": generated course material.</p>\n")
	case itemVideo:
		w.file(filepath.Join("video", it.ID+".xml"), fmt.Sprintf(
			"<video url_name=%s display_name=%s youtube=\"1.00:3_yD_cEKoCk\" youtube_id_1_0=\"3_yD_cEKoCk\" download_video=\"false\"/>\n",
			attr(it.ID), attr(it.Name)))
	case itemProblem:
		w.file(filepath.Join("problem", it.ID+".xml"), problemXML(it))
	case itemLibrary:
		var b bytes.Buffer
		fmt.Fprintf(&b, "<library_content display_name=%s max_count=\"%d\" source_library_id=%s>\n",
			attr(it.Name), it.Library.MaxCount, attr(it.Library.SourceLib))
		for _, ch := range it.Library.Children {
			fmt.Fprintf(&b, "  <problem url_name=%s/>\n", attr(ch.ID))
			w.item(ch)
		}
		b.WriteString("</library_content>\n")
		w.file(filepath.Join("library_content", it.ID+".xml"), b.String())
	}
}

// problemXML writes a capa problem with one response per input; an input's
// points attribute is written only when it is not the default 1.
func problemXML(it genItem) string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "<problem display_name=%s max_attempts=\"3\" showanswer=\"finished\"", attr(it.Name))
	if it.Problem.Weight != nil {
		fmt.Fprintf(&b, " weight=%s", attr(strconv.FormatFloat(*it.Problem.Weight, 'f', -1, 64)))
	}
	b.WriteString(">\n")
	for i, in := range it.Problem.Inputs {
		pts := ""
		if in.Points > 0 {
			pts = fmt.Sprintf(" points=\"%d\"", in.Points)
		}
		fmt.Fprintf(&b, "  <p>Part %d.</p>\n", i+1)
		switch in.Kind {
		case "multiplechoice":
			fmt.Fprintf(&b, "  <multiplechoiceresponse>\n    <choicegroup type=\"MultipleChoice\"%s>\n"+
				"      <choice correct=\"false\">Alpha</choice>\n      <choice correct=\"true\">Beta</choice>\n"+
				"      <choice correct=\"false\">Gamma</choice>\n    </choicegroup>\n  </multiplechoiceresponse>\n", pts)
		case "checkbox":
			fmt.Fprintf(&b, "  <choiceresponse>\n    <checkboxgroup%s>\n      <choice correct=\"true\">One</choice>\n"+
				"      <choice correct=\"true\">Two</choice>\n      <choice correct=\"false\">Three</choice>\n"+
				"    </checkboxgroup>\n  </choiceresponse>\n", pts)
		case "string":
			fmt.Fprintf(&b, "  <stringresponse answer=\"Paris\" type=\"ci\">\n    <textline size=\"20\"%s/>\n  </stringresponse>\n", pts)
		case "numerical":
			fmt.Fprintf(&b, "  <numericalresponse answer=\"42\">\n    <responseparam type=\"tolerance\" default=\"1%%\"/>\n"+
				"    <formulaequationinput%s/>\n  </numericalresponse>\n", pts)
		case "option":
			fmt.Fprintf(&b, "  <optionresponse>\n    <optioninput options=\"('yes','no')\" correct=\"yes\"%s/>\n  </optionresponse>\n", pts)
		}
	}
	b.WriteString("</problem>\n")
	return b.String()
}

// attr quotes an XML attribute value.
func attr(s string) string {
	var b bytes.Buffer
	b.WriteByte('"')
	xml.EscapeText(&b, []byte(s))
	b.WriteByte('"')
	return b.String()
}

func xmlText(s string) string {
	var b bytes.Buffer
	xml.EscapeText(&b, []byte(s))
	return b.String()
}
