package stats

import (
	_ "embed"
	"encoding/json"
	"io"
	"strings"
)

// reportPage is the HTML report: CSS and the script that draws its charts
// (inline SVG) are in the page, and the report's JSON takes the place of
// the /*DATA*/ marker, so the file needs no network when it is viewed.
//
//go:embed report.html
var reportPage string

// WriteHTML writes r as one self-contained HTML page.
func WriteHTML(w io.Writer, r *Report) error {
	data, err := json.Marshal(r) // escapes <, > and &: the data cannot close its <script>
	if err != nil {
		return err
	}
	head, tail, ok := strings.Cut(reportPage, "/*DATA*/")
	if !ok {
		panic("stats: report.html has no /*DATA*/ marker")
	}
	for _, part := range [][]byte{[]byte(head), data, []byte(tail)} {
		if _, err := w.Write(part); err != nil {
			return err
		}
	}
	return nil
}
