"""Issue 31: a record whose header key is not UTF-8 stalled its partition for good (aiokafka's parser raised in
the fetcher, FastStream restarted its loop 1,500 times a second, memory grew). Fetched batches are read by
TolerantMemoryRecords: the records around it come out as before, it comes out with its key kept as surrogates,
and read_record refuses it by name, so it is dead-lettered like any unreadable record."""
from __future__ import annotations

from dataclasses import dataclass

import pytest
from aiokafka.record.default_records import _DefaultRecordBatchBuilderPy

from sme_runtime.consumer import _headers, read_record
from sme_runtime.records import TolerantMemoryRecords
from sme_schemas import EnvelopeError
from sme_schemas.intake import ApplicationWithdrawn


class BadKey(str):
    """A header key as a producer that does not encode UTF-8 writes it (aiokafka's own producer always does)."""

    def encode(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        return b"\xff\xfe\xfd\xfc\xfb\xfa"


def _batch(base: int, keys: list[str], *, compression: int = 0) -> bytes:
    builder = _DefaultRecordBatchBuilderPy(magic=2, compression_type=compression, is_transactional=0,
                                           producer_id=-1, producer_epoch=-1, base_sequence=-1, batch_size=1_000_000)
    for delta, key in enumerate(keys):
        builder.append(delta, timestamp=None, key=b"APP", value=f"v{base + delta}".encode(),
                       headers=[(BadKey(key) if key == "BADKEY" else key, b"1"), ("ce_id", b"x")])
    built = bytearray(builder.build())
    built[0:8] = base.to_bytes(8, "big")  # the broker assigns the base offset
    return bytes(built)


def _read(buffer: bytes) -> list:
    records, out = TolerantMemoryRecords(buffer), []
    while records.has_next():
        out.extend(records.next_batch())
    return out


def test_batches_without_a_bad_key_read_as_aiokafka_reads_them():
    records = _read(_batch(0, ["a", "b"]) + _batch(2, ["c"]))
    assert [(r.offset, r.value, r.headers[0][0]) for r in records] == [(0, b"v0", "a"), (1, b"v1", "b"),
                                                                        (2, b"v2", "c")]


@pytest.mark.parametrize("compression", [0, 1], ids=["plain", "gzip"])
def test_a_record_with_a_key_that_is_not_utf8_comes_out_between_its_neighbours(compression):
    records = _read(_batch(10, ["a", "BADKEY", "c"], compression=compression) + _batch(13, ["d"]))
    assert [r.offset for r in records] == [10, 11, 12, 13]
    bad = records[1]
    assert bad.value == b"v11" and bad.headers[0][0] == "\udcff\udcfe\udcfd\udcfc\udcfb\udcfa"


def test_the_consumer_refuses_that_record_naming_its_key_and_can_copy_it_to_the_dlq():
    bad = _read(_batch(0, ["BADKEY"]))[0]

    @dataclass(frozen=True)
    class Record:
        headers: list
        value: bytes
        topic: str = "t"

    with pytest.raises(EnvelopeError) as refused:
        read_record(Record(list(bad.headers), bad.value), ApplicationWithdrawn)
    assert refused.value.field == "(header key)" and "not UTF-8" in str(refused.value)
    [(key, _), _] = _headers(Record(list(bad.headers), bad.value))
    assert key == "\ufffd" * 6 and key.encode("utf-8")  # a DLQ copy's key any producer can send
