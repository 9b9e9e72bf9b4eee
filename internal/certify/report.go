package certify

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// excerptLines is how many log lines of an item the report shows; the
// whole excerpt is in logs/<id>.log.
const excerptLines = 12

// writeReport writes report.md and report.html into rep.Dir, then makes
// sure the API key is nowhere in the folder.
func writeReport(rep *Report, apiKey string) error {
	md := markdown(rep)
	if err := os.WriteFile(filepath.Join(rep.Dir, "report.md"), []byte(md), 0o644); err != nil {
		return fmt.Errorf("certify: write report.md: %w", err)
	}
	var h bytes.Buffer
	if err := htmlReport.Execute(&h, rep); err != nil {
		return fmt.Errorf("certify: render report.html: %w", err)
	}
	if err := os.WriteFile(filepath.Join(rep.Dir, "report.html"), h.Bytes(), 0o644); err != nil {
		return fmt.Errorf("certify: write report.html: %w", err)
	}
	return keyAbsent(rep.Dir, apiKey)
}

// keyAbsent fails if any file of dir holds the key.
func keyAbsent(dir, key string) error {
	if key == "" {
		return nil
	}
	var leaked []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte(key)) {
			leaked = append(leaked, path)
			return os.Remove(path)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("certify: check the evidence for the API key: %w", err)
	}
	if len(leaked) > 0 {
		return fmt.Errorf("certify: %s held the API key and were removed", strings.Join(leaked, ", "))
	}
	return nil
}

// stateMark is how a state reads in the summary table.
func stateMark(s State) string {
	switch s {
	case StatePass:
		return "✅ pass"
	case StateFail:
		return "❌ fail"
	case StateManual:
		return "👤 manual"
	default:
		return "⏭ skipped"
	}
}

// stateWord is how a state reads in the HTML report (a badge; no emoji,
// which printers and some browsers lack).
func stateWord(s State) string { return strings.ToUpper(string(s)) }

// tail is the last n lines.
func tail(lines []string, n int) []string {
	if len(lines) > n {
		return lines[len(lines)-n:]
	}
	return lines
}

// mdCell makes text safe in a Markdown table cell.
func mdCell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}

func markdown(rep *Report) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Centrapay integration checklist — evidence from centrapos\n\n")
	fmt.Fprintf(&b, "- Target: %s\n- Centrapay base URL: %s\n- Run: %s, took %s\n", rep.Target, rep.CentrapayURL,
		rep.Started.Format(time.RFC3339), rep.Duration.Round(time.Millisecond))
	fmt.Fprintf(&b, "- Result: %d pass, %d fail, %d manual (need a person), %d skipped\n", rep.Counts.Pass, rep.Counts.Fail, rep.Counts.Manual, rep.Counts.Skipped)
	if rep.BrowserNote != "" {
		fmt.Fprintf(&b, "- Browser: %s\n", rep.BrowserNote)
	}
	b.WriteString("\nItems and titles are Centrapay's (https://docs.centrapay.com/guides/integration-checklist). Times are UTC.\n\n")
	b.WriteString("| Item | Title | Kind | Result | Summary |\n|---|---|---|---|---|\n")
	for _, r := range rep.Results {
		fmt.Fprintf(&b, "| [%s](#item-%s) | %s | %s | %s | %s |\n", r.ID, anchor(r.ID), mdCell(r.Title), r.Kind, stateMark(r.State), mdCell(r.Summary))
	}
	for _, r := range rep.Results {
		fmt.Fprintf(&b, "\n## <a id=\"item-%s\"></a>%s %s — %s\n\n", anchor(r.ID), r.ID, r.Title, stateMark(r.State))
		fmt.Fprintf(&b, "*%s · %s*\n\n", r.Section, r.Kind)
		fmt.Fprintf(&b, "**Result:** %s\n\n", r.Summary)
		if r.Checks != "" {
			fmt.Fprintf(&b, "**What is checked:** %s\n\n", r.Checks)
		}
		if r.Person != "" {
			fmt.Fprintf(&b, "**What a person does:** %s\n\n", r.Person)
		}
		if len(r.PaymentRequests) > 0 {
			fmt.Fprintf(&b, "**Payment Request ids:** `%s`\n\n", strings.Join(r.PaymentRequests, "`, `"))
		}
		if len(r.Facts) > 0 {
			b.WriteString("| Fact | Value |\n|---|---|\n")
			for _, f := range r.Facts {
				fmt.Fprintf(&b, "| %s | %s |\n", mdCell(f.Name), mdCell(f.Value))
			}
			b.WriteString("\n")
		}
		if len(r.Steps) > 0 {
			b.WriteString("**What was done:**\n\n")
			for _, s := range r.Steps {
				fmt.Fprintf(&b, "1. `%s` %s\n", s.At.Format("15:04:05.000"), s.Text)
			}
			b.WriteString("\n")
		}
		if len(r.RequestIDs) > 0 {
			fmt.Fprintf(&b, "**POS request ids (X-Request-Id):** %s\n\n", strings.Join(r.RequestIDs, ", "))
		}
		for _, s := range r.Screenshots {
			fmt.Fprintf(&b, "![%s](%s)\n\n", s, s)
		}
		if r.LogFile != "" {
			fmt.Fprintf(&b, "**Server log** ([%s](%s), %d lines; the last %d):\n\n```\n%s\n```\n", r.LogFile, r.LogFile,
				len(r.LogExcerpt), len(tail(r.LogExcerpt, excerptLines)), strings.Join(tail(r.LogExcerpt, excerptLines), "\n"))
		}
		if len(r.Steps) > 0 {
			fmt.Fprintf(&b, "\nStarted %s, took %s.\n", r.Started.Format("15:04:05.000"), r.Duration.Round(time.Millisecond))
		}
	}
	return b.String()
}

