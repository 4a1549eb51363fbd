"""Host accounts and their presets: the only persistent data (SQL, with migrations)."""

from ._db import DEFAULT_DATABASE_URL, Database, async_url
from ._errors import (
    ACCOUNT_STATUS,
    AccountError,
    BadCredentials,
    DatabaseUnavailable,
    InvalidValue,
    PresetConflict,
    PresetNotFound,
    RegistrationClosed,
    UsernameTaken,
)
from ._migrate import MigrationSource, PackageStatus, migration_sources, status, upgrade
from ._models import Preset, User
from ._passwords import Passwords
from ._plugin import COOKIE_NAME, AccountsPlugin
from ._presets import PresetStore
from ._routes import REQUEST_BODIES as ACCOUNT_REQUEST_BODIES
from ._service import Account, Accounts, Limits

__all__ = [
    "ACCOUNT_REQUEST_BODIES",
    "ACCOUNT_STATUS",
    "COOKIE_NAME",
    "DEFAULT_DATABASE_URL",
    "Account",
    "AccountError",
    "Accounts",
    "AccountsPlugin",
    "BadCredentials",
    "Database",
    "DatabaseUnavailable",
    "InvalidValue",
    "Limits",
    "MigrationSource",
    "PackageStatus",
    "Passwords",
    "Preset",
    "PresetConflict",
    "PresetNotFound",
    "PresetStore",
    "RegistrationClosed",
    "User",
    "UsernameTaken",
    "async_url",
    "migration_sources",
    "status",
    "upgrade",
]
