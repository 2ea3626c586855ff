"""Payments' settings (PAYMENTS_* environment variables)."""
from __future__ import annotations

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from payments.accounts import fernet_keys
from sme_runtime.settings import CalendarSettings

# Development only: a published key protects nothing. Production refuses to start with it.
DEVELOPMENT_ACCOUNT_KEY = "ZGV2ZWxvcG1lbnQtb25seS1hY2NvdW50LWtleS0wMDE="


class PaymentsSettings(CalendarSettings):
    model_config = SettingsConfigDict(env_prefix="PAYMENTS_", extra="ignore", frozen=True)

    database_url: str = "postgresql+asyncpg://payments:payments@127.0.0.1:5432/payments"
    http_port: int = 8005
    account_key: str = Field(DEVELOPMENT_ACCOUNT_KEY, description="Fernet keys (urlsafe base64 of 32 bytes), "
                             "comma-separated, newest first: the first encrypts bank account numbers at rest, every "
                             "one decrypts (key rotation: `python -m payments rotate-account-key`)")
    sweep_seconds: float = Field(5.0, gt=0, description="How often due dates are checked (P3) and gauges refresh")

    @model_validator(mode="after")
    def _own_key_in_production(self) -> "PaymentsSettings":
        fernet_keys(self.account_key)
        if self.environment == "production" and DEVELOPMENT_ACCOUNT_KEY in self.account_key.split(","):
            raise ValueError("account_key: set PAYMENTS_ACCOUNT_KEY to your own Fernet key in production")
        return self
