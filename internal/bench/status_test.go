package bench

import (
	"strings"
	"testing"
)

func TestParseStatus(t *testing.T) {
	s, err := ParseStatus([][2]string{
		{"Handler_read_key", "10"}, {"Handler_read_next", " 32 "}, {"Questions", "7"},
		{"Innodb_buffer_pool_resize_status", "Completed"}, // not a number: skipped
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(s) != 3 || s["Handler_read_next"] != 32 {
		t.Errorf("parsed %v", s)
	}
	if _, err := ParseStatus([][2]string{{"Questions", "1"}, {"Questions", "2"}}); err == nil {
		t.Error("a variable given twice was accepted")
	}
}

func TestStatusDelta(t *testing.T) {
	before := Status{"Handler_read_key": 100, "Handler_read_next": 1000, "Handler_read_rnd_next": 5,
		"Handler_read_retry": 3, "Handler_read_rnd_deleted": 9, "Questions": 40, "Rows_read": 7}
	after := Status{"Handler_read_key": 150, "Handler_read_next": 1900, "Handler_read_rnd_next": 5,
		"Handler_read_retry": 10, "Handler_read_rnd_deleted": 20, "Questions": 52, "Only_after": 1}
	d := after.Sub(before)
	if _, ok := d["Only_after"]; ok {
		t.Error("a counter missing before has a delta")
	}
	if _, ok := d["Rows_read"]; ok {
		t.Error("a counter missing after has a delta")
	}
	// key + next + rnd_next; retries and skipped deleted rows are not rows read.
	if got := d.RowsRead(); got != 50+900 {
		t.Errorf("rows read %d, want 950", got)
	}
	if got := (Status{"Questions": 1}).RowsRead(); got != -1 {
		t.Errorf("rows read without handler counters: %d, want -1 (unknown)", got)
	}
	if got := d.String(); !strings.HasPrefix(got, "Handler_read_key=50 ") {
		t.Errorf("String() = %q", got)
	}
}

// The meter turns the session's Questions counter into the statements
// between two points, without the meter's own probes.
func TestMeterBetween(t *testing.T) {
	m := &meter{}
	a := point{status: Status{"Questions": 11, "Handler_read_key": 5, "Rows_read": 2}, adjustQ: 11 - 2, stmts: 3}
	b := point{status: Status{"Questions": 30, "Handler_read_key": 105, "Rows_read": 90}, adjustQ: 30 - 5, stmts: 20}
	c := m.between(a, b)
	if c.Statements != 16 || c.RowsRead != 100 || c.ServerRowsRead != 88 {
		t.Errorf("between: %+v, want 16 statements, 100 rows read, 88 server rows read", c)
	}
	// Without session counters (SQLite), the reader's own count.
	c = m.between(point{stmts: 3}, point{stmts: 20})
	if c.Statements != 17 || c.RowsRead != -1 || c.ServerRowsRead != -1 {
		t.Errorf("between without counters: %+v", c)
	}
}

func TestParseVmHWM(t *testing.T) {
	got, err := parseVmHWM(strings.NewReader("Name:\tfigures\nVmPeak:\t  999 kB\nVmHWM:\t  123456 kB\nVmRSS:\t 1 kB\n"))
	if err != nil || got != 123456*1024 {
		t.Errorf("VmHWM %d, %v", got, err)
	}
	for _, bad := range []string{"Name: x\n", "VmHWM: 12 MB\n", "VmHWM: many kB\n"} {
		if _, err := parseVmHWM(strings.NewReader(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"134217728": 134217728, "128M": 128 << 20, "8G": 8 << 30, "8GiB": 8 << 30, "8gb": 8 << 30,
		"1.5G": 3 << 29, "512K": 512 << 10, " 2T ": 2 << 40,
	} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "G", "8X", "-1G", "eight"} {
		if _, err := ParseSize(bad); err == nil {
			t.Errorf("ParseSize(%q) accepted", bad)
		}
	}
}

func TestMachineParsers(t *testing.T) {
	cpu := parseCPUModel(strings.NewReader("processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) Processor\nmodel name\t: other\n"))
	if cpu != "Intel(R) Xeon(R) Processor" {
		t.Errorf("CPU %q", cpu)
	}
	if got := parseMemTotal(strings.NewReader("MemTotal:       24580000 kB\nMemFree: 1 kB\n")); got != 24580000*1024 {
		t.Errorf("MemTotal %d", got)
	}
	if got := parseMemTotal(strings.NewReader("MemFree: 1 kB\n")); got != 0 {
		t.Errorf("MemTotal without the line: %d", got)
	}
}

func TestWithDatabaseSuffix(t *testing.T) {
	got, err := withDatabaseSuffix("mysql://root:secret@127.0.0.1:3306/figures_large?socket=/x.sock", "_h2")
	if err != nil || got != "mysql://root:secret@127.0.0.1:3306/figures_large_h2?socket=/x.sock" {
		t.Errorf("got %q, %v", got, err)
	}
	if _, err := withDatabaseSuffix("mysql://root@127.0.0.1:3306/", "_h2"); err == nil {
		t.Error("a URL without a database was accepted")
	}
}
