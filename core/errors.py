"""Errors shared across packages."""

from __future__ import annotations

from collections.abc import Mapping


class SocialCrmError(Exception):
    """Base of the project's own errors."""


class ConfigError(SocialCrmError):
    """Configuration that cannot work (bad URL, unreachable database, stale schema)."""


class NotFoundError(SocialCrmError):
    """A referenced row does not exist."""


class ConflictError(SocialCrmError):
    """The request contradicts the current state (illegal transition, duplicate)."""


class InvalidError(SocialCrmError):
    """Well-formed input that cannot work (unknown platform, bad source config): HTTP 422."""


def validation_message(
    exc: Exception, *, where: str = "", hints: Mapping[tuple[str, str], str] | None = None
) -> str:
    """Any error as one line; pydantic's multi-line report becomes `field: message; ...`.

    `where` names the field of errors that have no location of their own (a model validator);
    list positions read "example 2" rather than "examples.1"; `hints` replaces pydantic's
    message for a (field, error type), e.g. a pattern a person cannot be expected to read.
    Pydantic's "Value error, " prefix on a validator's own message is dropped.
    """
    errors = getattr(exc, "errors", None)
    if not callable(errors) or type(exc).__name__ != "ValidationError":
        return str(exc)
    parts = []
    for err in errors():
        loc = tuple(err.get("loc", ()))
        message = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        if hints and loc:
            message = hints.get((str(loc[0]), str(err.get("type"))), message)
        field = ".".join(str(p) for p in loc) or where
        if len(loc) == 2 and isinstance(loc[1], int) and str(loc[0]).endswith("s"):
            field = f"{str(loc[0])[:-1]} {loc[1] + 1}"
        parts.append(f"{field}: {message}" if field else message)
    return "; ".join(parts)
