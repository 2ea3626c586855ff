"""How a process reaches the bus: where, and as whom. Every Kafka client the platform makes (FastStream brokers,
the relay, dead-letter replay, lag measurement, topic checks, the local tools) takes its settings from one
`KafkaAccess`, so a broker with SASL_SSL and ACLs (deploy/local/kafka.sh with SME_KAFKA_SECURITY=sasl_ssl, or a
production cluster) is reached the same way by all of them.
"""
from __future__ import annotations

import os
import ssl
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from faststream.security import BaseSecurity, SASLScram256, SASLScram512

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["SCRAM-SHA-512", "SCRAM-SHA-256"]
PROTOCOLS: tuple[SecurityProtocol, ...] = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
MECHANISMS: tuple[SaslMechanism, ...] = ("SCRAM-SHA-512", "SCRAM-SHA-256")


class KafkaAccessError(ValueError):
    """Settings that cannot reach a secured bus; names the setting at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True)
class KafkaAccess:
    bootstrap_servers: str
    security_protocol: SecurityProtocol = "PLAINTEXT"
    sasl_mechanism: SaslMechanism = "SCRAM-SHA-512"
    username: str | None = None
    password: str | None = None
    ssl_cafile: str | None = None  # the CA that signed the brokers' certificates (None: the system's trust store)

    def __post_init__(self) -> None:
        if self.security_protocol not in PROTOCOLS:
            raise KafkaAccessError("kafka_security_protocol", f"{self.security_protocol!r} is not one of "
                                   f"{', '.join(PROTOCOLS)}")
        if self.sasl_mechanism not in MECHANISMS:
            raise KafkaAccessError("kafka_sasl_mechanism", f"{self.sasl_mechanism!r} is not one of "
                                   f"{', '.join(MECHANISMS)}")
        if self.sasl and not (self.username and self.password):
            raise KafkaAccessError("kafka_username", f"{self.security_protocol} needs a username and a password "
                                   "(the principal's SCRAM credentials)")
        if self.ssl_cafile and not Path(self.ssl_cafile).is_file():
            raise KafkaAccessError("kafka_ssl_cafile", f"{self.ssl_cafile} is not a readable file")

    @property
    def sasl(self) -> bool:
        return self.security_protocol.startswith("SASL_")

    @property
    def tls(self) -> bool:
        return self.security_protocol in ("SSL", "SASL_SSL")

    @property
    def principal(self) -> str:
        return f"User:{self.username}" if self.sasl else "User:ANONYMOUS"

    @cached_property
    def ssl_context(self) -> ssl.SSLContext | None:
        # Hostnames are checked: the local broker's certificate names 127.0.0.1 and localhost.
        return ssl.create_default_context(cafile=self.ssl_cafile) if self.tls else None

    def client(self) -> dict[str, Any]:
        """Keyword arguments for an aiokafka producer, consumer or admin client."""
        settings: dict[str, Any] = {"bootstrap_servers": self.bootstrap_servers,
                                    "security_protocol": self.security_protocol}
        if self.tls:
            settings["ssl_context"] = self.ssl_context
        if self.sasl:
            settings.update(sasl_mechanism=self.sasl_mechanism, sasl_plain_username=self.username,
                            sasl_plain_password=self.password)
        return settings

    def security(self) -> BaseSecurity | None:
        """The same, for a FastStream KafkaBroker (`security=`)."""
        if self.sasl:
            scram = SASLScram512 if self.sasl_mechanism == "SCRAM-SHA-512" else SASLScram256
            return scram(str(self.username), str(self.password), ssl_context=self.ssl_context, use_ssl=self.tls)
        if self.tls:
            return BaseSecurity(ssl_context=self.ssl_context, use_ssl=True)
        return None

    @classmethod
    def from_env(cls, bootstrap_servers: str, environ: dict[str, str] | None = None) -> "KafkaAccess":
        """For the tools and tests that are not a service: SME_KAFKA_SECURITY_PROTOCOL, SME_KAFKA_USERNAME,
        SME_KAFKA_PASSWORD (or SME_KAFKA_PASSWORD_FILE), SME_KAFKA_SSL_CAFILE; unset: PLAINTEXT."""
        env = os.environ if environ is None else environ
        password = env.get("SME_KAFKA_PASSWORD")
        if not password and env.get("SME_KAFKA_PASSWORD_FILE"):
            password = Path(env["SME_KAFKA_PASSWORD_FILE"]).read_text(encoding="utf-8").strip()
        protocol = env.get("SME_KAFKA_SECURITY_PROTOCOL", "PLAINTEXT").upper()
        return cls(bootstrap_servers, security_protocol=protocol,  # type: ignore[arg-type] # checked in __post_init__
                   sasl_mechanism=env.get("SME_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512"),  # type: ignore[arg-type]
                   username=env.get("SME_KAFKA_USERNAME") or None, password=password or None,
                   ssl_cafile=env.get("SME_KAFKA_SSL_CAFILE") or None)


def kafka_access(kafka: KafkaAccess | str) -> KafkaAccess:
    """A bare bootstrap address is reached as the environment says (SME_KAFKA_*): the local tools and the tests
    pass addresses, the services pass their settings' access."""
    return kafka if isinstance(kafka, KafkaAccess) else KafkaAccess.from_env(kafka)
