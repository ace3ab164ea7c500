package stats

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
	"unicode/utf8"
)

// WriteJSON writes r as one indented JSON document.
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// csvHeader is the one header of WriteCSV: every section shares the
// columns, and a row leaves empty what its section does not have.
var csvHeader = []string{"section", "name", "requests", "errors", "bytes_sent", "bytes_received",
	"p50_ms", "p90_ms", "p99_ms", "count_error"}

// WriteCSV writes r as one CSV table with a section column: summary,
// operation, status, error_code, top_key, top_remote_ip, top_user_agent,
// top_requester, top_access_key, hour (name = the hour's start, RFC 3339).
func WriteCSV(w io.Writer, r *Report) error {
	cw := csv.NewWriter(w)
	cw.Write(csvHeader)
	group := func(section string, g Group) {
		row := []string{section, g.Name, i64(g.Requests), i64(g.Errors), i64(g.BytesSent), i64(g.BytesReceived), "", "", "", ""}
		if g.Latency != nil {
			row[6], row[7], row[8] = i64(g.Latency.P50), i64(g.Latency.P90), i64(g.Latency.P99)
		}
		cw.Write(row)
	}
	group("summary", r.Total)
	for _, s := range []struct {
		name string
		gs   []Group
	}{{"operation", r.Operations}, {"status", r.Statuses}, {"error_code", r.ErrorCodes}} {
		for _, g := range s.gs {
			group(s.name, g)
		}
	}
	for _, s := range topLists(r) {
		for _, e := range s.entries {
			cw.Write([]string{s.section, e.Value, i64(e.Count), "", "", "", "", "", "", i64(e.Error)})
		}
	}
	for _, h := range r.Hours {
		group("hour", Group{Name: h.Start.Format(time.RFC3339), Totals: h.Totals})
	}
	cw.Flush()
	return cw.Error()
}

type topList struct {
	section, title string
	entries        []Entry
}

func topLists(r *Report) []topList {
	return []topList{
		{"top_key", "Top keys (bucket/key)", r.TopKeys},
		{"top_remote_ip", "Top remote IPs", r.TopRemoteIPs},
		{"top_user_agent", "Top user agents", r.TopUserAgents},
		{"top_requester", "Top requesters", r.TopRequesters},
		{"top_access_key", "Top access key ids", r.TopAccessKeys},
	}
}

// printable returns s, or s quoted Go-style when it holds a control
// character or invalid UTF-8: values come from clients (a user agent, a
// key), and raw escape sequences must not reach the reader's terminal nor
// break the table.
func printable(s string) string {
	if !utf8.ValidString(s) || strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) && r != ' ' }) >= 0 {
		return strconv.Quote(s)
	}
	return s
}

func i64(n int64) string { return strconv.FormatInt(n, 10) }

// WriteTable writes r as aligned plain-text tables, one per figure.
func WriteTable(w io.Writer, r *Report) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	p := func(format string, a ...any) { fmt.Fprintf(tw, format, a...) }
	span := "no lines"
	if !r.First.IsZero() {
		span = r.First.Format(time.RFC3339) + " .. " + r.Last.Format(time.RFC3339)
	}
	fmt.Fprintf(w, "%d objects, %d lines (%d malformed, %d outside the window), %s\n",
		r.Objects, r.Lines+r.Malformed, r.Malformed, r.OutsideWindow, span)
	groups := func(title string, gs []Group, lat bool) {
		fmt.Fprintf(w, "\n%s\n", title)
		if lat {
			p("name\trequests\terrors\tbytes sent\tbytes received\tp50 ms\tp90 ms\tp99 ms\t\n")
		} else {
			p("name\trequests\terrors\tbytes sent\tbytes received\t\n")
		}
		for _, g := range gs {
			p("%s\t%d\t%d\t%d\t%d\t", printable(g.Name), g.Requests, g.Errors, g.BytesSent, g.BytesReceived)
			if lat {
				if g.Latency != nil {
					p("%d\t%d\t%d\t", g.Latency.P50, g.Latency.P90, g.Latency.P99)
				} else {
					p("-\t-\t-\t")
				}
			}
			p("\n")
		}
		tw.Flush()
	}
	groups("Total", []Group{r.Total}, true)
	groups("By operation", r.Operations, true)
	groups("By status", r.Statuses, false)
	groups("By error code", r.ErrorCodes, false)
	for _, s := range topLists(r) {
		fmt.Fprintf(w, "\n%s (counts at most %d high)\n", s.title, r.TopError)
		p("requests\t  value\n")
		for _, e := range s.entries {
			p("%d\t  %s\n", e.Count, printable(e.Value))
		}
		tw.Flush()
	}
	fmt.Fprintf(w, "\nRequests per hour\n")
	p("hour\trequests\terrors\tbytes sent\tbytes received\t\n")
	for _, h := range r.Hours {
		p("%s\t%d\t%d\t%d\t%d\t\n", h.Start.Format("2006-01-02 15:04 -0700"), h.Requests, h.Errors, h.BytesSent, h.BytesReceived)
	}
	return tw.Flush()
}
