"""The bus as other agencies' systems meet it (issue 27): a broker with SASL_SSL (SCRAM-SHA-512 over TLS) and the
StandardAuthorizer, its principals and ACLs provisioned from the event catalog (deploy/local/kafka.sh with
SME_KAFKA_SECURITY=sasl_ssl, sme_runtime.bus_acl). A second broker beside the suite's, on its own ports and folder.
Shown here: nobody gets in without credentials, each principal reaches exactly its catalog, and intake — running as
its own principal — answers a filing system on its own answer topic and refuses a filing that claims another
sender."""
from __future__ import annotations

import asyncio
import dataclasses
import os
import shutil
import subprocess
import sys
import uuid
from datetime import datetime, timezone

import httpx
import pytest
from sqlalchemy import text
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import GroupAuthorizationFailedError, KafkaConnectionError, TopicAuthorizationFailedError

from deploy.local.procs import end_offsets, headers_of, principal_on, publish_event, read_topic
from deploy.sample.program_call import demo_program, sample_forms
from sme_runtime import dlq
from sme_runtime.auth import Role, mint_token
from sme_runtime.db import make_engine, session_factory
from sme_runtime.problems import RuleViolation
from sme_runtime.kafka_access import KafkaAccess
from sme_runtime.settings import DEVELOPMENT_SECRET
from sme_runtime.topics import TopicsNotProvisioned, ensure_topics
from sme_schemas.intake import ApplicationFiledByMunicipalSystem, ApplicationFilingResult
from tests.support import ROOT, TEST_ENV, ServiceProcess, db_url, running

FOLDER = ROOT / ".local-test" / "secured-bus"
PORT = int(os.environ.get("SME_TEST_SECURED_KAFKA_PORT", "19192"))
BUS = f"127.0.0.1:{PORT}"
ENV = {**TEST_ENV, "SME_LOCAL_DIR": str(FOLDER), "SME_KAFKA_PORT": str(PORT),
       "SME_KAFKA_CONTROLLER_PORT": str(PORT + 1), "SME_KAFKA_SECURITY": "sasl_ssl"}
MINWON, SBA = "gimpo-minwon", "seoul-sba-crm"
FILED_BY_MINWON = ApplicationFiledByMunicipalSystem.topic_of(MINWON)
MINWON_ANSWERS = ApplicationFilingResult.topic_of(MINWON)


def kafka_sh(command: str) -> None:
    subprocess.run(["bash", str(ROOT / "deploy/local/kafka.sh"), command], check=True, env={**os.environ, **ENV},
                   stdout=sys.stderr, stderr=sys.stderr)


@pytest.fixture(scope="module")
def secured_bus(infrastructure):
    shutil.rmtree(FOLDER, ignore_errors=True)  # a new cluster: its CA, its users and its ACLs made from scratch
    kafka_sh("start")
    yield
    kafka_sh("stop")


def as_principal(name: str) -> KafkaAccess:
    return principal_on(FOLDER / "kafka", BUS, name)


async def _write(access: KafkaAccess, topic: str) -> str:
    producer = AIOKafkaProducer(**access.client(), enable_idempotence=True, acks="all", request_timeout_ms=10_000)
    await producer.start()
    try:
        await producer.send_and_wait(topic, b"{}", key=b"acl-probe")
        return "allowed"
    except TopicAuthorizationFailedError:
        return "denied"
    finally:
        await producer.stop()


async def _read(access: KafkaAccess, topic: str, group: str) -> str:
    consumer = AIOKafkaConsumer(topic, **access.client(), group_id=group, enable_auto_commit=False,
                                auto_offset_reset="earliest")
    try:
        await consumer.start()
        await consumer.getmany(timeout_ms=2_000)
        await consumer.commit({TopicPartition(topic, 0): 0})  # a group's commit is what a consumer needs at least
        return "allowed"
    except (TopicAuthorizationFailedError, GroupAuthorizationFailedError):
        return "denied"
    finally:
        await consumer.stop()


