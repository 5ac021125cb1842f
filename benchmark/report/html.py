"""``index.html``: header, warnings, every table and every figure on one self-contained page
(figures are referenced by relative file name, so the folder can be moved or served as is)."""

from __future__ import annotations

import html
from pathlib import Path

from benchmark.report import header as hdr
from benchmark.report.collect import Header
from benchmark.report.tables import HTML, caption, display
from benchmark.suite import Suite

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }
.warning { background: #c0392b; color: white; font-weight: bold; padding: .8em 1em; margin: .5em 0; border-radius:
4px; font-size: 1.1em; }
.note { background: #fff4d6; padding: .4em 1em; margin: .3em 0; border-radius: 4px; }
dl.header { display: grid; grid-template-columns: max-content auto; gap: .2em 1em; }
dl.header dt { font-weight: bold; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { padding: .3em .8em; border-bottom: 1px solid #ccc; text-align: right; }
th:first-child, td:first-child { text-align: left; }
thead th { border-bottom: 2px solid #222; }
figure { margin: 1.5em 0; }
figure img { max-width: 100%; border: 1px solid #ddd; }
.caption, .footnotes { color: #555; font-size: .9em; }
"""


def page(
    sections: list[Suite],
    frame,
    header: Header,
    incomplete: list[str],
    figures: list[tuple[Path, str]],
    files: list[str],
    metrics: list[str] | None = None,
) -> str:
    e = html.escape
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{e(header.suite)} · {e(header.dataset)}</title>",
        f"<style>{STYLE}</style></head><body>",
        f"<h1>{e(header.title)}</h1>",
    ]
    out += [f'<div class="warning">⚠ WARNING — {e(w)}</div>' for w in hdr.warnings(header)]
    out.append('<dl class="header">')
    out += [f"<dt>{e(label)}</dt><dd>{e(value)}</dd>" for label, value in hdr.lines(header)]
    out.append("</dl>")
    out += [f'<div class="note">{e(n)}</div>' for n in hdr.notes(header, incomplete)]
    for section in sections:
        columns, rows, footnotes = display(section, frame[frame["table"] == section.name], HTML, metrics)
        out += [
            f"<h2>{e(section.name)}: {e(section.title)}</h2>",
            f'<p class="caption">{e(caption(section, header))}</p>',
            "<table>",
        ]
        out.append("<thead><tr>" + "".join(f"<th>{c}</th>" for c in columns) + "</tr></thead><tbody>")
        out += ["<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>" for cells in rows]
        out.append("</tbody></table>")
        if footnotes:
            out.append('<ul class="footnotes">' + "".join(f"<li>{f}</li>" for f in footnotes) + "</ul>")
    out.append("<h2>Figures</h2>")
    for path, title in figures:
        out.append(f'<figure><img src="{e(path.name)}" alt="{e(title)}"><figcaption>{e(title)}</figcaption></figure>')
    out.append("<h2>Files</h2><ul>" + "".join(f'<li><a href="{e(f)}">{e(f)}</a></li>' for f in files) + "</ul>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"
