"""Service processes and topic reads, shared by the main job, the benchmark and the tests."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from pydantic import ValidationError

from deploy.local import started
from sme_runtime.kafka_access import KafkaAccess, kafka_access
from sme_schemas import IntegrationEvent, wrap
from sme_programs import ProgramDefinition

ROOT = Path(__file__).resolve().parents[2]


def service_env(service: str, *, kafka: str, pg_port: str | int, http_port: int,
                programs_path: str) -> dict[str, str]:
    """<SERVICE>_* settings for a service process on this machine's broker and cluster (database = role = name)."""
    prefix = service.upper()
    env = {f"{prefix}_DATABASE_URL": f"postgresql+asyncpg://{service}:{service}@127.0.0.1:{pg_port}/{service}",
           f"{prefix}_KAFKA_BOOTSTRAP_SERVERS": kafka, f"{prefix}_HTTP_PORT": str(http_port),
           f"{prefix}_PROGRAMS_PATH": programs_path}
    if os.environ.get("SME_JWKS"):  # the main job's keys (deploy/local/portal_stage.py): tokens verified with them
        env[f"{prefix}_JWKS"] = os.environ["SME_JWKS"]
    return {**env, **bus_credentials(service)}


def local_bus() -> Path | None:
    """The local broker's folder when it runs authenticated (deploy/local/kafka.sh, SME_KAFKA_SECURITY=sasl_ssl)."""
    if os.environ.get("SME_KAFKA_SECURITY", "plaintext") != "sasl_ssl":
        return None
    return Path(os.environ.get("SME_LOCAL_DIR", ROOT / ".local")) / "kafka"


def _password(bus: Path, principal: str) -> str:
    return (bus / "secrets" / f"{principal}.password").read_text(encoding="utf-8").strip()


def principal_on(bus: Path, bootstrap: str, principal: str) -> KafkaAccess:
    """A principal of a local authenticated bus (`bus`: the broker's folder, deploy/local/kafka.sh's $KAFKA_DIR)."""
    return KafkaAccess(bootstrap, "SASL_SSL", username=principal, password=_password(bus, principal),
                       ssl_cafile=str(bus / "tls/ca.pem"))


def _bus_env(prefix: str, principal: str) -> dict[str, str]:
    # The same four settings for a service (<SERVICE>_KAFKA_*) and the tools (SME_KAFKA_*): the password stays in
    # its file (0600), never in a process's environment
    bus = local_bus()
    if bus is None:
        return {}
    return {f"{prefix}_KAFKA_SECURITY_PROTOCOL": "SASL_SSL", f"{prefix}_KAFKA_USERNAME": principal,
            f"{prefix}_KAFKA_PASSWORD_FILE": str(bus / "secrets" / f"{principal}.password"),
            f"{prefix}_KAFKA_SSL_CAFILE": str(bus / "tls/ca.pem")}


def bus_credentials(service: str, principal: str | None = None) -> dict[str, str]:
    """<SERVICE>_KAFKA_* for a service on the local bus: its own principal when the bus is authenticated (what
    its ACLs allow is its catalog, sme_runtime.bus_acl), nothing on a plaintext one. `principal="admin"`: the
    service's command run by the bus administrator (a dead letter's replay to another's topic)."""
    return _bus_env(service.upper(), principal or service)


def bus_administrator() -> dict[str, str]:
    """SME_KAFKA_* for the tools (sme_runtime.kafka_access.KafkaAccess.from_env): the bus administrator when the
    local bus is authenticated: the tools read and commit any group's offsets and read every topic."""
    return _bus_env("SME", "admin")


def signer():
    """What the job's own desks sign tokens with: the signing key when the main job made one (SME_SIGNING_KEY),
    else the shared development secret."""
    from sme_runtime.keys import load_signing_key
    from sme_runtime.settings import DEVELOPMENT_SECRET

    key = os.environ.get("SME_SIGNING_KEY")
    return load_signing_key(Path(key)) if key else DEVELOPMENT_SECRET


def demo_agencies() -> tuple[str, ...]:
    """T1: the agencies the local demo's staff, evaluators and experts act for: every agency with a program file in
    deploy/programs (the demo calls the tests and the main job write are copies of them). A real account names its
    own agencies."""
    from sme_programs import load_programs

    return tuple(sorted({p.agency for p in load_programs(str(ROOT / "deploy" / "programs")).values()}))


