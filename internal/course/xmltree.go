package course

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Limits that keep a hostile or broken export from exhausting memory or the
// stack: no real course comes near them.
const (
	// maxElementDepth bounds the nesting of elements inside one XML file.
	maxElementDepth = 256
	// maxElements bounds the number of elements in one XML file.
	maxElements = 1 << 20
)

// element is one parsed XML element: its tag, attributes, direct text and
// child elements. Comments, processing instructions and directives are
// dropped, as the platform's parser drops comments.
type element struct {
	Tag string
	// Attrs holds the attributes by local name; namespaced attributes
	// (xml:lang, xmlns declarations) are left out, since no OLX field uses
	// them.
	Attrs map[string]string
	// attrOrder keeps the attribute names in document order, for a
	// deterministic serialization.
	attrOrder []string
	// Text is the character data directly inside the element (not inside
	// its children), concatenated.
	Text     string
	Children []*element
	// Line is the element's line in its file, for messages.
	Line int
}

// attr returns the attribute's value and whether it is present.
func (e *element) attr(name string) (string, bool) {
	v, ok := e.Attrs[name]
	return v, ok
}

// isPointer reports whether e is an OLX pointer: an element whose only
// attribute is url_name, with no children and no text, whose definition
// lives in {tag}/{url_name}.xml (xmodule/xml_block.py is_pointer_tag).
func (e *element) isPointer() bool {
	if len(e.Children) > 0 || strings.TrimSpace(e.Text) != "" {
		return false
	}
	_, ok := e.Attrs["url_name"]
	return ok && len(e.Attrs) == 1
}

// walk calls fn on e and every descendant, in document order.
func (e *element) walk(fn func(*element)) {
	fn(e)
	for _, c := range e.Children {
		c.walk(fn)
	}
}

// canonicalHash returns a SHA-1 of a canonical serialization of e (tag,
// attributes sorted by name, trimmed text, children), for ids derived from
// content. It is stable across runs and formatting changes of the file.
func (e *element) canonicalHash() string {
	h := sha1.New()
	var write func(*element)
	write = func(n *element) {
		fmt.Fprintf(h, "<%s", n.Tag)
		names := make([]string, 0, len(n.Attrs))
		for k := range n.Attrs {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			fmt.Fprintf(h, " %s=%q", k, n.Attrs[k])
		}
		fmt.Fprintf(h, ">%s", strings.TrimSpace(n.Text))
		for _, c := range n.Children {
			write(c)
		}
		fmt.Fprintf(h, "</%s>", n.Tag)
	}
	write(e)
	return hex.EncodeToString(h.Sum(nil))
}

// parseXML parses one XML document into its root element. It fails on
// malformed XML, on a document without a root element and on content after
// the root, and bounds nesting depth and element count. HTML named entities
// (&nbsp; and friends) are accepted, since hand-written problem XML uses
// them.
func parseXML(data []byte) (*element, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	d.Entity = xml.HTMLEntity
	var (
		root  *element
		stack []*element
		count int
	)
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if root != nil && len(stack) == 0 {
				line, _ := d.InputPos()
				return nil, fmt.Errorf("line %d: a second root element <%s> after </%s>", line, t.Name.Local, root.Tag)
			}
			count++
			if count > maxElements {
				return nil, fmt.Errorf("more than %d elements", maxElements)
			}
			if len(stack) >= maxElementDepth {
				line, _ := d.InputPos()
				return nil, fmt.Errorf("line %d: elements nested more than %d deep", line, maxElementDepth)
			}
			line, _ := d.InputPos()
			el := &element{Tag: t.Name.Local, Attrs: make(map[string]string, len(t.Attr)), Line: line}
			for _, a := range t.Attr {
				if a.Name.Space != "" || a.Name.Local == "xmlns" {
					continue
				}
				if _, dup := el.Attrs[a.Name.Local]; !dup {
					el.attrOrder = append(el.attrOrder, a.Name.Local)
				}
				el.Attrs[a.Name.Local] = a.Value
			}
			if len(stack) > 0 {
				parent := stack[len(stack)-1]
				parent.Children = append(parent.Children, el)
			} else {
				root = el
			}
			stack = append(stack, el)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].Text += string(t)
			} else if len(bytes.TrimSpace(t)) > 0 {
				line, _ := d.InputPos()
				return nil, fmt.Errorf("line %d: text outside the root element", line)
			}
		}
	}
	if root == nil {
		return nil, errors.New("no root element")
	}
	return root, nil
}
