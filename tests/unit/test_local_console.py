"""deploy/local/console.py: the Grafana dashboard's panels as a Prometheus console page (the real Prometheus and
Chromium: tests/integration/test_local_dashboard.py)."""
from __future__ import annotations

import json
import re

import pytest

from deploy.local import console

DASHBOARD = json.loads(console.DASHBOARD.read_text("utf-8"))


def test_every_panel_that_queries_has_its_graph_with_its_queries_and_legends():
    page = console.page(DASHBOARD)
    graphs = [json.loads(m) for m in re.findall(r"\}, (\{.*?\})\)\);</script>", page)]
    queried = [p for p in DASHBOARD["panels"] if p.get("targets")]
    assert [g["expr"] for g in graphs] == [[t["expr"] for t in p["targets"]] for p in queried]
    assert all("{{" not in name for g in graphs for name in g["name"])
    assert ["[[group]] ← [[topic]]"] in [g["name"] for g in graphs]


@pytest.mark.parametrize("grafana, console_words", [("{{service}} {{topic}}", "[[service]] [[topic]]"),
                                                   ("paid {{ purpose }}", "paid [[purpose]]"), ("short", "short")])
def test_legends_are_said_in_the_console_librarys_brackets(grafana, console_words):
    assert console.legend(grafana) == console_words


def test_a_query_the_template_engine_would_read_is_refused():
    bad = {"title": "x", "panels": [{"title": "p", "targets": [{"expr": 'up{job="{{x}}"}'}]}]}
    with pytest.raises(ValueError, match="console template"):
        console.page(bad)