def intake_env(**settings) -> dict[str, str]:
    return service_env("intake", **settings)


def evaluation_env(**settings) -> dict[str, str]:
    return service_env("evaluation", **settings)


def screening_env(*, registry_ports: dict[str, int], **settings) -> dict[str, str]:
    """SCREENING_* settings for the screening service and its lookup workers on this machine."""
    env = service_env("screening", **settings)
    for registry, port in registry_ports.items():
        env[f"SCREENING_REGISTRY_{registry.upper().replace('-', '_')}_URL"] = f"http://127.0.0.1:{port}"
    return env


REGISTRIES = ("business-status", "credit", "sanctions", "duplicate-projects")


REPLICA_PORT_STEP = 1000  # replica k of a process listens on its port + 1000 * k


def screening_processes(env: dict[str, str], *, worker_ports: dict[str, int], log_dir: Path,
                        extra_env: dict[str, str] | None = None, replicas: int = 1,
                        worker_replicas: int = 1) -> list["ServiceProcess"]:
    """The screening service and the lookup workers, each its own process: `replicas` screening processes (the
    first on SCREENING_HTTP_PORT) and `worker_replicas` workers per registry, sharing their consumer groups."""
    env = {**env, **(extra_env or {})}
    port = int(env["SCREENING_HTTP_PORT"])
    serve = [ServiceProcess("screening", "serve", {**env, "SCREENING_HTTP_PORT": str(port + REPLICA_PORT_STEP * k)},
                            port=port + REPLICA_PORT_STEP * k, log=log_dir / f"screening{_replica(k)}.log")
             for k in range(replicas)]
    workers = [ServiceProcess("screening", ["worker", "--registry", r],
                              {**env, "SCREENING_WORKER_HTTP_PORT": str(p + REPLICA_PORT_STEP * k)},
                              port=p + REPLICA_PORT_STEP * k, log=log_dir / f"screening-worker-{r}{_replica(k)}.log")
               for r, p in worker_ports.items() for k in range(worker_replicas)]
    return [*serve, *workers]


def _replica(k: int) -> str:
    return f"-{k + 1}" if k else ""


def registry_processes(data: Path, ports: dict[str, int], log_dir: Path,
                       latency_ms: str | None = None) -> dict[str, "ServiceProcess"]:
    """The local registry servers (deploy/registry), one process per registry, answering after the stand-in's
    realistic latency (50-150 ms) unless `latency_ms` says otherwise ("0": at once)."""
    latency = ["--latency-ms", latency_ms] if latency_ms is not None else []
    return {r: ServiceProcess("deploy.registry", ["--registry", r, "--port", str(p), "--data", str(data), *latency],
                              {}, port=p, log=log_dir / f"registry-{r}.log", ready_key=None)
            for r, p in ports.items()}


