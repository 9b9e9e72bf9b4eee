package pos

// SetCrash makes e abandon its work, as a dying process would, the first
// time crash returns true for a point.
func SetCrash(e *Engine, crash func(point string) bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.crash = crash
}
