"""The one shape of every error of this package: a short machine ``reason`` and a human ``message``."""

from __future__ import annotations

__all__ = ["SecurityError"]


class SecurityError(ValueError):
    """Base of the package's errors; ``reason`` is stable, ``message`` (also ``str(error)``) is for people.

    Messages never repeat secrets (keys, tokens) given to the function that failed.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.reason!r}, {self.message!r})"
