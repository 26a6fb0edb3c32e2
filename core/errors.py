"""Errors shared across packages."""


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
