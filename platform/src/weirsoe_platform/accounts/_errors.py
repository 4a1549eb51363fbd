"""Account and preset errors, with their HTTP statuses (mapped in ``transport/_errors.py``)."""

from __future__ import annotations

from ..sessions import PlatformError, Unauthorized

__all__ = [
    "ACCOUNT_STATUS",
    "AccountError",
    "BadCredentials",
    "DatabaseUnavailable",
    "InvalidValue",
    "PresetConflict",
    "PresetNotFound",
    "RegistrationClosed",
    "UsernameTaken",
]


class AccountError(PlatformError):
    default_code = "account_error"


class BadCredentials(Unauthorized):
    """Unknown username or wrong password (never says which)."""

    default_code = "bad_credentials"


class RegistrationClosed(AccountError, PermissionError):
    default_code = "registration_closed"


class UsernameTaken(AccountError, ValueError):
    default_code = "username_taken"


class InvalidValue(AccountError, ValueError):
    """A bad username, password or preset name; ``field`` names it."""

    default_code = "invalid_value"


class PresetNotFound(AccountError, LookupError):
    """No such preset, or it belongs to someone else (the same answer, on purpose)."""

    default_code = "preset_not_found"


class PresetConflict(AccountError, ValueError):
    """The request conflicts with the preset as stored (its cartridge, or the account's count
    of presets)."""

    default_code = "preset_conflict"


class DatabaseUnavailable(AccountError, ConnectionError):
    default_code = "database_unavailable"


ACCOUNT_STATUS: list[tuple[type[Exception], int]] = [
    (RegistrationClosed, 403),
    (UsernameTaken, 409),
    (InvalidValue, 422),
    (PresetNotFound, 404),
    (PresetConflict, 409),
    (DatabaseUnavailable, 503),
]
