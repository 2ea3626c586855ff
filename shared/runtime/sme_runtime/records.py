"""Records whose header keys are not UTF-8 reach the consumer instead of stalling its partition (issue 31).

aiokafka's fast (C) record parser decodes every header key as strict UTF-8 while it unpacks a fetched batch. A key
that is not UTF-8 raises inside the fetcher, before any code of ours runs: the position never moves past the
record, FastStream restarts its consume loop at once (about 1,500 log lines a second) and memory grows with each
refetch. The Kafka protocol calls header keys strings, but the broker stores whatever bytes a producer sends.

`TolerantMemoryRecords` takes the place of aiokafka's `MemoryRecords` in its fetcher (`install`): it splits a
fetched buffer into batches as aiokafka's own pure-Python reader does, parses each batch with the fast parser,
and only when that parser refuses a record reads the rest of that batch again with the pure-Python parser,
header keys decoded with `surrogateescape`. The consumer then sees the record, `read_record` refuses its key by
name, and the record is dead-lettered like any other unreadable one. A batch without such a key costs one Python
call per record more than before."""
from __future__ import annotations

from typing import Any, Iterator

from aiokafka.consumer import fetcher
from aiokafka.errors import CorruptRecordException
from aiokafka.record.default_records import DefaultRecordBatch, _DefaultRecordBatchPy
from aiokafka.record.memory_records import _MemoryRecordsPy

MAGIC_OFFSET = _MemoryRecordsPy.MAGIC_OFFSET


class _LenientSlice(bytearray):
    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        return super().decode(encoding, "surrogateescape")


class _LenientBuffer(bytearray):
    """A batch's bytes whose slices decode leniently: the pure-Python parser's header keys come out as text
    with the undecodable bytes kept as surrogates."""

    def __getitem__(self, index: Any) -> Any:
        item = super().__getitem__(index)
        return _LenientSlice(item) if isinstance(index, slice) else item


class _LenientBatch(_DefaultRecordBatchPy):  # type: ignore[misc]  # aiokafka is untyped here
    def __init__(self, buffer: Any) -> None:
        super().__init__(buffer)
        self._buffer: bytearray = _LenientBuffer(self._buffer)

    def _maybe_uncompress(self) -> None:
        super()._maybe_uncompress()
        if not isinstance(self._buffer, _LenientBuffer):
            self._buffer = _LenientBuffer(self._buffer)


class _TolerantBatch:
    """The fast parser's batch, falling back to the lenient one from the record it could not read."""

    def __init__(self, fast: Any, raw: memoryview) -> None:
        self._fast, self._raw = fast, raw
        self._lenient: Iterator[Any] | None = None
        self._last_offset: int | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._fast, name)

    def __iter__(self) -> "_TolerantBatch":
        return self

    def __next__(self) -> Any:
        if self._lenient is None:
            try:
                record = next(self._fast)
            except (UnicodeDecodeError, CorruptRecordException):
                # the fast parser reports a key it cannot decode either way (as corruption in a compressed batch);
                # a batch that is truly corrupt fails the lenient parser too, with aiokafka's own error
                self._lenient = iter(_LenientBatch(self._raw))
            else:
                self._last_offset = record.offset
                return record
        for record in self._lenient:
            if self._last_offset is None or record.offset > self._last_offset:
                return record
        raise StopIteration


class TolerantMemoryRecords(_MemoryRecordsPy):  # type: ignore[misc]
    """aiokafka's MemoryRecords, each batch of the current format read by `_TolerantBatch`."""

    def next_batch(self, *args: Any, **kwargs: Any) -> Any:
        raw = self._next_slice
        batch = super().next_batch(*args, **kwargs)
        if raw is not None and raw[MAGIC_OFFSET] >= 2:
            return _TolerantBatch(batch, raw)
        return batch


def install() -> None:
    """Every aiokafka consumer of this process reads fetched records through TolerantMemoryRecords."""
    fetcher.MemoryRecords = TolerantMemoryRecords


__all__ = ["DefaultRecordBatch", "TolerantMemoryRecords", "install"]
