"""Event contracts of the municipal SME support platform."""
from sme_schemas.base import ApplicationEvent, IntegrationEvent
from sme_schemas.catalog import BY_TOPIC, BY_TYPE, CONSUMES, EVENTS, SERVICES, produced_by
from sme_schemas.envelope import Envelope, EnvelopeError, unwrap, wrap

__all__ = ["ApplicationEvent", "BY_TOPIC", "BY_TYPE", "CONSUMES", "EVENTS", "Envelope", "EnvelopeError",
           "IntegrationEvent", "SERVICES", "produced_by", "unwrap", "wrap"]
