"""Issue 30: a topic a client touches before its service creates it gets the broker's default partition count;
every broker configuration the project ships sets that default to the platform's count."""
import re
from pathlib import Path

from sme_runtime.topics import PARTITIONS

ROOT = Path(__file__).resolve().parents[2]


def test_the_local_broker_defaults_to_the_platforms_partition_count():
    script = (ROOT / "deploy/local/kafka.sh").read_text()
    assert re.findall(r"^num\.partitions=(\d+)$", script, re.MULTILINE) == [str(PARTITIONS)]


def test_every_compose_broker_defaults_to_the_platforms_partition_count():
    for compose in ("docker-compose.yml", "docker-compose.cluster.yml"):
        found = re.findall(r'KAFKA_NUM_PARTITIONS:\s*"(\d+)"', (ROOT / compose).read_text())
        assert found and set(found) == {str(PARTITIONS)}, compose
