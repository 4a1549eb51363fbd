"""Kept for imports from before ``weirsoe_platform._logs`` (which the worker can load without
the web app)."""

from .._logs import RedactTokens, configure_logging, redact

__all__ = ["RedactTokens", "configure_logging", "redact"]
