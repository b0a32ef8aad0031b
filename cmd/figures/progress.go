package main

import (
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

// progressFunc returns a pipeline progress callback, or nil off a terminal.
func progressFunc() (func(stage string, done, total int), func()) {
	if !isTerminal() {
		return nil, func() {}
	}
	b := &stageBar{}
	return b.update, b.finish
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
