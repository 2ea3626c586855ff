"""docker-compose.yml cannot run here (no Docker engine); this keeps it from rotting silently."""
from pathlib import Path

import pytest
import yaml

import re

from contracts.config import ContractsSettings
from evaluation.config import EvaluationSettings
from intake.config import IntakeSettings
from payments.config import PaymentsSettings
from screening.config import ScreeningSettings
from screening.lookups import Registry

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SETTINGS = {"intake": IntakeSettings, "screening": ScreeningSettings, "evaluation": EvaluationSettings,
            "contracts": ContractsSettings, "payments": PaymentsSettings}
WORKERS = {r: f"screening-worker-{r.value}" for r in Registry}
BUILT = sorted(p.parent.name for p in (ROOT / "services").glob("*/Dockerfile"))


def test_every_built_service_is_in_compose_and_has_a_settings_class():
    assert BUILT and set(BUILT) <= set(COMPOSE["services"]) and set(BUILT) == set(SETTINGS)


def _env(service: str) -> dict[str, str]:
    env = dict(COMPOSE["services"][service]["environment"])
    return {k: str(v) for k, v in env.items() if k != "<<"}


def _resolved(value: str) -> str:
    """Compose's ${VAR:-default} and ${VAR:?message} as a user who set only SME_JWT_SECRET would get them."""
    value = re.sub(r"\$\{SME_JWT_SECRET:\?[^}]*\}", "x" * 40, value)
    value = re.sub(r"\$\{PAYMENTS_ACCOUNT_KEY:\?[^}]*\}", "Y2hvc2VuLWJ5LXRoZS1kZXBsb3llci0wMTIzNDU2Nzg=", value)
    return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", value)


@pytest.mark.parametrize("service", BUILT)
def test_environment_names_are_settings_fields(service):
    prefix = f"{service.upper()}_"
    fields = set(SETTINGS[service].model_fields)
    names = [k for k in _env(service) if k.startswith(prefix)]
    assert names, "no settings passed"
    assert [n for n in names if n[len(prefix):].lower() not in fields] == []


@pytest.mark.parametrize("service", BUILT)
def test_settings_from_compose_environment_validate(service, monkeypatch):
    for name, value in _env(service).items():
        monkeypatch.setenv(name, _resolved(value))
    monkeypatch.setenv(f"{service.upper()}_ENVIRONMENT", "production")
    settings = SETTINGS[service]()
    assert settings.environment == "production"


@pytest.mark.parametrize("service", BUILT)
def test_ports_database_and_broker_agree(service):
    env = _env(service)
    prefix = service.upper()
    port = env[f"{prefix}_HTTP_PORT"]
    assert f"{port}:{port}" in COMPOSE["services"][service]["ports"]
    assert f":{port}/health" in " ".join(COMPOSE["services"][service]["healthcheck"]["test"])
    url = env[f"{prefix}_DATABASE_URL"]
    assert url.startswith(f"postgresql+asyncpg://{service}:") and url.endswith(f"@postgres:5432/{service}")
    kafka_advertised = COMPOSE["services"]["kafka"]["environment"]["KAFKA_ADVERTISED_LISTENERS"]
    assert env[f"{prefix}_KAFKA_BOOTSTRAP_SERVERS"] in kafka_advertised
    assert {"kafka", "postgres"} <= set(COMPOSE["services"][service]["depends_on"])
    dockerfile = (ROOT / "services" / service / "Dockerfile").read_text()
    assert f"EXPOSE {port}" in dockerfile and f"{prefix}_HTTP_PORT={port}" in dockerfile


@pytest.mark.parametrize("service", BUILT)
def test_prometheus_scrapes_each_service_where_it_listens(service):
    port = _env(service)[f"{service.upper()}_HTTP_PORT"]
    compose_targets = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.compose.yml").read_text())
    local_targets = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.local.yml").read_text())
    assert f"{service}:{port}" in str(compose_targets)
    assert f"127.0.0.1:{SETTINGS[service].model_fields['http_port'].default}" in str(local_targets)


def test_postgres_init_creates_a_database_per_service():
    script = (ROOT / "deploy/compose/init-databases.sh").read_text()
    for service in ("intake", "screening", "evaluation", "contracts", "payments"):
        assert service in script


def test_local_kafka_is_pinned_to_the_compose_version():
    pom = (ROOT / "deploy/local/kafka/pom.xml").read_text()
    image = COMPOSE["services"]["kafka"]["image"]
    assert image.split(":")[1] in pom


@pytest.mark.parametrize("registry", list(Registry))
def test_each_lookup_worker_is_its_own_service_on_its_own_port(registry, monkeypatch):
    service = COMPOSE["services"][WORKERS[registry]]
    assert service["build"]["dockerfile"] == "services/screening/Dockerfile"
    assert service["command"][-2:] == ["--registry", registry.value]
    env = _env(WORKERS[registry])
    for name, value in env.items():
        monkeypatch.setenv(name, _resolved(value))
    settings = ScreeningSettings()
    assert settings.environment == "production"
    url = settings.registry_url(registry)
    host, port = url.removeprefix("http://").split(":")
    stand_in = COMPOSE["services"][host]["command"]
    assert stand_in[stand_in.index("--registry") + 1] == registry.value and stand_in[stand_in.index("--port") + 1] == port
    worker_port = env["SCREENING_WORKER_HTTP_PORT"]
    assert f":{worker_port}/health" in " ".join(service["healthcheck"]["test"])
    for config in ("prometheus.compose.yml", "prometheus.local.yml"):
        assert f":{worker_port}" in (ROOT / "deploy/prometheus" / config).read_text()
