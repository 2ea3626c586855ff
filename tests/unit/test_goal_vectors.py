"""The dense arm's batch side (issue 25): goals embedded per shard on any host and merged by the build, updates
embedding only what changed, progress with an ETA. The bundled encoder and index files only."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
from hypothesis import given, strategies as st

from bench.korsts import prior_projects, read_pairs
from screening.similarity.dense import (DIMENSIONS, Progress, Vectors, dense_text, embed_all, goals_of, key_of,
                                        shard_of)
from screening.similarity.index import PriorProjectIndex, build

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "korsts-sample" / "sts-train-sample.tsv"


def _export(tmp_path: Path, count: int = 24) -> Path:
    path = tmp_path / "export.jsonl"
    records = list(prior_projects(read_pairs(SAMPLE)))[:count]
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records), encoding="utf-8")
    return path


def _similarity(*args: str) -> dict:
    run = subprocess.run([sys.executable, "-m", "screening", "similarity", *args], capture_output=True, text=True,
                         check=True)
    return json.loads(run.stdout)


def test_a_plan_is_embedded_by_its_goal_or_its_first_element():
    assert dense_text({"goal": "  스마트  공장\n구축 ", "method": "m"}) == "스마트 공장 구축"
    assert dense_text({"goal": " ", "method": None, "content": "내용"}) == "내용"
    assert dense_text({"title": "제목만"}) is None


@given(st.lists(st.text(min_size=1, max_size=30), min_size=1, max_size=40, unique=True), st.integers(1, 16))
def test_every_project_falls_in_exactly_one_shard(ids, shards):
    for pid in ids:
        assert 0 <= shard_of(pid, shards) < shards
        assert 0 <= key_of(pid) < 2**63 and key_of(pid) == key_of(str(pid))


def test_shards_embedded_apart_make_the_same_vectors_and_the_build_embeds_nothing_again(tmp_path):
    export = _export(tmp_path)
    parts = [tmp_path / f"part-{k}.npz" for k in (1, 2, 3)]
    counts = [_similarity("embed", "--in", str(export), "--out", str(p), "--shard", f"{k}/3", "--workers", "1")
              ["goals"] for k, p in zip((1, 2, 3), parts)]
    assert sum(counts) == 24 and all(counts)
    merged = Vectors.concat(Vectors.load(p) for p in parts)
    assert sorted(merged.ids) == sorted(r["id"] for r in map(json.loads, export.read_text().splitlines()))
    assert merged.vectors.shape == (24, DIMENSIONS)
    alone = embed_all(goals_of(map(json.loads, export.read_text().splitlines())), workers=1, progress=False)
    mine = merged.by_id()
    for pid, vector in zip(alone.ids, alone.vectors):
        assert float(vector @ mine[pid][1]) > 0.999  # float16 on disk, the same vector
    report = _similarity("index", "--in", str(export), "--out", str(tmp_path / "index"), "--vectors",
                         *map(str, parts))
    assert (report["embedded"], report["reused_vectors"]) == (0, 24)
    index = PriorProjectIndex.open(tmp_path / "index")
    first = json.loads(export.read_text().splitlines()[5])
    assert index.search({"goal": first["goal"]}, top=1)[0].record["id"] == first["id"]


def test_a_bad_shard_is_refused_naming_the_rule(tmp_path):
    refused = subprocess.run([sys.executable, "-m", "screening", "similarity", "embed", "--in",
                              str(_export(tmp_path)), "--out", str(tmp_path / "v.npz"), "--shard", "4/3"],
                             capture_output=True, text=True)
    assert refused.returncode == 2 and "K must be between 1 and N" in refused.stderr


def test_an_update_embeds_only_new_and_changed_goals(tmp_path):
    export = _export(tmp_path, 12)
    records = [json.loads(line) for line in export.read_text().splitlines()]
    build(iter(records), tmp_path / "index", workers=1)
    changed = {**records[0], "goal": "전혀 다른 개발목표: 폐배터리 재활용 공정의 자동화"}
    retitled = {**records[1], "title": "과제명만 바뀜"}
    added = {**records[2], "id": "NEW-1", "goal": "물류 창고의 재고 파악을 드론으로 자동화한다."}
    (tmp_path / "updates.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False)
                                                      for r in (changed, retitled, added)), encoding="utf-8")
    report = _similarity("update", "--index", str(tmp_path / "index"), "--in", str(tmp_path / "updates.jsonl"),
                         "--workers", "1")
    assert (report["embedded"], report["reused_vectors"]) == (2, 1)
    index = PriorProjectIndex.open(tmp_path / "index")
    assert len(index) == 13
    best = index.search({"goal": "드론으로 창고 재고를 자동으로 파악"}, top=1)[0]
    assert best.record["id"] == "NEW-1" and best.semantic > 0.85
    moved = index.search({"goal": changed["goal"]}, top=1)[0]
    assert moved.record["id"] == changed["id"] and moved.semantic > 0.95  # query: and passage: prefixes differ


def test_a_bulk_embedding_says_how_far_it_has_got_and_when_it_will_end(capsys, monkeypatch):
    import screening.similarity.dense as dense

    monkeypatch.setattr(dense, "PROGRESS_EVERY_SECONDS", 0.0)
    meter = Progress(1_000)
    meter.add(250)
    meter.add(750)
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith("similarity: 250 of 1,000 goals embedded (") and "left)" in lines[0]
    assert lines[-1].startswith("similarity: 1,000 of 1,000 goals embedded") and "about 0 s left" in lines[-1]


def test_vectors_survive_the_file_they_are_kept_in(tmp_path):
    vectors = Vectors(["A", "B"], ["h1", "h2"], np.eye(2, DIMENSIONS, dtype=np.float32))
    vectors.save(tmp_path / "v.npz")
    again = Vectors.load(tmp_path / "v.npz")
    assert again.ids == ["A", "B"] and again.hashes == ["h1", "h2"]
    assert np.array_equal(again.vectors, vectors.vectors)
