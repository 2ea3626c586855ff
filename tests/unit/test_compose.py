"""docker-compose.yml cannot run here (no Docker engine); this keeps it from rotting silently."""
from pathlib import Path

import pytest
import yaml

import re

from contracts.config import ContractsSettings
from evaluation.config import EvaluationSettings
from intake.config import IntakeSettings
from payments.config import PaymentsSettings
from portal.config import PortalSettings
from screening.config import ScreeningSettings
from screening.lookup.messages import Registry

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SETTINGS = {"intake": IntakeSettings, "screening": ScreeningSettings, "evaluation": EvaluationSettings,
            "contracts": ContractsSettings, "payments": PaymentsSettings, "portal": PortalSettings}
WORKERS = {r: f"screening-worker-{r.value}" for r in Registry}
BUILT = sorted(p.parent.name for p in (ROOT / "services").glob("*/pyproject.toml"))


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
    assert f":{port}/readyz" in " ".join(COMPOSE["services"][service]["healthcheck"]["test"])
    url = env[f"{prefix}_DATABASE_URL"]
    assert url.startswith(f"postgresql+asyncpg://{service}:") and url.endswith(f"@postgres:5432/{service}")
    kafka_advertised = COMPOSE["services"]["kafka"]["environment"]["KAFKA_ADVERTISED_LISTENERS"]
    assert env[f"{prefix}_KAFKA_BOOTSTRAP_SERVERS"] in kafka_advertised
    assert {"kafka", "postgres"} <= set(COMPOSE["services"][service]["depends_on"])
    # the one image (deploy/Dockerfile) built for this service answers its health check on this port
    assert COMPOSE["services"][service]["build"]["args"] == {"SERVICE": service, "PORT": port}
    assert env[f"{prefix}_PROGRAMS_PATH"] == "/app/deploy/programs"


def compose_scrape_targets() -> set[str]:
    """host:port of every compose scrape target, static or found by DNS (a scaled service's replicas)."""
    config = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.compose.yml").read_text())
    targets = set()
    for job in config["scrape_configs"]:
        for static in job.get("static_configs", []):
            targets |= set(static["targets"])
        for found in job.get("dns_sd_configs", []):
            targets |= {f"{name}:{found['port']}" for name in found["names"]}
    return targets


@pytest.mark.parametrize("service", BUILT)
def test_prometheus_scrapes_each_service_where_it_listens(service):
    port = _env(service)[f"{service.upper()}_HTTP_PORT"]
    local_targets = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.local.yml").read_text())
    assert f"{service}:{port}" in compose_scrape_targets()
    assert f"127.0.0.1:{SETTINGS[service].model_fields['http_port'].default}" in str(local_targets)


def test_postgres_init_creates_a_database_per_service():
    script = (ROOT / "deploy/compose/init-databases.sh").read_text()
    for service in ("intake", "screening", "evaluation", "contracts", "payments", "portal"):
        assert service in script


def test_local_kafka_is_pinned_to_the_compose_version():
    pom = (ROOT / "deploy/local/kafka/pom.xml").read_text()
    image = COMPOSE["services"]["kafka"]["image"]
    assert image.split(":")[1] in pom


@pytest.mark.parametrize("registry", list(Registry))
def test_each_lookup_worker_is_its_own_service_on_its_own_port(registry, monkeypatch):
    service = COMPOSE["services"][WORKERS[registry]]
    assert service["build"] == COMPOSE["services"]["screening"]["build"]  # screening's image
    assert service["command"][-2:] == ["--registry", registry.value]
    env = _env(WORKERS[registry])
    for name, value in env.items():
        monkeypatch.setenv(name, _resolved(value))
    settings = ScreeningSettings()
    assert settings.environment == "production"
    url = settings.registry_url(registry)
    host, port = url.removeprefix("http://").split(":")
    stand_in = COMPOSE["services"][host]["command"]
    assert (
        stand_in[stand_in.index("--registry") + 1] == registry.value and stand_in[stand_in.index("--port") + 1] == port
    )
    worker_port = env["SCREENING_WORKER_HTTP_PORT"]
    assert f":{worker_port}/readyz" in " ".join(service["healthcheck"]["test"])
    assert f"{WORKERS[registry]}:{worker_port}" in compose_scrape_targets()
    assert f":{worker_port}" in (ROOT / "deploy/prometheus/prometheus.local.yml").read_text()


# --- the production-shaped cluster (docker-compose.cluster.yml) --------------------------------------------

class _ComposeLoader(yaml.SafeLoader):
    """Compose's own tags: `!reset` empties what the base file set."""


_ComposeLoader.add_constructor("!reset", lambda loader, node: _Reset())


class _Reset:
    pass


CLUSTER = yaml.load((ROOT / "docker-compose.cluster.yml").read_text(), Loader=_ComposeLoader)
SCALED = ["screening", *WORKERS.values()]


