"""The portal's settings (PORTAL_* environment variables)."""
from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from sme_runtime.settings import ServiceSettings

ROOT = Path(__file__).resolve().parents[3]


class PortalSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="PORTAL_", extra="ignore", frozen=True)

    database_url: str = "postgresql+asyncpg://portal:portal@127.0.0.1:5432/portal"
    http_port: int = 8000
    max_in_flight: int = Field(64, ge=1, le=100_000, description="Pages in progress at most (per worker); more are "
                               "answered busy with Retry-After")
    max_loop_lag_ms: float = Field(250, gt=0, description="Answer busy while the event loop runs this late "
                                    "with an eighth of max_in_flight in progress")
    public_url: str = Field("http://127.0.0.1:8000", description="The address people open (links in e-mails)")
    intake_url: str = "http://127.0.0.1:8001"
    screening_url: str = "http://127.0.0.1:8002"
    evaluation_url: str = "http://127.0.0.1:8003"
    contracts_url: str = "http://127.0.0.1:8004"
    payments_url: str = "http://127.0.0.1:8005"
    signing_key: Path | None = Field(None, description="The Ed25519 key the portal signs the services' tokens "
                                     "with (python -m sme_runtime.keys new); the services verify them with its "
                                     "JWKS. Unset in development: the shared development secret signs")
    cookie_secure: bool | None = Field(None, description="Send the session cookie over HTTPS only (default: in "
                                       "production)")
    session_idle_minutes: int = Field(30, ge=1, le=24 * 60)
    session_max_hours: int = Field(8, ge=1, le=72)
    lockout_failures: int = Field(5, ge=1, le=100, description="Failed sign-ins in a row that lock an account")
    lockout_minutes: int = Field(15, ge=1, le=24 * 60)
    invite_days: int = Field(7, ge=1, le=60)
    upload_dir: Path = ROOT / ".local" / "portal-uploads"
    upload_max_bytes: int = Field(10 * 1024 * 1024, ge=1024, le=200 * 1024 * 1024)
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 8025
    smtp_starttls: bool = False
    smtp_user: str | None = None
    smtp_password: str | None = None
    # Whose portal it is: every page's header and title, and its footer. Set by the deploying center; the programs
    # it runs (of any agency, T1) are named by their own files on every page that concerns one
    name: str = Field("김포시 중소기업 지원사업", min_length=1, max_length=60)  # PORTAL_NAME
    operator_name: str = Field("김포산업진흥원", min_length=1, max_length=60)  # PORTAL_OPERATOR_NAME
    mail_from: str = "김포산업진흥원 기업지원 <support@gimpo-center.example>"
    mail_seconds: float = Field(2.0, gt=0, description="How often notices waiting for e-mail are sent")
    service_timeout_seconds: float = Field(15.0, gt=0)

    @property
    def secure_cookies(self) -> bool:
        return self.environment == "production" if self.cookie_secure is None else self.cookie_secure

    @model_validator(mode="after")
    def _signed_tokens_in_production(self) -> "PortalSettings":
        # The services must not hold a secret that could mint a token: in production the portal signs with its key
        if self.environment == "production" and self.signing_key is None:
            raise ValueError("signing_key: set PORTAL_SIGNING_KEY (python -m sme_runtime.keys new) in production")
        if self.environment == "production" and self.secure_cookies is False:
            raise ValueError("cookie_secure: session cookies go over HTTPS only in production")
        return self
