package ikedump

import (
	"encoding/json"
	"io"
	"strings"
)

// WriteJSON writes the report as the single JSON object of CONTRACT.md.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes the step-by-step trace, one line per step.
func (r *Report) WriteText(w io.Writer) error {
	_, err := io.WriteString(w, strings.Join(r.Steps, "\n")+"\n")
	return err
}

// OK reports whether every message decoded and every hash that could be
// checked verified.
func (r *Report) OK() bool { return r.Failures == 0 }
