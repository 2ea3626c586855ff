"""The operators' dashboard on this machine. Grafana cannot be installed here (it is not in Debian's archive, its
packages live on dl.grafana.com, which this machine cannot reach, and its Go module is AGPL, which the registry here
marks not to use), so the local Prometheus draws the Grafana dashboard's panels itself, with its console templates
(Debian's package serves them and the graph library they use): one graph per panel, from the panel's own PromQL
and legend. deploy/grafana/dashboards/sme-platform.json stays the one source; Docker users get Grafana from it."""
from __future__ import annotations

import html
import json
import re
from pathlib import Path

from deploy.local.procs import ROOT

DASHBOARD = ROOT / "deploy" / "grafana" / "dashboards" / "sme-platform.json"
PAGE = "sme.html"
PATH = f"/consoles/{PAGE}"  # where Prometheus serves it
LIBRARY = """{{ define "sme_head" }}<!doctype html>
<html lang="ko"><head><meta charset="utf-8"><title>{{ . }}</title>
<link type="text/css" rel="stylesheet" href="{{ pathPrefix }}/classic/static/rickshaw/rickshaw.min.css">
<link type="text/css" rel="stylesheet" href="{{ pathPrefix }}/classic/static/bootstrap4/css/bootstrap.min.css">
<link type="text/css" rel="stylesheet" href="{{ pathPrefix }}/classic/static/css/prom_console.css">
<script src="{{ pathPrefix }}/classic/static/d3/d3.min.js"></script>
<script src="{{ pathPrefix }}/classic/static/rickshaw/rickshaw.min.js"></script>
<script src="{{ pathPrefix }}/classic/static/jquery/jquery.min.js"></script>
<script>var PATH_PREFIX = "{{ pathPrefix }}";</script>
<script src="{{ pathPrefix }}/classic/static/js/prom_console.js"></script>
<style>body { margin: 1rem 2rem; } section { margin-bottom: 2rem; } h2 { font-size: 1.1rem; }</style>
</head><body>{{ end }}
"""


def panels(dashboard: dict) -> list[dict]:
    """Each panel that queries something: its title, its expressions and their legends."""
    out = []
    for panel in dashboard["panels"]:
        targets = [t for t in panel.get("targets", []) if t.get("expr")]
        if targets:
            out.append({"title": panel["title"], "exprs": [t["expr"] for t in targets],
                        "names": [legend(t.get("legendFormat", "")) for t in targets]})
    return out


def dashboard_panels() -> list[dict]:
    """The panels of the dashboard this machine draws (deploy/grafana's)."""
    return panels(json.loads(DASHBOARD.read_text("utf-8")))


def legend(grafana: str) -> str:
    """Grafana's '{{service}} {{topic}}' in the console library's words, '[[service]] [[topic]]' (a '{{' would be
    read by Prometheus's template engine)."""
    return re.sub(r"\{\{\s*(\w+)\s*\}\}", r"[[\1]]", grafana)


def page(dashboard: dict) -> str:
    sections = []
    for n, p in enumerate(panels(dashboard)):
        for text in (*p["exprs"], *p["names"]):
            if "{{" in text or "}}" in text or "</" in text:
                raise ValueError(f"panel {p['title']!r}: {text!r} cannot go into a console template")
        graph = {"expr": p["exprs"], "name": [name or p["title"] for name in p["names"]], "height": 180, "width": 900,
                 "renderer": "line", "duration": 900}  # the main job's whole run, not an hour of nothing before it
        sections.append(f'<section><h2>{html.escape(p["title"])}</h2><div id="panel-{n}"></div>\n'
                        f'<script>new PromConsole.Graph(Object.assign({{node: document.getElementById("panel-{n}")}}, '
                        f"{json.dumps(graph, ensure_ascii=False)}));</script></section>")
    title = html.escape(dashboard.get("title", "SME support programs"))
    return (f'{{{{ template "sme_head" "{title}" }}}}\n<h1>{title}</h1>\n'
            '<p>Grafana 대시보드(deploy/grafana)의 패널을 이 컴퓨터의 Prometheus가 그립니다: 최근 15분, '
            '새로 고치면 지금까지.</p>\n' + "\n".join(sections) + "\n</body></html>\n")


def write(folder: Path, dashboard_file: Path = DASHBOARD) -> tuple[Path, Path]:
    """The console page and its library under `folder`: (templates, libraries), Prometheus's two flags."""
    dashboard = json.loads(dashboard_file.read_text("utf-8"))
    consoles, libraries = folder / "consoles", folder / "console_libraries"
    consoles.mkdir(parents=True, exist_ok=True)
    libraries.mkdir(parents=True, exist_ok=True)
    (consoles / PAGE).write_text(page(dashboard), "utf-8")
    (libraries / "sme.lib").write_text(LIBRARY, "utf-8")
    return consoles, libraries
