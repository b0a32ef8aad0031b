package main

import (
	"log/slog"
	"os"
	"sync"

	"github.com/mattn/go-isatty"
	"github.com/schollz/progressbar/v3"
)

// stageBar draws one progress bar per pipeline stage on a terminal and
// nothing otherwise (logs carry the information there).
type stageBar struct {
	mu    sync.Mutex
	stage string
	bar   *progressbar.ProgressBar
}

func isTerminal() bool {
	return isatty.IsTerminal(os.Stderr.Fd()) || isatty.IsCygwinTerminal(os.Stderr.Fd())
}

// progressFunc returns a progress callback: a bar per stage on a terminal,
// otherwise a structured log line per tenth of each stage.
func progressFunc() (func(stage string, done, total int), func()) {
	if !isTerminal() {
		l := &stageLog{}
		return l.update, func() {}
	}
	b := &stageBar{}
	return b.update, b.finish
}

// stageLog logs a stage's progress at every tenth, for logs collected off a
// terminal.
type stageLog struct {
	mu     sync.Mutex
	stage  string
	logged int
}

func (l *stageLog) update(stage string, done, total int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if stage != l.stage {
		l.stage, l.logged = stage, -1
	}
	if total <= 0 {
		return
	}
	tenth := done * 10 / total
	if tenth > l.logged {
		l.logged = tenth
		slog.Info("progress", "stage", stage, "done", done, "total", total)
	}
}

func (b *stageBar) update(stage string, done, total int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.bar == nil || b.stage != stage {
		if b.bar != nil {
			b.bar.Finish()
		}
		b.stage = stage
		b.bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(os.Stderr),
			progressbar.OptionSetDescription(stage), progressbar.OptionShowCount(),
			progressbar.OptionClearOnFinish(), progressbar.OptionSetWidth(30))
	}
	b.bar.ChangeMax(total)
	b.bar.Set(done)
}

func (b *stageBar) finish() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.bar != nil {
		b.bar.Finish()
	}
}
