"""Service processes and topic reads, shared by the main job, the benchmark and the tests."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition

ROOT = Path(__file__).resolve().parents[2]


def intake_env(*, kafka: str, pg_port: str | int, http_port: int, programs_path: str) -> dict[str, str]:
    """INTAKE_* settings for an intake process on this machine's broker and cluster."""
    return {"INTAKE_DATABASE_URL": f"postgresql+asyncpg://intake:intake@127.0.0.1:{pg_port}/intake",
            "INTAKE_KAFKA_BOOTSTRAP_SERVERS": kafka, "INTAKE_HTTP_PORT": str(http_port),
            "INTAKE_PROGRAMS_PATH": programs_path}


class ServiceProcess:
    """A service started as its own OS process, the way it is deployed."""

    def __init__(self, module: str, command: str, env: dict[str, str], *, port: int | None = None,
                 log: Path | None = None) -> None:
        self.module, self.command, self.port = module, command, port
        self.env = {**os.environ, **env}
        self.log = log or ROOT / ".local" / f"{module}-{command}.log"
        self.proc: subprocess.Popen | None = None

    def start(self, *, wait: bool = True) -> "ServiceProcess":
        self.log.parent.mkdir(parents=True, exist_ok=True)
        out = self.log.open("ab")
        self.proc = subprocess.Popen([sys.executable, "-m", self.module, self.command], env=self.env,
                                     stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
        if wait and self.port:
            self.wait_healthy()
        return self

    def wait_healthy(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc and self.proc.poll() is None, f"{self.module} exited; see {self.log}"
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/health", timeout=2).json().get("kafka"):
                    return
            except (httpx.HTTPError, ValueError):
                pass
            time.sleep(0.3)
        raise TimeoutError(f"{self.module} not healthy; see {self.log}")

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()


@contextmanager
def running(*processes: ServiceProcess):
    try:
        for p in processes:
            p.start()
        yield processes
    finally:
        for p in processes:
            p.stop()


async def end_offsets(topic: str, bootstrap: str) -> dict[int, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
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


async def read_topic(topic: str, bootstrap: str, start: dict[int, int] | None = None, *, until=None,
                     timeout: float = 30):
    """Records of a topic from the given offsets (default: the beginning), until `until(records)` or timeout."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest")
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
            if until is not None and until(records):
                break
            if until is None and not batch:
                break
    finally:
        await consumer.stop()
    return records


def headers_of(record) -> dict[str, str]:
    return {k: v.decode() for k, v in record.headers}