def test_nobody_gets_in_without_the_principals_credentials(secured_bus):
    async def attempt(access: KafkaAccess) -> None:
        producer = AIOKafkaProducer(**access.client(), request_timeout_ms=5_000)
        try:
            await producer.start()
        finally:
            await producer.stop()

    with pytest.raises(KafkaConnectionError):  # no TLS, no SASL: the broker answers nothing
        asyncio.run(attempt(KafkaAccess(BUS)))
    with pytest.raises(KafkaConnectionError):  # SCRAM with a wrong password
        asyncio.run(attempt(dataclasses.replace(as_principal("intake"), password="not-the-password")))


# (principal, what, topic, group, expected): each service and system inside its catalog and just outside it
ACCESS = [
    ("intake", "write", "intake.application-submitted.v1", None, "allowed"),
    ("intake", "write", "payments.payment-due.v1", None, "denied"),  # another service's event: forged
    ("intake", "write", "screening.screening-passed.v1", None, "denied"),  # consumed, not its own
    ("intake", "read", "screening.screening-passed.v1", "intake.acl-probe", "allowed"),
    ("intake", "read", "payments.payment-due.v1", "intake.acl-probe", "denied"),  # not in its catalog
    ("intake", "read", "screening.screening-passed.v1", "payments.acl-probe", "denied"),  # another's group
    ("payments", "write", "payments.payment-due.v1", None, "allowed"),
    ("payments", "read", "intake.application-submitted.v1", "payments.acl-probe", "denied"),
    ("portal", "write", "contracts.agreement-signed.v1", None, "denied"),  # the portal publishes nothing
    (MINWON, "write", FILED_BY_MINWON, None, "allowed"),
    (MINWON, "write", ApplicationFiledByMunicipalSystem.topic_of(SBA), None, "denied"),  # as another system
    (MINWON, "write", ApplicationFiledByMunicipalSystem.topic(), None, "denied"),  # the shared, anonymous one
    (MINWON, "write", "intake.application-submitted.v1", None, "denied"),
    (MINWON, "read", MINWON_ANSWERS, f"{MINWON}.acl-probe", "allowed"),
    (MINWON, "read", ApplicationFilingResult.topic_of(SBA), f"{MINWON}.acl-probe", "denied"),  # another's answers
    ("gimpo-finance", "read", "payments.payment-due.v1", "gimpo-finance.acl-probe", "allowed"),
    ("gimpo-finance", "read", "intake.application-submitted.v1", "gimpo-finance.acl-probe", "denied"),
]


@pytest.mark.parametrize("principal, what, topic, group, expected", ACCESS,
                         ids=[f"{p}-{w}-{t}-{e}" for p, w, t, _, e in ACCESS])
def test_each_principal_reaches_exactly_its_catalog(secured_bus, principal, what, topic, group, expected):
    access = as_principal(principal)
    got = asyncio.run(_write(access, topic) if what == "write" else _read(access, topic, group))
    assert got == expected, f"{principal} {what} {topic}"


def _filing(reference: str, source_system: str = MINWON) -> ApplicationFiledByMunicipalSystem:
    from intake.form import ApplicationForm, to_content

    now = datetime.now(timezone.utc)
    [form] = sample_forms(demo_program(now), now.date(), count=1, seed=uuid.uuid4().int % 10**6)
    content = to_content(ApplicationForm.model_validate(form), consent_at=now)
    return ApplicationFiledByMunicipalSystem(program_id=form["program_id"], occurred_at=now,
                                             source_system=source_system, external_reference=reference,
                                             content=content)


@pytest.fixture
def intake_on_the_secured_bus(intake_env, secured_bus):
    env = {**intake_env, "INTAKE_KAFKA_BOOTSTRAP_SERVERS": BUS, "INTAKE_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
           "INTAKE_KAFKA_USERNAME": "intake",
           "INTAKE_KAFKA_PASSWORD_FILE": str(FOLDER / "kafka" / "secrets" / "intake.password"),
           "INTAKE_KAFKA_SSL_CAFILE": str(FOLDER / "kafka" / "tls" / "ca.pem")}
    with running(ServiceProcess("intake", "serve", env, port=18001)) as (service,):
        yield service


