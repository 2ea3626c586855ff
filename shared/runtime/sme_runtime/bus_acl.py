"""Who may do what on the bus, generated from the event catalog (issue 27).

Each service's principal writes the topics it publishes and the dead-letter topics of those it reads, reads
exactly the topics it consumes, and uses only consumer groups named after itself. Each outside system files into
its own topic (`municipal.<system>.application-filed.v1`, which no one else may write: that is how intake knows
the sender), reads its own answers (`municipal.<system>.application-filing-result.v1`) and the public events it is
registered for. The shared `municipal.application-filed.v1` of an unauthenticated development bus is granted to
no one. Nothing is granted by hand, so the ACLs and the catalog (and the AsyncAPI made from it) cannot disagree.
The deploy step applies them (deploy/local/kafka.sh provision: SCRAM users and these bindings), on a broker with
`allow.everyone.if.no.acl.found` off: whatever is not listed here is refused.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Literal, Mapping

from sme_runtime.consumer import dlq_topic
from sme_schemas.catalog import CONSUMES, EVENTS, SERVICES, produced_by
from sme_schemas.intake import ApplicationFiledByMunicipalSystem, ApplicationFilingResult

Resource = Literal["TOPIC", "GROUP"]
Pattern = Literal["LITERAL", "PREFIXED"]
Operation = Literal["READ", "WRITE", "DESCRIBE"]
PUBLIC_TOPICS = {e.topic() for e in EVENTS}


@dataclass(frozen=True, order=True)
class Binding:
    """One ALLOW ACL: `principal` may `operation` on the resource (a topic or a consumer group)."""

    principal: str
    resource: Resource
    pattern: Pattern
    name: str
    operation: Operation

    def line(self) -> str:
        return "\t".join((self.principal, self.resource, self.pattern, self.name, self.operation))


@dataclass(frozen=True)
class OutsideSystem:
    """Another municipal system with its own principal: it files applications (`files`, as CloudEvents `source`
    `source`, naming itself `source_system` = `name`) and reads the public events it is registered for (`reads`:
    catalog topics)."""

    name: str
    source: str = ""
    files: bool = False
    reads: tuple[str, ...] = ()
    agencies: tuple[str, ...] = ()  # T1: the agencies whose programs it files for

    @property
    def principal(self) -> str:
        return f"User:{self.name}"

    @property
    def filing_topic(self) -> str:
        return ApplicationFiledByMunicipalSystem.topic_of(self.name)

    @property
    def answer_topic(self) -> str:
        return ApplicationFilingResult.topic_of(self.name)


class SystemsFileError(ValueError):
    """deploy/bus/systems.json names something that cannot be: the message names the entry and the field."""


SYSTEM_NAME = re.compile(r"[a-z0-9][a-z0-9-]{1,62}")


def load_outside_systems(path: Path) -> tuple[OutsideSystem, ...]:
    """deploy/bus/systems.json: {"systems": [{"name": …, "source": …, "files": true, "reads": [topic, …]}]}"""
    systems: list[OutsideSystem] = []
    for i, entry in enumerate(json.loads(path.read_text(encoding="utf-8"))["systems"]):
        where = f"{path}: systems[{i}]"
        name = entry.get("name", "")
        if not SYSTEM_NAME.fullmatch(name) or name in SERVICES or name == "admin":
            raise SystemsFileError(f"{where}.name: {name!r} must be lower-case letters, digits and '-' (2–63), "
                                   "and not a service's or the administrator's name")
        if name in {s.name for s in systems}:
            raise SystemsFileError(f"{where}.name: {name!r} is registered twice")
        if entry.get("files") and not str(entry.get("source", "")).strip():
            raise SystemsFileError(f"{where}.source: a system that files applications names its CloudEvents "
                                   "source (ce_source), which its filings must carry")
        agencies = entry.get("agencies", [])
        if entry.get("files") and (not isinstance(agencies, list) or not agencies
                                   or not all(isinstance(a, str) and a for a in agencies)):
            raise SystemsFileError(f"{where}.agencies: a system that files applications names the agencies whose "
                                   "programs it files for (T1)")
        unknown = sorted(set(entry.get("reads", ())) - PUBLIC_TOPICS)
        if unknown:
            raise SystemsFileError(f"{where}.reads: {', '.join(unknown)} is not a topic of the event catalog")
        systems.append(OutsideSystem(name, str(entry.get("source", "")), bool(entry.get("files")),
                                     tuple(entry.get("reads", ())), tuple(agencies)))
    return tuple(systems)


def _topic(principal: str, name: str, *operations: Operation) -> list[Binding]:
    return [Binding(principal, "TOPIC", "LITERAL", name, op) for op in operations]


def _groups_of(principal: str, prefix: str) -> list[Binding]:
    # Its consumer groups are `<prefix>.<…>` (sme_runtime.consumer): READ to join and commit, DESCRIBE for lag
    return [Binding(principal, "GROUP", "PREFIXED", f"{prefix}.", op) for op in ("READ", "DESCRIBE")]


def service_bindings(service: str, internal: Iterable[str] = ()) -> list[Binding]:
    """A service's principal (`User:<service>`): its catalog, and its internal topics (read and written by it
    alone, e.g. screening's lookup topics and their DLQs)."""
    principal = f"User:{service}"
    consumed = sorted({e.topic() for e in CONSUMES[service]})
    bindings = [*_groups_of(principal, service)]
    for topic in sorted({e.topic() for e in produced_by(service)}):
        bindings += _topic(principal, topic, "WRITE", "DESCRIBE")
    for topic in consumed:
        bindings += _topic(principal, topic, "READ", "DESCRIBE")
        bindings += _topic(principal, dlq_topic(topic), "WRITE", "DESCRIBE")
    for topic in sorted(set(internal)):
        bindings += _topic(principal, topic, "READ", "WRITE", "DESCRIBE")
    return bindings


