"""The AsyncAPI documents as an integrating team reads them (issue 27): every exported document parsed and validated
by the official AsyncAPI parser (@asyncapi/parser, installed by deploy/local/bootstrap.sh), every message example
valid against its payload and header schemas, and what a team needs to find in them: every header we send, the
key of each type, the dead-letter topics, the filing systems' own topics and a secured server."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from sme_runtime.bus_acl import OutsideSystem
from sme_schemas import wrap
from sme_schemas.catalog import CONSUMES, SERVICES
from sme_schemas.examples import EXAMPLES
from sme_schemas.export import ASYNCAPI_DIR, asyncapi
from sme_schemas.intake import ApplicationFiledByMunicipalSystem
from tests.conftest import ROOT

VALIDATOR = Path(os.environ.get("SME_CACHE_DIR", ROOT / ".cache")) / "asyncapi" / "validate.mjs"


def validate(*paths: Path) -> tuple[int, list[dict]]:
    done = subprocess.run(["node", str(VALIDATOR), *map(str, paths)], capture_output=True, text=True, timeout=300,
                          cwd=VALIDATOR.parent)
    return done.returncode, [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def test_every_exported_document_is_valid_for_the_official_parser():
    paths = sorted(ASYNCAPI_DIR.glob("*.json"))
    assert {p.stem for p in paths} == set(SERVICES)
    code, results = validate(*paths)
    assert [r for r in results if not r["valid"]] == [] and code == 0
    assert all(r["messages"] > 0 for r in results) and len(results) == len(paths)


def test_the_parser_check_fails_a_broken_reference_and_a_wrong_example(tmp_path):
    broken = asyncapi("intake")
    broken["operations"]["sendApplicationSubmitted"]["channel"] = {"$ref": "#/channels/nowhere"}
    wrong = asyncapi("intake")
    wrong["components"]["messages"]["ApplicationSubmitted"]["examples"][0]["payload"]["program_version"] = "one"
    shutil.copytree(ASYNCAPI_DIR.parent / "jsonschema", tmp_path / "jsonschema")  # the payloads' relative $refs
    (tmp_path / "asyncapi").mkdir()
    for name, doc in (("broken", broken), ("wrong", wrong)):
        (tmp_path / "asyncapi" / f"{name}.json").write_text(json.dumps(doc), "utf-8")
    code, results = validate(tmp_path / "asyncapi" / "broken.json", tmp_path / "asyncapi" / "wrong.json")
    by_name = {Path(r["path"]).stem: r for r in results}
    assert code == 1 and not by_name["broken"]["valid"] and not by_name["wrong"]["valid"]
    assert any("nowhere" in e for e in by_name["broken"]["errors"])
    assert any("program_version" in e for e in by_name["wrong"]["examples"])


@pytest.mark.parametrize("service", SERVICES)
def test_every_header_we_send_is_documented(service):
    doc = asyncapi(service)
    for name, message in doc["components"]["messages"].items():
        if name == "DeadLetter":
            continue
        documented = set(message["headers"]["properties"])
        sent = set(wrap(ApplicationFiledByMunicipalSystem.model_validate(EXAMPLES["ApplicationFiledByMunicipalSystem"]),
                        source="/x", traceparent="00-" + "1" * 32 + "-" + "2" * 16 + "-01").headers())
        assert sent | {"correlation_id"} <= documented, name


def test_each_type_documents_its_own_key():
    keys = {name: m["bindings"]["kafka"]["key"]["description"]
            for s in SERVICES for name, m in asyncapi(s)["components"]["messages"].items() if name != "DeadLetter"}
    assert keys["ScoresFinalized"] == "ce_subject: round id"
    assert keys["EvaluatorAllowanceDue"] == "ce_subject: evaluator_id"
    assert keys["ApplicationFilingResult"] == "ce_subject: source_system:external_reference"
    assert keys["ApplicationSubmitted"] == "ce_subject: application id"


@pytest.mark.parametrize("service", SERVICES)
def test_the_dead_letter_topics_a_service_writes_are_documented_with_their_headers(service):
    doc = asyncapi(service)
    for event in CONSUMES[service]:
        channel = doc["channels"][f"{event.topic()}.dlq"]
        assert "DeadLetter" in channel["messages"]
    headers = doc["components"]["messages"]["DeadLetter"]["headers"]
    assert {"dlq_rule", "dlq_field", "dlq_error", "dlq_original_offset"} <= set(headers["required"])


def test_intake_documents_the_filing_systems_own_topics():
    doc = asyncapi("intake")
    system = OutsideSystem("gimpo-minwon", "/gimpo/minwon", files=True)
    addresses = {c["address"].replace("{system}", system.name) for c in doc["channels"].values()}
    assert {system.filing_topic, system.answer_topic} <= addresses
    assert doc["operations"]["receiveApplicationFiledByMunicipalSystemPerSystem"]["action"] == "receive"
    assert doc["operations"]["sendApplicationFilingResultPerSystem"]["action"] == "send"


def test_servers_name_each_environment_and_the_secured_ones_their_scheme():
    servers = asyncapi("payments")["servers"]
    assert set(servers) == {"development", "test", "production"}
    assert servers["development"]["protocol"] == "kafka" and "security" not in servers["development"]
    for name in ("test", "production"):
        assert servers[name]["protocol"] == "kafka-secure"
        assert servers[name]["security"] == [{"$ref": "#/components/securitySchemes/scram"}]
    assert asyncapi("payments")["components"]["securitySchemes"]["scram"]["type"] == "scramSha512"
