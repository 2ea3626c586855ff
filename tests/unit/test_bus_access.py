"""The authenticated bus (issue 27): how every client reaches it (sme_runtime.kafka_access) and the ACLs made from
the event catalog (sme_runtime.bus_acl). The broker enforcing them: tests/integration/test_secured_bus.py."""
from __future__ import annotations

import json
import ssl

import pytest
from faststream.security import BaseSecurity, SASLScram512

from sme_runtime.bus_acl import (
    SystemsFileError, all_bindings, all_topics, filing_bindings, load_outside_systems, outside_system_bindings,
)
from sme_runtime.consumer import dlq_topic
from sme_runtime.kafka_access import KafkaAccess, KafkaAccessError, kafka_access
from sme_runtime.settings import ServiceSettings
from sme_schemas.catalog import CONSUMES, EVENTS, SERVICES, produced_by
from sme_schemas.intake import ApplicationFiledByMunicipalSystem
from deploy.local.bus import SYSTEMS, internal_topics

SYSTEMS_IN_REPO = load_outside_systems(SYSTEMS)
BINDINGS = all_bindings(internal_topics(), SYSTEMS_IN_REPO)


def allowed(principal: str, operation: str) -> set[str]:
    return {b.name for b in BINDINGS if b.principal == principal and b.resource == "TOPIC" and b.operation == operation}


# --- reaching the bus ------------------------------------------------------------------------------------------

def test_plaintext_is_the_development_default_and_names_no_credentials():
    access = KafkaAccess.from_env("127.0.0.1:9092", {})
    assert access.client() == {"bootstrap_servers": "127.0.0.1:9092", "security_protocol": "PLAINTEXT"}
    assert access.security() is None and access.principal == "User:ANONYMOUS"