class ServiceProcess:
    """A service started as its own OS process, the way it is deployed."""

    def __init__(self, module: str, command: str | list[str], env: dict[str, str], *, port: int | None = None,
                 log: Path | None = None, ready_key: str | None = "kafka") -> None:
        self.module, self.port, self.ready_key = module, port, ready_key
        self.args = [command] if isinstance(command, str) else list(command)
        self.env = {**os.environ, **env}
        self.log = log or ROOT / ".local" / f"{module}-{'-'.join(self.args[:1])}.log"
        self.proc: subprocess.Popen | None = None

    def start(self, *, wait: bool = True) -> "ServiceProcess":
        self.log.parent.mkdir(parents=True, exist_ok=True)
        out = self.log.open("ab")
        command = [sys.executable, "-m", self.module, *self.args]
        self.proc = subprocess.Popen(command, env=self.env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
        started.remember(self.log.stem, self.proc.pid, command)
        if wait and self.port:
            self.wait_healthy()
        return self

    def wait_healthy(self, quiet: float | None = None) -> None:
        """Until its /health says it is ready, for as long as it keeps starting (its CPU time or its log grow): on
        a loaded machine a start takes minutes, a stuck one is told after the quiet period (issue 28)."""
        from deploy.local.waiting import QUIET_SECONDS, Stalled, cpu_seconds, wait_while_moving

        assert self.proc is not None
        pid, log = self.proc.pid, self.log

        def health() -> Any:
            if self.proc is None or self.proc.poll() is not None:
                raise RuntimeError(f"{self.module} exited; see {self.log}")
            try:
                return httpx.get(f"http://127.0.0.1:{self.port}/health", timeout=2).json()
            except (httpx.HTTPError, ValueError) as exc:
                return f"no answer ({type(exc).__name__})"

        def started(cpu=lambda: cpu_seconds(pid), size=lambda: log.stat().st_size if log.exists() else 0):
            return cpu(), size()

        started.__doc__ = f"{self.module}'s CPU time and log"
        try:
            wait_while_moving(health, lambda body: isinstance(body, dict) and (
                self.ready_key is None or bool(body.get(self.ready_key))), what=f"{self.module} becoming healthy",
                quiet=quiet or QUIET_SECONDS, signals=(started,))
        except Stalled as stalled:
            raise TimeoutError(f"{stalled}; see {self.log}") from None

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
        started.forget(self.log.stem)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()
        started.forget(self.log.stem)


@contextmanager
def running(*processes: ServiceProcess):
    try:
        for p in processes:
            p.start()
        yield processes
    finally:
        for p in processes:
            p.stop()


async def end_offsets(topic: str, bootstrap: KafkaAccess | str) -> dict[int, int]:
    consumer = AIOKafkaConsumer(**kafka_access(bootstrap).client(), enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        if not partitions:
            await consumer._client.force_metadata_update()
            partitions = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in partitions]
        return {tp.partition: off for tp, off in (await consumer.end_offsets(tps)).items()} if tps else {}
    finally:
        await consumer.stop()


async def read_topic(topic: str, bootstrap: KafkaAccess | str, start: dict[int, int] | None = None, *, until=None,
                     timeout: float = 30):
    """Records of a topic from the given offsets (default: the beginning), until `until(records)`, or until none
    has arrived for `timeout` seconds."""
    consumer = AIOKafkaConsumer(**kafka_access(bootstrap).client(), enable_auto_commit=False,
                                auto_offset_reset="earliest")
    await consumer.start()
    records = []
    try:
        await consumer._client.force_metadata_update()
        partitions = sorted(consumer.partitions_for_topic(topic) or ())
        tps = [TopicPartition(topic, p) for p in partitions]
        consumer.assign(tps)
        for tp in tps:
            consumer.seek(tp, (start or {}).get(tp.partition, 0))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=300)
            for msgs in batch.values():
                records.extend(msgs)
            if batch:  # records still arriving: the wait is over only after `timeout` without any (issue 28)
                deadline = time.monotonic() + timeout
            if until is not None and until(records):
                break
            if until is None and not batch:
                break
    finally:
        await consumer.stop()
    return records


def headers_of(record) -> dict[str, str]:
    return {k: v.decode() for k, v in record.headers}


async def publish_event(event: IntegrationEvent, bootstrap: KafkaAccess | str, *, source: str,
                        event_id: str | None = None, topic: str | None = None) -> str:
    """Publish one event as another system would (CloudEvents binary mode, acks=all) to its topic (or `topic`);
    returns its ce_id."""
    envelope = wrap(event, source=source, event_id=event_id)
    producer = AIOKafkaProducer(**kafka_access(bootstrap).client(), enable_idempotence=True, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(topic or event.topic(), envelope.body, key=envelope.key,
                                     headers=[(k, v.encode()) for k, v in envelope.headers().items()])
    finally:
        await producer.stop()
    return envelope.id


def retire_refused_demo_calls(folder: Path) -> None:
    """Demo calls of earlier runs live in `folder` beside this run's; one this version's program schema refuses
    (a field renamed since) would stop every service at start, so it is moved to `retired/`, with the reason."""
    for file in sorted(folder.glob("*.json")):
        try:
            ProgramDefinition.load(file)
        except ValidationError as exc:
            first = exc.errors()[0]
            (folder / "retired").mkdir(exist_ok=True)
            file.rename(folder / "retired" / file.name)
            print(f"retired demo call {file.name}: {'.'.join(map(str, first['loc']))}: {first['msg']}")
