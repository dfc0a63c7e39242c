"""Settings, one small pydantic-settings class per concern, read from ``TWIN_*`` variables.

Nothing reads the environment at import time: the CLI entry point and ``create_app`` build a
:class:`Settings` and pass it down.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_ROOT / "data"
DEFAULT_STORE = DATA_DIR / "twin.gpkg"


class StoreSettings(BaseSettings):
    """Where the city is stored: a GeoPackage path (embedded, default) or a PostGIS URL."""

    model_config = SettingsConfigDict(env_prefix="TWIN_", extra="ignore")

    database_url: str = Field(default=f"gpkg:///{DEFAULT_STORE}")


class AuthSettings(BaseSettings):
    """API keys as comma-separated ``role:key`` pairs (roles: resident, planner, admin)."""

    model_config = SettingsConfigDict(env_prefix="TWIN_", extra="ignore")

    api_keys: str = ""

    @field_validator("api_keys")
    @classmethod
    def _well_formed(cls, value: str) -> str:
        for pair in filter(None, (p.strip() for p in value.split(","))):
            role, sep, key = pair.partition(":")
            if not sep or not key or role not in {"resident", "planner", "admin"}:
                raise ValueError(
                    f"TWIN_API_KEYS entry {pair.split(':')[0]!r}… is not 'role:key' with role "
                    "resident, planner or admin"
                )
        return value

    def keys(self) -> dict[str, str]:
        """Return ``{key: role}`` for every configured API key."""
        out: dict[str, str] = {}
        for pair in filter(None, (p.strip() for p in self.api_keys.split(","))):
            role, _, key = pair.partition(":")
            out[key] = role
        return out


class Settings(BaseSettings):
    """All settings of one twin process."""

    model_config = SettingsConfigDict(env_prefix="TWIN_", extra="ignore")

    store: StoreSettings = Field(default_factory=StoreSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)

    @classmethod
    def from_env(cls) -> Settings:
        """Return settings read from the environment now (call it at an entry point)."""
        return cls(store=StoreSettings(), auth=AuthSettings())
