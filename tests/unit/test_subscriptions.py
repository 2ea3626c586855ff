"""Each service's subscription table (app.SUBSCRIPTIONS, read top to bottom) is exactly what the catalog says it
consumes; a service whose table disagrees refuses to build its broker, naming the event."""
from __future__ import annotations

import importlib

import pytest

from sme_runtime.service import SubscriptionsDisagree, check_subscriptions
from sme_schemas.catalog import CONSUMES
from sme_schemas.payments import PaymentDue

SERVICES = sorted(CONSUMES)


def _table(service: str):
    app = importlib.import_module(f"{service}.app")
    return app.SUBSCRIPTIONS, getattr(app, "INTERNAL", ())


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_subscribes_to_exactly_what_the_catalog_says(service):
    table, internal = _table(service)
    check_subscriptions(service, table, internal)
    assert set(table) - set(internal) == set(CONSUMES[service])


@pytest.mark.parametrize("service", SERVICES)
def test_a_subscription_removed_is_refused_by_name(service):
    table, internal = _table(service)
    removed = next(e for e in table if e not in internal)
    with pytest.raises(SubscriptionsDisagree, match=f"{service}: .*not subscribed: {removed.__name__}"):
        check_subscriptions(service, {e: h for e, h in table.items() if e is not removed}, internal)


def test_a_subscription_the_catalog_does_not_list_is_refused_by_name():
    table, internal = _table("intake")
    with pytest.raises(SubscriptionsDisagree, match="not in the catalog: PaymentDue"):
        check_subscriptions("intake", {**table, PaymentDue: table[next(iter(table))]}, internal)