def outside_system_bindings(system: OutsideSystem) -> list[Binding]:
    bindings = _groups_of(system.principal, system.name)
    if system.files:
        bindings += _topic(system.principal, system.filing_topic, "WRITE", "DESCRIBE")
        bindings += _topic(system.principal, system.answer_topic, "READ", "DESCRIBE")
    for topic in system.reads:
        bindings += _topic(system.principal, topic, "READ", "DESCRIBE")
    return bindings


def filing_bindings(systems: Iterable[OutsideSystem]) -> list[Binding]:
    """Intake reads each filing system's topic (dead-lettering into its DLQ) and writes that system's answers."""
    bindings = []
    for system in (s for s in systems if s.files):
        bindings += _topic("User:intake", system.filing_topic, "READ", "DESCRIBE")
        bindings += _topic("User:intake", dlq_topic(system.filing_topic), "WRITE", "DESCRIBE")
        bindings += _topic("User:intake", system.answer_topic, "WRITE", "DESCRIBE")
    return bindings


def filing_topics(systems: Iterable[OutsideSystem]) -> list[str]:
    """The per-system topics of the filing systems, with the filing topics' DLQs (created with intake's)."""
    return sorted(t for s in systems if s.files for t in (s.filing_topic, dlq_topic(s.filing_topic), s.answer_topic))


def all_bindings(internal: Mapping[str, Iterable[str]], systems: Iterable[OutsideSystem]) -> list[Binding]:
    systems = tuple(systems)
    bindings = [b for service in SERVICES for b in service_bindings(service, internal.get(service, ()))]
    bindings += [b for system in systems for b in outside_system_bindings(system)] + filing_bindings(systems)
    return sorted(set(bindings))


def principals(systems: Iterable[OutsideSystem]) -> list[str]:
    """The SCRAM users the bus needs besides its administrator: one per service, one per outside system."""
    return [*SERVICES, *(s.name for s in systems)]


def all_topics(internal: Mapping[str, Iterable[str]], systems: Iterable[OutsideSystem]) -> list[str]:
    """Every topic the deploy step provisions: the catalog's, their DLQs, the services' internal ones and the
    filing systems' own."""
    consumed = {e.topic() for events in CONSUMES.values() for e in events}
    return sorted(PUBLIC_TOPICS | {dlq_topic(t) for t in consumed} | {t for ts in internal.values() for t in ts}
                  | set(filing_topics(systems)))
