package router

// windowFit is the context-window pre-skip of one run (see
// Plan.PromptTokens). The zero value skips nothing.
type windowFit struct {
	on      bool // some candidate's known window is too small
	anyFits bool // and some other candidate fits (or its window is unknown)
	largest int  // the largest known window among the candidates
}

// windowFit sizes the request against the candidates' windows.
func (p *Plan) windowFit() windowFit {
	var f windowFit
	if p.PromptTokens <= 0 {
		return f
	}
	for i := range p.Candidates {
		t := &p.Candidates[i]
		if t.Provider == nil {
			continue
		}
		if p.tooSmall(t) {
			f.on = true
		} else {
			f.anyFits = true
		}
		f.largest = max(f.largest, t.ContextWindow)
	}
	return f
}

// skip reports whether t is left out: too small while another candidate
// fits or, when none fits, smaller than the largest.
func (f windowFit) skip(p *Plan, t *Target) bool {
	switch {
	case !f.on:
		return false
	case f.anyFits:
		return p.tooSmall(t)
	}
	return t.ContextWindow < f.largest
}

// tooSmall reports whether the request, with the tokens it may answer
// with at t (its max tokens, capped by t's), exceeds t's known window.
func (p *Plan) tooSmall(t *Target) bool {
	if t.ContextWindow <= 0 {
		return false
	}
	out := max(p.MaxTokens, 0)
	if t.MaxTokens > 0 && (out == 0 || out > t.MaxTokens) {
		out = t.MaxTokens
	}
	return p.PromptTokens+out > t.ContextWindow
}
