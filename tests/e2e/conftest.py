from tests.integration.conftest import infrastructure, programs_dir, fresh_databases  # noqa: F401 - same infra
