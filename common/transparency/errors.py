"""The one shape of every error of this package: a short machine ``reason`` and a human ``message``."""

from __future__ import annotations

__all__ = ["TransparencyError"]


class TransparencyError(ValueError):
    """Base of the package's errors; ``reason`` is stable, ``message`` (also ``str(error)``) is for people."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.reason!r}, {self.message!r})"
