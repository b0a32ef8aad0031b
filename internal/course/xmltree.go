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
	"strconv"
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
// child elements. Comments and processing instructions are kept apart (in
// nodes) for the serialization the platform hashes; directives are dropped.
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

	// The lxml view of the element, as the platform's parser
	// (remove_blank_text=True) builds it: kind, the qualified name and
	// every attribute as written, the text before the first child node and
	// the text after the element (nil: none), and every child node in
	// order, comments and processing instructions included.
	kind     nodeKind
	qname    string
	rawAttrs []xml.Attr
	text     *string
	tail     *string
	nodes    []*element
	data     string // a comment's or processing instruction's content
}

type nodeKind uint8

const (
	elementNode nodeKind = iota
	commentNode
	piNode
)

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

// lxmlString serializes e as lxml's etree.tostring(e) does (its tail
// included): the string the platform's XML importer hashes to name a block
// that has no name (make_name_unique in xmodule/modulestore/xml.py). ascii
// is the bytes form (non-ASCII characters as decimal character
// references) that containers such as split_test and library_content pass;
// sequentials, verticals and chapters pass the unicode form. Two known
// gaps: namespace declarations inherited from ancestors are not added, and
// a character reference to a tab or newline in an attribute value is
// written as a space (the decoder has already resolved it).
func (e *element) lxmlString(ascii bool) string {
	var b strings.Builder
	e.writeLxml(&b, ascii)
	if e.tail != nil {
		writeEscaped(&b, *e.tail, false, ascii)
	}
	return b.String()
}

func (e *element) writeLxml(b *strings.Builder, ascii bool) {
	switch e.kind {
	case commentNode:
		b.WriteString("<!--")
		writeEscaped(b, e.data, false, false)
		b.WriteString("-->")
		return
	case piNode:
		b.WriteString("<?" + e.qname)
		if e.data != "" {
			b.WriteString(" " + e.data)
		}
		b.WriteString("?>")
		return
	}
	b.WriteString("<" + e.qname)
	// Namespace declarations first, then the attributes, each in document
	// order, as libxml2 writes them.
	for pass := 0; pass < 2; pass++ {
		for _, a := range e.rawAttrs {
			decl := a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns")
			if decl != (pass == 0) {
				continue
			}
			name := a.Name.Local
			if a.Name.Space != "" {
				name = a.Name.Space + ":" + name
			}
			b.WriteString(" " + name + `="`)
			writeEscaped(b, a.Value, true, ascii)
			b.WriteString(`"`)
		}
	}
	if len(e.nodes) == 0 && e.text == nil {
		b.WriteString("/>")
		return
	}
	b.WriteString(">")
	if e.text != nil {
		writeEscaped(b, *e.text, false, ascii)
	}
	for _, n := range e.nodes {
		n.writeLxml(b, ascii)
		if n.tail != nil {
			writeEscaped(b, *n.tail, false, ascii)
		}
	}
	b.WriteString("</" + e.qname + ">")
}