func anchor(id string) string { return strings.ReplaceAll(id, ".", "-") }

var htmlReport = template.Must(template.New("report").Funcs(template.FuncMap{
	"mark":   stateWord,
	"anchor": anchor,
	"tail":   func(l []string) []string { return tail(l, excerptLines) },
	"clock":  func(t time.Time) string { return t.Format("15:04:05.000") },
	"rfc":    func(t time.Time) string { return t.Format(time.RFC3339) },
	"round":  func(d time.Duration) time.Duration { return d.Round(time.Millisecond) },
	"join":   strings.Join,
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Centrapay integration checklist — evidence from centrapos</title>
<style>
body{font:15px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;padding:0 1em;color:#111}
table{border-collapse:collapse;width:100%;margin:.5em 0 1em}
th,td{border:1px solid #ccc;padding:.3em .5em;text-align:left;vertical-align:top}
th{background:#f2f4f8}
td.pass,td.fail,td.manual,td.skipped,span.pass,span.fail,span.manual,span.skipped{font-weight:bold;white-space:nowrap}
.pass{color:#0a6b2d}.fail{color:#b00020}.manual{color:#6b4a00}.skipped{color:#555}
tr.fail{background:#fdecee}
section{border-top:2px solid #0b1f4d;margin-top:1.5em}
pre{background:#f6f6f6;padding:.5em;overflow-x:auto;font-size:12px}
img{max-width:100%;border:1px solid #ccc;margin:.3em 0}
code{font-size:13px}
</style></head><body>
<h1>Centrapay integration checklist — evidence from centrapos</h1>
<ul>
<li>Target: {{.Target}}</li>
<li>Centrapay base URL: {{.CentrapayURL}}</li>
<li>Run: {{rfc .Started}}, took {{round .Duration}}</li>
<li>Result: {{.Counts.Pass}} pass, {{.Counts.Fail}} fail, {{.Counts.Manual}} manual (need a person), {{.Counts.Skipped}} skipped</li>
{{with .BrowserNote}}<li>Browser: {{.}}</li>{{end}}
</ul>
<p>Items and titles are Centrapay's (<a href="https://docs.centrapay.com/guides/integration-checklist">integration checklist</a>). Times are UTC.</p>
<table id="summary"><thead><tr><th>Item</th><th>Title</th><th>Kind</th><th>Result</th><th>Summary</th></tr></thead><tbody>
{{range .Results}}<tr class="{{.State}}"><td><a href="#item-{{anchor .ID}}">{{.ID}}</a></td><td>{{.Title}}</td><td>{{.Kind}}</td><td class="{{.State}}">{{mark .State}}</td><td>{{.Summary}}</td></tr>
{{end}}</tbody></table>
{{range .Results}}<section id="item-{{anchor .ID}}">
<h2>{{.ID}} {{.Title}} — <span class="{{.State}}">{{mark .State}}</span></h2>
<p><i>{{.Section}} · {{.Kind}}</i></p>
<p><b>Result:</b> {{.Summary}}</p>
{{with .Checks}}<p><b>What is checked:</b> {{.}}</p>{{end}}
{{with .Person}}<p><b>What a person does:</b> {{.}}</p>{{end}}
{{with .PaymentRequests}}<p><b>Payment Request ids:</b> {{range $i, $id := .}}{{if $i}}, {{end}}<code>{{$id}}</code>{{end}}</p>{{end}}
{{with .Facts}}<table><tr><th>Fact</th><th>Value</th></tr>{{range .}}<tr><td>{{.Name}}</td><td>{{.Value}}</td></tr>{{end}}</table>{{end}}
{{with .Steps}}<p><b>What was done:</b></p><ol>{{range .}}<li><code>{{clock .At}}</code> {{.Text}}</li>{{end}}</ol>{{end}}
{{with .RequestIDs}}<p><b>POS request ids (X-Request-Id):</b> {{join . ", "}}</p>{{end}}
{{range .Screenshots}}<p><a href="{{.}}"><img src="{{.}}" alt="{{.}}"></a></p>{{end}}
{{if .LogFile}}<p><b>Server log</b> (<a href="{{.LogFile}}">{{.LogFile}}</a>; the last lines):</p><pre>{{range tail .LogExcerpt}}{{.}}
{{end}}</pre>{{end}}
{{if .Steps}}<p>Started {{clock .Started}}, took {{round .Duration}}.</p>{{end}}
</section>
{{end}}</body></html>
`))
