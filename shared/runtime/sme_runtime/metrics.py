"""Prometheus metrics the delivery plumbing reports; business counters live in each service."""
from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from prometheus_client import REGISTRY, Counter, Gauge, Histogram

EVENTS_CONSUMED = Counter(
    "sme_events_consumed_total", "Events taken from Kafka, by outcome",
    ["service", "topic", "outcome"],  # outcome: processed | duplicate | dead_lettered
)
EVENT_RETRIES = Counter("sme_event_retries_total", "Transient failures retried while handling an event",
                        ["service", "topic"])
OUTBOX_PUBLISHED = Counter("sme_outbox_published_total", "Outbox rows published to Kafka", ["service", "topic"])
CONSUMER_LAG = Gauge("sme_consumer_lag", "Events waiting for a consumer group on a topic (end minus committed offsets)",
                     ["service", "group", "topic"], multiprocess_mode="max")
OUTBOX_PENDING = Gauge("sme_outbox_pending", "Outbox rows not yet published", ["service"])
RELAY_FAILURES = Counter("sme_relay_failures_total", "Relay batches that failed and were retried", ["service"])
BATCH_SIZE = Histogram("sme_consumer_batch_records", "Records taken in one poll and applied together",
                       ["service", "topic"], buckets=(1, 2, 5, 10, 25, 50, 100, 200, 500, 1000))
RELAY_BATCH_SECONDS = Histogram("sme_relay_batch_seconds", "Time to publish and mark one outbox batch", ["service"])


def set_by_status(gauge: Gauge, statuses: type[StrEnum], counts: Mapping[str, int]) -> None:
    """A gauge labelled by status gets every status of the service's enum, 0 for those with no rows, so a status
    that empties shows as 0 rather than as its last value, and dashboards see every series from the start."""
    for status in statuses:
        gauge.labels(status.value).set(counts.get(status.value, 0))


__all__ = ["BATCH_SIZE", "EVENTS_CONSUMED", "EVENT_RETRIES", "OUTBOX_PENDING", "OUTBOX_PUBLISHED", "REGISTRY",
           "RELAY_BATCH_SECONDS", "RELAY_FAILURES", "set_by_status"]
DEAD_LETTERS_PARKED = Counter("sme_dead_letters_parked_total", "Poison records the broker would not take even a "
                              "headers-only dead-letter copy of: parked in the consumer's dead_letters table (or "
                              "only logged, by a lookup worker) with their offset", ["topic"])