// writeEscaped writes text or an attribute value escaped as libxml2 does.
func writeEscaped(b *strings.Builder, s string, attr, ascii bool) {
	for _, r := range s {
		switch {
		case r == '&':
			b.WriteString("&amp;")
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '\r':
			b.WriteString("&#13;")
		case attr && r == '"':
			b.WriteString("&quot;")
		case attr && r == '\n':
			b.WriteString("&#10;")
		case attr && r == '\t':
			b.WriteString("&#9;")
		case ascii && r > 127:
			b.WriteString("&#" + strconv.Itoa(int(r)) + ";")
		default:
			b.WriteRune(r)
		}
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

// openNode is an element being parsed, with what libxml2's blank-text
// heuristic (areBlanks in parser.c) looks at.
type openNode struct {
	el                  *element
	hasNodes            bool
	firstText, lastText bool
	lastNode            *element // the last child node, whose tail text goes to
}

// parseXML parses one XML document into its root element. It fails on
// malformed XML, on a document without a root element and on content after
// the root, and bounds nesting depth and element count. HTML named entities
// (&nbsp; and friends) are accepted, since hand-written problem XML uses
// them. Whitespace-only text is dropped where the platform's parser
// (remove_blank_text=True) drops it: between element children that are not
// mixed with text.
func parseXML(data []byte) (*element, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	d.Entity = xml.HTMLEntity
	var (
		root    *element
		stack   []*openNode
		count   int
		pending xml.Token
	)
	next := func() (xml.Token, error) {
		if pending != nil {
			t := pending
			pending = nil
			return t, nil
		}
		t, err := d.RawToken()
		if err != nil {
			return nil, err
		}
		return xml.CopyToken(t), nil
	}
	syntax := func(msg string) error {
		line, _ := d.InputPos()
		return &xml.SyntaxError{Msg: msg, Line: line}
	}
	addNode := func(n *element) {
		if len(stack) == 0 {
			return
		}
		top := stack[len(stack)-1]
		top.el.nodes = append(top.el.nodes, n)
		top.hasNodes, top.lastText, top.lastNode = true, false, n
	}
	for {
		tok, err := next()
		if errors.Is(err, io.EOF) {
			if len(stack) > 0 {
				return nil, syntax("unexpected EOF")
			}
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
			el := &element{Tag: t.Name.Local, qname: qualified(t.Name), Attrs: make(map[string]string, len(t.Attr)), Line: line}
			for _, a := range t.Attr {
				if a.Name.Space == "" && a.Name.Local != "xmlns" {
					if _, dup := el.Attrs[a.Name.Local]; dup {
						return nil, syntax("attribute " + a.Name.Local + " redefined")
					}
					el.attrOrder = append(el.attrOrder, a.Name.Local)
					el.Attrs[a.Name.Local] = a.Value
				}
				a.Value = normalizeAttr(a.Value)
				el.rawAttrs = append(el.rawAttrs, a)
			}
			if len(stack) > 0 {
				parent := stack[len(stack)-1].el
				parent.Children = append(parent.Children, el)
				addNode(el)
			} else {
				root = el
			}
			stack = append(stack, &openNode{el: el})
		case xml.EndElement:
			if len(stack) == 0 {
				return nil, syntax("unexpected end element </" + qualified(t.Name) + ">")
			}
			top := stack[len(stack)-1]
			if q := qualified(t.Name); q != top.el.qname {
				return nil, syntax("element <" + top.el.qname + "> closed by </" + q + ">")
			}
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) == 0 {
				if len(bytes.TrimSpace(t)) > 0 {
					line, _ := d.InputPos()
					return nil, fmt.Errorf("line %d: text outside the root element", line)
				}
				continue
			}
			top := stack[len(stack)-1]
			top.el.Text += string(t)
			if isBlank(t) {
				following, err := next()
				if err != nil && !errors.Is(err, io.EOF) {
					return nil, err
				}
				pending = following
				_, closes := following.(xml.EndElement)
				keep := (!top.hasNodes && closes) || top.lastText || top.firstText
				if !keep {
					continue
				}
			}
			text := string(t)
			switch {
			case top.lastNode != nil:
				top.lastNode.tail = appendText(top.lastNode.tail, text)
			default:
				top.el.text = appendText(top.el.text, text)
				if !top.hasNodes {
					top.firstText = true
				}
			}
			top.hasNodes, top.lastText = true, true
		case xml.Comment:
			addNode(&element{kind: commentNode, data: string(t)})
		case xml.ProcInst:
			if t.Target == "xml" {
				continue
			}
			addNode(&element{kind: piNode, qname: t.Target, data: strings.TrimLeft(string(t.Inst), " \t\r\n")})
		}
	}
	if root == nil {
		return nil, errors.New("no root element")
	}
	return root, nil
}

func qualified(n xml.Name) string {
	if n.Space != "" {
		return n.Space + ":" + n.Local
	}
	return n.Local
}

func isBlank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return false
		}
	}
	return true
}

func appendText(p *string, s string) *string {
	if p == nil {
		return &s
	}
	v := *p + s
	return &v
}

// normalizeAttr applies XML attribute-value normalization: a literal tab,
// newline or carriage return becomes a space.
func normalizeAttr(v string) string {
	return strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return ' '
		}
		return r
	}, v)
}
