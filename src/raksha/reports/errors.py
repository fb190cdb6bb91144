"""The errors reports raise: narrow children of the project's own classes, so the CLI maps
them to the exit codes ``docs/cli.md`` already lists."""

from __future__ import annotations

from raksha.errors import EvidenceIntegrityError, UsageError


class ReportIntegrityError(EvidenceIntegrityError):
    """A report file no longer has the SHA-256 the registry holds for it."""


class NotNewMaterialError(UsageError):
    """An item that a reference set already holds cannot be confirmed as new material."""
