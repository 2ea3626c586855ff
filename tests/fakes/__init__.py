"""In-memory fakes of each service's unit of work (sme_runtime.unit): the use cases run on them in unit tests, in
well under a second, with no database or broker. Each fake store keeps the rows the service's SQL store keeps, as
plain records, and answers its queries with the same meaning (tests/unit/test_fake_stores.py checks the names and
parameters against the real store modules; the integration tests run the same use cases on PostgreSQL)."""
