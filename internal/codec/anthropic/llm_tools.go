package anthropic

import (
	"fmt"
	"strconv"

	"github.com/sluicehq/sluice/internal/jsonw"
	"github.com/sluicehq/sluice/internal/llm"
)

// appendTools writes "tools" and "tool_choice".
func (w *partWriter) appendTools(req *llm.Request) error {
	if len(req.Tools) == 0 {
		return nil
	}
	w.dst = append(w.dst, `,"tools":[`...)
	for i := range req.Tools {
		t := &req.Tools[i]
		if i > 0 {
			w.dst = append(w.dst, ',')
		}
		path := toolLoc(i)
		if t.Raw != nil && req.Format == Format {
			if err := w.appendRawBlock(t.Raw, path); err != nil {
				return err
			}
			continue
		}
		if t.Type != "" && t.Type != "function" {
			e := llm.Unsupported(w.provider, path.String())
			e.Message = fmt.Sprintf("%s: tools of type %q are not supported by provider %q", path, t.Type, w.provider)
			return e
		}
		w.dst = append(w.dst, `{"name":`...)
		w.dst = jsonw.AppendString(w.dst, t.Name)
		if t.Description != "" {
			w.dst = appendStringField(w.dst, "description", t.Description)
		}
		var err error
		if t.Parameters == nil {
			w.dst = append(w.dst, `,"input_schema":{"type":"object","properties":{}}`...)
		} else if w.dst, err = appendRawField(w.dst, "input_schema", t.Parameters); err != nil {
			return w.rawError(path.String()+".parameters", err)
		}
		if t.Strict != nil {
			w.dst = append(jsonw.AppendKey(w.dst, "strict"), strconv.FormatBool(*t.Strict)...)
		}
		if t.CacheControl != nil {
			if w.dst, err = appendRawField(w.dst, "cache_control", t.CacheControl); err != nil {
				return w.rawError(path.String()+".cache_control", err)
			}
		}
		w.dst = append(w.dst, '}')
	}
	w.dst = append(w.dst, ']')

	tc := req.ToolChoice
	noParallel := req.ParallelToolCalls != nil && !*req.ParallelToolCalls
	if tc == nil && !noParallel {
		return nil
	}
	mode, name := llm.ToolChoiceAuto, ""
	if tc != nil {
		mode, name = tc.Mode, tc.Name
		noParallel = noParallel || tc.DisableParallel
	}
	switch mode {
	case llm.ToolChoiceNone:
		w.dst = append(w.dst, `,"tool_choice":{"type":"none"}`...)
		return nil
	case llm.ToolChoiceRequired:
		w.dst = append(w.dst, `,"tool_choice":{"type":"any"`...)
	case llm.ToolChoiceFunction:
		w.dst = append(w.dst, `,"tool_choice":{"type":"tool","name":`...)
		w.dst = jsonw.AppendString(w.dst, name)
	default:
		w.dst = append(w.dst, `,"tool_choice":{"type":"auto"`...)
	}
	if noParallel {
		w.dst = append(w.dst, `,"disable_parallel_tool_use":true`...)
	}
	w.dst = append(w.dst, '}')
	return nil
}

// toolLoc names tools[i] in errors.
type toolLoc int

func (t toolLoc) String() string { return fmt.Sprintf("tools[%d]", int(t)) }
