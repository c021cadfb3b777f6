"""report.html: one self-contained page (inline CSS, SVG and JS; no external assets)."""

from __future__ import annotations

import html
import json
from collections import Counter
from typing import Any

from .matrix import STATUSES, interrupted_banner

COLOURS = {"pass": "#2e7d32", "fail": "#c62828", "doc ambiguity": "#ef6c00", "unsupported": "#6a1b9a",
           "blocked": "#455a64", "not targeted": "#78909c", "untested": "#bdbdbd",
           "not observable": "#8d6e63"}

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#222}
h1{margin:0 0 4px}h2{margin-top:28px}.meta{color:#555;font-size:14px}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{border-bottom:1px solid #e0e0e0;padding:4px 6px;
text-align:left;vertical-align:top}th{background:#fafafa;position:sticky;top:0}
.badge{display:inline-block;padding:1px 6px;border-radius:8px;color:#fff;font-size:12px;white-space:nowrap}
.filters{display:flex;gap:12px;margin:8px 0;flex-wrap:wrap}.filters label{font-size:13px}
pre{background:#f6f8fa;padding:8px;overflow:auto;max-height:360px;font-size:12px}
.cards{display:flex;gap:16px;flex-wrap:wrap}.card{border:1px solid #e0e0e0;border-radius:6px;padding:10px 14px}
.legend span{margin-right:10px;font-size:12px}
.reading{color:#555}.why{margin:4px 0;font-size:13px}
.interrupted{background:#c62828;color:#fff;font-weight:bold;padding:8px 12px;border-radius:6px;margin:8px 0}
"""

JS = """
function applyFilters(){
  const api=document.getElementById('f-api').value, lvl=document.getElementById('f-level').value,
        st=document.getElementById('f-status').value, q=document.getElementById('f-text').value.toLowerCase();
  let shown=0;
  for(const tr of document.querySelectorAll('#matrix tbody tr')){
    const ok=(!api||tr.dataset.api===api)&&(!lvl||tr.dataset.level===lvl)&&(!st||tr.dataset.status===st)
      &&(!q||tr.textContent.toLowerCase().includes(q));
    tr.style.display=ok?'':'none'; if(ok) shown++;
  }
  document.getElementById('shown').textContent=shown;
}
for(const id of ['f-api','f-level','f-status','f-text']){
  document.getElementById(id).addEventListener('input',applyFilters);
}
applyFilters();
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _badge(status: str) -> str:
    return f'<span class="badge" style="background:{COLOURS.get(status, "#999")}">{_e(status)}</span>'


def _ambiguity(row: dict[str, Any]) -> str:
    """The reason of a doc ambiguity: erratum ids linked to the errata table, then the stated reading."""
    if not row.get("ambiguity"):
        return _e(", ".join(row.get("errata", [])))
    links = ", ".join(f'<a href="#erratum-{_e(e)}">{_e(e)}</a>' for e in row.get("errata", []))
    reading = f'<span class="reading">reading: {_e(row["reading"])}</span>' if row.get("reading") else ""
    if not links and not reading:
        return _e(row["ambiguity"])
    return links + ("<br>" if links and reading else "") + reading


def _chart(summary: dict[str, dict[str, int]]) -> str:
    """A stacked horizontal bar per API, one segment per status."""
    width, bar_h, gap, label_w = 640, 22, 10, 70
    rows = list(summary.items())
    height = len(rows) * (bar_h + gap) + 10
    parts = [f'<svg role="img" aria-label="requirements by status" width="{width + label_w}" height="{height}">']
    for i, (api, counts) in enumerate(rows):
        total = sum(counts.values()) or 1
        y = i * (bar_h + gap) + 5
        parts.append(f'<text x="0" y="{y + 16}" font-size="13">{_e(api)}</text>')
        x = float(label_w)
        for status in STATUSES:
            n = counts.get(status, 0)
            if not n:
                continue
            w = width * n / total
            parts.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{COLOURS[status]}">'
                         f'<title>{_e(api)}: {n} {_e(status)}</title></rect>')
            if w > 24:
                parts.append(f'<text x="{x + 4:.1f}" y="{y + 16}" font-size="12" fill="#fff">{n}</text>')
            x += w
    parts.append("</svg>")
    legend = "".join(f'<span><span class="badge" style="background:{c}">&nbsp;</span> {_e(s)}</span>'
                     for s, c in COLOURS.items())
    return "".join(parts) + f'<div class="legend">{legend}</div>'


def render(doc: dict[str, Any], errata: list[dict[str, Any]]) -> str:
    meta, rows = doc["meta"], doc["requirements"]
    levels = Counter((r["api"], r["level"], r["status"]) for r in rows)
    apis = sorted({r["api"] for r in rows})
    cards = []
    for api in apis:
        lines = []
        for level in ("MUST", "SHOULD", "INTERPRETED"):
            counts = {s: levels[(api, level, s)] for s in STATUSES if levels[(api, level, s)]}
            if counts:
                lines.append(f"<div><b>{level}</b>: " + ", ".join(f"{n} {_e(s)}" for s, n in counts.items()) + "</div>")
        cards.append(f'<div class="card"><h3 style="margin:0">{_e(api)}</h3>{"".join(lines)}</div>')
    body_rows = []
    for r in rows:
        status = r["status"] + (f" ({r['outcome']})" if r["status"] == "doc ambiguity" else "")
        if r.get("blocked_by"):
            status = r["status"] + " by " + ", ".join(r["blocked_by"])
        tests = "<br>".join(_e(t.split("::")[-1]) for t in r["tests"][:6]) + (" ..." if len(r["tests"]) > 6 else "")
        body_rows.append(
            f'<tr data-api="{_e(r["api"])}" data-level="{_e(r["level"])}" data-status="{_e(r["status"])}">'
            f'<td><a id="{_e(r["id"])}"></a>{_e(r["id"])}</td><td>{_e(r["level"])}</td>'
            f'<td>{_badge(r["status"])}{"" if status == r["status"] else " " + _e(status[len(r["status"]):])}</td>'
            f'<td>{_e(r["statement"])}</td><td>{_ambiguity(r)}</td><td>{_e(r["source"])}</td>'
            f"<td>{tests}</td></tr>"
        )
    failures = []
    for r in rows:
        if r["outcome"] != "fail":
            continue
        evidence = "".join(f"<div><code>{_e(ev['test'])}</code><pre>{_e(ev['message'])}</pre></div>"
                           for ev in r["evidence"][:3])
        why = f'<p class="why">doc ambiguity: {_ambiguity(r)}</p>' if r.get("ambiguity") else ""
        failures.append(f'<details open><summary><b>{_e(r["id"])}</b> [{_e(r["level"])}] {_e(r["statement"])}'
                        f"</summary>{why}{evidence}</details>")
    errata_rows = "".join(
        f"<tr id=\"erratum-{_e(e['id'])}\"><td>{_e(e['id'])}</td><td>{_e(e['api'])}</td><td>{_e(e['says'])}</td>"
        f"<td>{_e(e['decision'])}</td><td>{_e('; '.join(e['sources']))}</td></tr>" for e in errata
    )
    options = lambda values: "".join(f'<option value="{_e(v)}">{_e(v)}</option>' for v in values)  # noqa: E731
    meta_rows = "".join(f"<tr><th>{_e(k)}</th><td>{_e(json.dumps(v) if isinstance(v, dict | list) else v)}</td></tr>"
                        for k, v in meta.items())
    banner = (f'<div class="interrupted" id="interrupted" role="alert">{_e(interrupted_banner(meta))}</div>'
              if meta.get("interrupted") else "")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Conformance report</title><style>{CSS}</style></head>
<body>
<h1>Conformance report</h1>
{banner}
<div class="meta">target: {_e(meta.get("target"))} &middot; started {_e(meta.get("started"))} &middot;
duration {_e(meta.get("duration_s"))} s &middot; suite {_e(meta.get("suite_version"))}</div>
<h2 id="summary">Summary</h2>
{_chart(doc["summary"])}
<div class="cards">{"".join(cards)}</div>
<h2 id="matrix-title">Requirements (<span id="shown"></span> shown)</h2>
<div class="filters">
<label>API <select id="f-api"><option value="">all</option>{options(apis)}</select></label>
<label>level <select id="f-level"><option value="">all</option>{options(["MUST", "SHOULD", "INTERPRETED"])}</select></label>
<label>status <select id="f-status"><option value="">all</option>{options(STATUSES)}</select></label>
<label>text <input id="f-text" type="search" placeholder="ID, words, test"></label>
</div>
<table id="matrix"><thead><tr><th>ID</th><th>level</th><th>status</th><th>requirement</th><th>doc ambiguity: why</th>
<th>source</th><th>tests</th></tr></thead><tbody>{"".join(body_rows)}</tbody></table>
<h2 id="failures">Failures ({len(failures)})</h2>
{"".join(failures) or "<p>None.</p>"}
<h2 id="errata">Errata</h2>
<table><thead><tr><th>ID</th><th>API</th><th>the documents say</th><th>decision</th><th>sources</th></tr></thead>
<tbody>{errata_rows}</tbody></table>
<h2 id="run">Run</h2>
<table>{meta_rows}</table>
<script>{JS}</script>
</body></html>
"""
