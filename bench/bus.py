"""What the benchmarks share: putting a batch of events on the bus as another service would."""
from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaProducer

from sme_runtime.topics import ensure_topics
from sme_schemas import IntegrationEvent, wrap


async def publish_all(events: list[IntegrationEvent], bootstrap: str, source: str) -> None:
    """Every event onto its topic in one producer session (CloudEvents binary mode, acks=all)."""
    await ensure_topics(bootstrap, sorted({e.topic() for e in events}))
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all", linger_ms=5)
    await producer.start()
    try:
        sends = []
        for event in events:
            envelope = wrap(event, source=source)
            sends.append(await producer.send(event.topic(), envelope.body, key=envelope.key,
                                             headers=[(k, v.encode()) for k, v in envelope.headers().items()]))
        await asyncio.gather(*sends)
    finally:
        await producer.stop()