def _merged(base: dict, override: dict) -> dict:
    """`docker compose -f base -f override` for what these tests read: mappings merge, lists and scalars are
    replaced, `!reset` removes."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, _Reset):
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merged(out[key], value)
        else:
            out[key] = value
    return out


MERGED = _merged(COMPOSE, CLUSTER)
BROKERS = ["kafka", "kafka-2", "kafka-3"]


def test_cluster_has_three_kraft_brokers_that_all_vote_and_replicate_three_times():
    envs = [MERGED["services"][b]["environment"] for b in BROKERS]
    assert sorted(e["KAFKA_NODE_ID"] for e in envs) == ["1", "2", "3"]
    voters = {f"{e['KAFKA_NODE_ID']}@{b}:9093" for b, e in zip(BROKERS, envs)}
    for broker, env in zip(BROKERS, envs):
        assert set(env["KAFKA_CONTROLLER_QUORUM_VOTERS"].split(",")) == voters
        assert env["KAFKA_ADVERTISED_LISTENERS"] == f"PLAINTEXT://{broker}:9092"
        assert env["KAFKA_DEFAULT_REPLICATION_FACTOR"] == env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == "3"
        assert env["KAFKA_MIN_INSYNC_REPLICAS"] == env["KAFKA_TRANSACTION_STATE_LOG_MIN_ISR"] == "2"
        assert env["KAFKA_UNCLEAN_LEADER_ELECTION_ENABLE"] == "false"
        assert "KAFKA_LOG_FLUSH_INTERVAL_MESSAGES" not in env  # durability is replication, not fsync
        assert MERGED["services"][broker]["image"] == COMPOSE["services"]["kafka"]["image"]
    assert len({str(MERGED["services"][b]["volumes"]) for b in BROKERS}) == 3  # a disk of its own each
    assert {"kafka-2-data", "kafka-3-data", "kafka-data"} <= set(MERGED["volumes"])


def _services_of_ours() -> list[str]:
    return [name for name, svc in MERGED["services"].items()
            if any(k.endswith("_KAFKA_BOOTSTRAP_SERVERS") for k in (svc.get("environment") or {}))]


def test_every_service_on_the_cluster_knows_all_brokers_and_replicates_its_topics(monkeypatch):
    ours = _services_of_ours()
    assert set(BUILT) | set(WORKERS.values()) <= set(ours)
    for name in ours:
        svc = MERGED["services"][name]
        env = {k: str(v) for k, v in svc["environment"].items() if k != "<<"}
        prefix = next(k for k in env if k.endswith("_KAFKA_BOOTSTRAP_SERVERS")).split("_")[0]
        assert set(env[f"{prefix}_KAFKA_BOOTSTRAP_SERVERS"].split(",")) == {f"{b}:9092" for b in BROKERS}, name
        assert env[f"{prefix}_TOPIC_REPLICATION_FACTOR"] == "3", name
        assert set(BROKERS) <= set(svc["depends_on"]), name
        for key, value in env.items():
            monkeypatch.setenv(key, _resolved(value))
        settings = SETTINGS[prefix.lower()]()
        assert settings.topic_replication_factor == 3 and settings.topic_partitions >= 4
        if prefix == "SCREENING":  # the national search's 48 duplicate-projects workers, one per partition (issue 30)
            assert settings.topic_partitions >= 48, name


@pytest.mark.parametrize("service", SCALED)
def test_screening_and_the_lookup_workers_can_be_scaled(service):
    svc = MERGED["services"][service]
    assert "ports" not in svc and "container_name" not in svc  # two replicas cannot share a host port or a name


def test_the_cluster_file_documents_how_to_scale():
    text = (ROOT / "docker-compose.cluster.yml").read_text()
    assert "--scale screening=" in text and "-f docker-compose.cluster.yml" in text


def test_every_package_of_a_service_is_installed_by_its_image():
    """The images install the services as packages (not editable): a sub-package left out of pyproject would be
    missing in production while every local test passes."""
    for pyproject in (ROOT / "services").glob("*/pyproject.toml"):
        declared = set(re.search(r"packages = \[(.*)\]", pyproject.read_text()).group(1).replace('"', "").split(", "))
        found = {".".join(p.parent.relative_to(pyproject.parent).parts)
                 for p in pyproject.parent.glob("*/**/__init__.py")}
        assert found == declared, pyproject


@pytest.mark.parametrize("service", BUILT)
def test_every_service_sends_its_traces_to_the_composed_collector(service):
    endpoint = _resolved(_env(service)["OTEL_EXPORTER_OTLP_ENDPOINT"])
    host, port = re.match(r"http://([a-z-]+):(\d+)$", endpoint).groups()
    assert host in COMPOSE["services"] and port == "4318"  # OTLP over HTTP (sme_runtime.telemetry)
    assert COMPOSE["services"][host]["environment"]["COLLECTOR_OTLP_ENABLED"] == "true"


@pytest.mark.parametrize("file,brokers", [("docker-compose.yml", ["kafka"]), ("docker-compose.cluster.yml", BROKERS)])
def test_each_broker_keeps_its_log_on_its_volume(file, brokers):
    """Without KAFKA_LOG_DIRS the image writes under /tmp: the volume stays empty and a re-created broker has lost
    every topic, offset and event."""
    compose = COMPOSE if file == "docker-compose.yml" else MERGED
    for name in brokers:
        broker = compose["services"][name]
        log_dirs = broker["environment"].get("KAFKA_LOG_DIRS")
        mounted = {v.split(":")[1] for v in broker.get("volumes", [])}
        assert log_dirs in mounted, f"{file} {name}: KAFKA_LOG_DIRS {log_dirs!r} is not a mounted volume {mounted}"


def test_postgres_init_gets_every_services_database_password():
    """The init script sets each role's password from <SERVICE>_DB_PASSWORD; one not passed to the postgres
    container falls back to the service's name while the service logs in with the password it was given."""
    environment = COMPOSE["services"]["postgres"]["environment"]
    for service in SETTINGS:
        variable = f"{service.upper()}_DB_PASSWORD"
        assert environment.get(variable) == f"${{{variable}:-{service}}}", variable
        assert f"${{{variable}:-{service}}}@postgres" in str(COMPOSE["services"][service]["environment"])


@pytest.mark.parametrize("name", [n for n in COMPOSE["services"] if n.startswith("registry-")])
def test_registry_stand_ins_are_probed_on_their_own_port(name):
    service = COMPOSE["services"][name]
    port = service["command"][service["command"].index("--port") + 1]
    assert f"127.0.0.1:{port}/health" in " ".join(service["healthcheck"]["test"])