def test_intake_as_its_principal_answers_a_filing_system_and_refuses_a_forged_sender(intake_on_the_secured_bus):
    minwon, admin = as_principal(MINWON), as_principal("admin")
    answers_start = asyncio.run(end_offsets(MINWON_ANSWERS, admin))
    dlq = FILED_BY_MINWON + ".dlq"
    dlq_start = asyncio.run(end_offsets(dlq, admin))
    genuine = asyncio.run(publish_event(_filing("MW-S-1"), minwon, source="/gimpo/minwon", topic=FILED_BY_MINWON))
    # gimpo-minwon's own credentials, but filing as if it were Seoul SBA's system (ce_source and source_system)
    forged = asyncio.run(publish_event(_filing("CRM-9", source_system=SBA), minwon, source="/seoul-sba/crm",
                                       topic=FILED_BY_MINWON))

    records = asyncio.run(read_topic(MINWON_ANSWERS, minwon, answers_start, until=lambda rs: len(rs) >= 2,
                                     timeout=120))
    answers = {a.filing_event_id: a for a in (ApplicationFilingResult.model_validate_json(r.value) for r in records)}
    accepted, refused = answers[genuine], answers[forged]
    assert (accepted.outcome, accepted.external_reference, accepted.disposition) == ("accepted", "MW-S-1", "created")
    assert refused.outcome == "refused" and refused.application_id is None
    assert [(p.field, p.rule) for p in refused.problems] == [("ce_source", "sender"), ("source_system", "sender")]

    operator = {"Authorization": "Bearer " + mint_token(DEVELOPMENT_SECRET, subject="operator:test",
                                                         role=Role.OPERATOR, agencies=["gimpo"])}
    listed = httpx.get("http://127.0.0.1:18001/applications", headers=operator).json()
    assert [(a["source_system"], a["external_reference"]) for a in listed] == [(MINWON, "MW-S-1")]
    assert listed[0]["application_id"] == accepted.application_id

    [dead] = asyncio.run(read_topic(dlq, admin, dlq_start, until=lambda rs: len(rs) >= 1))
    assert (headers_of(dead)["dlq_rule"], headers_of(dead)["dlq_field"]) == ("sender", "ce_source")
    # intake may not write a filing system's topic: its own replay of that dead letter is refused, naming the way
    assert asyncio.run(_replay_as(as_principal("intake"), forged)) == ("ids", "bus-acl", 403)


async def _replay_as(access: KafkaAccess, event_id: str):
    engine = make_engine(db_url("intake"))
    try:
        async with session_factory(engine)() as session, session.begin():
            [dead_letter] = (await session.execute(text("SELECT id FROM dead_letters WHERE event_id = :e"),
                                                   {"e": event_id})).scalars().all()
            try:
                await dlq.replay(session, access, [dead_letter], by="operator:test", reason="after the fix",
                                 visible=dlq.Visible.everything())
            except RuleViolation as refused:
                problem = refused.problems[0]
                assert "admin" in problem.message
                return problem.field, problem.rule, refused.status_code
    finally:
        await engine.dispose()
    return None


def test_a_service_cannot_create_topics_and_says_which_are_missing(secured_bus):
    with pytest.raises(TopicsNotProvisioned) as missing:
        asyncio.run(ensure_topics(as_principal("intake"), ["intake.not-provisioned.v1"]))
    assert "intake.not-provisioned.v1" in missing.value.topics
    assert "Authorization" in missing.value.topics["intake.not-provisioned.v1"]
    asyncio.run(ensure_topics(as_principal("intake"), ["intake.application-submitted.v1"]))  # provisioned: found
