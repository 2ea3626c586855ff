"""Program files as a center keeps them: a refused file is named with its field; the demo calls of earlier runs
that this version refuses are moved aside, never silently loaded or lost."""
import json
from pathlib import Path

import pytest

from deploy.local.procs import retire_refused_demo_calls
from sme_schemas.program import load_programs

SOS = json.loads((Path(__file__).resolve().parents[2] / "deploy/programs/gimpo-sos-2024.json").read_text("utf-8"))


def _old_style(program_id: str) -> dict:
    sheet = {k: v for k, v in SOS["document_score"].items() if k != "bonus_items"}
    return {**SOS, "program_id": program_id, "document_score": {**sheet, "bonus_per_certification": 2}}


def test_a_refused_program_file_is_named_with_its_field(tmp_path):
    (tmp_path / "good.json").write_text(json.dumps(SOS, ensure_ascii=False), "utf-8")
    (tmp_path / "old.json").write_text(json.dumps(_old_style("gimpo-sos-old"), ensure_ascii=False), "utf-8")
    with pytest.raises(ValueError, match=r"(?s)old\.json refused: .*document_score.*bonus_per_certification"):
        load_programs(str(tmp_path))


def test_refused_demo_calls_are_retired_with_their_reason_and_the_rest_load(tmp_path, capsys):
    (tmp_path / "good.json").write_text(json.dumps(SOS, ensure_ascii=False), "utf-8")
    (tmp_path / "gimpo-sos-demo-1.json").write_text(json.dumps(_old_style("gimpo-sos-demo-1")), "utf-8")
    retire_refused_demo_calls(tmp_path)
    assert sorted(p.name for p in tmp_path.glob("*.json")) == ["good.json"]
    assert (tmp_path / "retired" / "gimpo-sos-demo-1.json").exists()
    assert "gimpo-sos-demo-1.json: document_score" in capsys.readouterr().out
    assert list(load_programs(str(tmp_path))) == ["gimpo-sos-2024"]