def test_sasl_ssl_gives_every_client_scram_over_tls(tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text(_a_ca_certificate())  # any CA will do: the context is only built here
    access = KafkaAccess.from_env("b:9093", {"SME_KAFKA_SECURITY_PROTOCOL": "sasl_ssl", "SME_KAFKA_USERNAME": "intake",
                                             "SME_KAFKA_PASSWORD": "s3cret", "SME_KAFKA_SSL_CAFILE": str(ca)})
    client = access.client()
    assert (client["security_protocol"], client["sasl_mechanism"], client["sasl_plain_username"],
            client["sasl_plain_password"]) == ("SASL_SSL", "SCRAM-SHA-512", "intake", "s3cret")
    assert isinstance(client["ssl_context"], ssl.SSLContext) and client["ssl_context"].check_hostname
    security = access.security()
    assert isinstance(security, SASLScram512) and security.use_ssl and access.principal == "User:intake"


def test_the_password_may_come_from_a_file(tmp_path):
    (tmp_path / "p").write_text("from-a-file\n")
    access = KafkaAccess.from_env("b:9093", {"SME_KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
                                             "SME_KAFKA_USERNAME": "portal",
                                             "SME_KAFKA_PASSWORD_FILE": str(tmp_path / "p")})
    assert access.client()["sasl_plain_password"] == "from-a-file" and "ssl_context" not in access.client()


def test_tls_without_sasl_is_a_base_security():
    access = KafkaAccess("b:9093", "SSL")
    assert type(access.security()) is BaseSecurity and "sasl_mechanism" not in access.client()


@pytest.mark.parametrize("changes, field", [
    (dict(security_protocol="SASL_SSL"), "kafka_username"),
    (dict(security_protocol="SASL_SSL", username="intake"), "kafka_username"),
    (dict(security_protocol="KERBEROS"), "kafka_security_protocol"),
    (dict(security_protocol="SASL_SSL", username="a", password="b", sasl_mechanism="PLAIN"), "kafka_sasl_mechanism"),
    (dict(security_protocol="SSL", ssl_cafile="/nonexistent/ca.pem"), "kafka_ssl_cafile"),
])
def test_settings_that_cannot_reach_a_secured_bus_are_refused_naming_the_setting(changes, field):
    with pytest.raises(KafkaAccessError) as refused:
        KafkaAccess("b:9093", **changes)
    assert refused.value.field == field and str(refused.value).startswith(field)


def test_a_service_refuses_to_start_with_sasl_and_no_password():
    with pytest.raises(ValueError, match="kafka_username"):
        ServiceSettings(database_url="postgresql+asyncpg://x", kafka_security_protocol="SASL_SSL",
                        kafka_username="intake")
    settings = ServiceSettings(database_url="postgresql+asyncpg://x", kafka_security_protocol="sasl_plaintext",
                               kafka_username="intake", kafka_password="pw")
    assert settings.kafka.principal == "User:intake" and "pw" not in repr(settings)


def test_a_bare_address_is_reached_as_the_environment_says(monkeypatch):
    monkeypatch.setenv("SME_KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    monkeypatch.setenv("SME_KAFKA_USERNAME", "admin")
    monkeypatch.setenv("SME_KAFKA_PASSWORD", "pw")
    assert kafka_access("127.0.0.1:19092").principal == "User:admin"
    given = KafkaAccess("x:1")
    assert kafka_access(given) is given


def _a_ca_certificate() -> str:
    from pathlib import Path

    for path in (ssl.get_default_verify_paths().cafile, "/etc/ssl/certs/ca-certificates.crt"):
        if path and Path(path).is_file():
            text = Path(path).read_text(encoding="utf-8")
            return text[:text.index("-----END CERTIFICATE-----") + len("-----END CERTIFICATE-----")] + "\n"
    raise AssertionError("no CA certificate on this machine to build a trust store from")


# --- the ACLs, from the catalog ---------------------------------------------------------------------------------

@pytest.mark.parametrize("service", SERVICES)
def test_a_service_reads_exactly_what_the_catalog_says_it_consumes(service):
    own = set(internal_topics().get(service, ()))
    filing = {s.filing_topic for s in SYSTEMS_IN_REPO if s.files} if service == "intake" else set()
    assert allowed(f"User:{service}", "READ") == {e.topic() for e in CONSUMES[service]} | own | filing


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_writes_only_what_it_publishes_and_its_dead_letters(service):
    consumed = {e.topic() for e in CONSUMES[service]}
    expected = {e.topic() for e in produced_by(service)} | {dlq_topic(t) for t in consumed}
    expected |= set(internal_topics().get(service, ()))
    if service == "intake":
        expected |= {t for s in SYSTEMS_IN_REPO if s.files for t in (dlq_topic(s.filing_topic), s.answer_topic)}
    assert allowed(f"User:{service}", "WRITE") == expected


def test_no_one_but_its_producer_writes_a_public_event():
    for event in EVENTS:
        writers = {b.principal for b in BINDINGS if b.name == event.topic() and b.operation == "WRITE"}
        assert writers == ({f"User:{event.producer}"} if event.producer in SERVICES else set()), event.__name__
    assert ApplicationFiledByMunicipalSystem.topic() not in {b.name for b in BINDINGS if b.operation == "WRITE"}


def test_a_filing_system_writes_its_own_topic_and_reads_its_own_answers_only():
    minwon = next(s for s in SYSTEMS_IN_REPO if s.name == "gimpo-minwon")
    assert allowed(minwon.principal, "WRITE") == {minwon.filing_topic}
    assert allowed(minwon.principal, "READ") == {minwon.answer_topic}
    others = {s.filing_topic for s in SYSTEMS_IN_REPO if s is not minwon}
    assert not others & {b.name for b in BINDINGS if b.principal == minwon.principal}
    writers = {b.principal for b in BINDINGS if b.name == minwon.filing_topic and b.operation == "WRITE"}
    assert writers == {minwon.principal}, "only the system itself may write its filing topic"


def test_consumer_groups_are_each_principals_own_prefix():
    for b in (b for b in BINDINGS if b.resource == "GROUP"):
        assert b.pattern == "PREFIXED" and b.name == b.principal.removeprefix("User:") + "."


def test_every_bound_topic_is_provisioned():
    assert {b.name for b in BINDINGS if b.resource == "TOPIC"} <= set(all_topics(internal_topics(), SYSTEMS_IN_REPO))


def test_a_reading_system_gets_only_what_it_registered_for():
    [finance] = [s for s in SYSTEMS_IN_REPO if s.name == "gimpo-finance"]
    assert allowed(finance.principal, "READ") == set(finance.reads) and not allowed(finance.principal, "WRITE")
    assert not filing_bindings([finance]) and outside_system_bindings(finance)


@pytest.mark.parametrize("entry, field", [
    ({"name": "intake", "reads": []}, "name"),
    ({"name": "Gimpo Minwon"}, "name"),
    ({"name": "x-files", "files": True}, "source"),
    ({"name": "reader", "reads": ["payments.payment-due.v9"]}, "reads"),
    ({"name": "x-files", "files": True, "source": "/x"}, "agencies"),
    ({"name": "x-files", "files": True, "source": "/x", "agencies": []}, "agencies"),
])
def test_a_systems_file_that_cannot_be_is_refused_naming_the_entry_and_field(tmp_path, entry, field):
    path = tmp_path / "systems.json"
    path.write_text(json.dumps({"systems": [entry]}))
    with pytest.raises(SystemsFileError, match=rf"systems\[0\]\.{field}"):
        load_outside_systems(path)


def test_a_system_registered_twice_is_refused(tmp_path):
    path = tmp_path / "systems.json"
    path.write_text(json.dumps({"systems": [{"name": "a-b"}, {"name": "a-b"}]}))
    with pytest.raises(SystemsFileError, match="twice"):
        load_outside_systems(path)


def test_a_service_may_read_its_password_from_a_secret_file(tmp_path):
    (tmp_path / "intake-kafka").write_text("from-the-secret\n")
    settings = ServiceSettings(database_url="postgresql+asyncpg://x", kafka_security_protocol="SASL_SSL",
                               kafka_username="intake", kafka_password_file=str(tmp_path / "intake-kafka"))
    assert settings.kafka.client()["sasl_plain_password"] == "from-the-secret"
    with pytest.raises(ValueError, match="kafka_password_file"):
        ServiceSettings(database_url="postgresql+asyncpg://x", kafka_security_protocol="SASL_SSL",
                        kafka_username="intake", kafka_password_file=str(tmp_path / "missing"))
