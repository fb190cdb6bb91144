"""The one root exception and its narrow children.

Every error a user can cause (a bad file, a missing set, an unreachable database) is raised
as a subclass of :class:`RakshaError` with a sentence that says what to do. The CLI maps
each class to an exit code (see ``docs/cli.md``) and prints the sentence, never a
traceback. Library code wraps back-end exceptions (``OSError``, ``sqlalchemy`` errors) at
the boundary where it knows what the user was trying to do.
"""

from __future__ import annotations


class RakshaError(Exception):
    """Root of every error Raksha raises on purpose."""

    exit_code = 1


class UsageError(RakshaError):
    """The command was asked for something that cannot be done as asked."""

    exit_code = 2


class NotFoundError(RakshaError):
    """A named thing (hash set, file, case) does not exist."""

    exit_code = 3


class InputFormatError(RakshaError):
    """An input file is not in a format Raksha reads, or is damaged beyond reading."""

    exit_code = 4


class InvalidHashError(InputFormatError):
    """A hash value is not valid for its algorithm."""


class StoreError(RakshaError):
    """The database could not be reached, migrated, or written."""

    exit_code = 5


class IndexFormatError(RakshaError):
    """A persisted index is missing, of an unknown version, or damaged; rebuild it."""

    exit_code = 6


class HashingError(RakshaError):
    """A file could not be read or decoded for hashing."""

    exit_code = 7


class EvidenceIntegrityError(RakshaError):
    """Evidence does not match the hashes taken when it was acquired."""

    exit_code = 10


class AccessDeniedError(RakshaError):
    """The logged-in user's role, or their assignment to cases, does not allow this."""

    exit_code = 11


class AuthenticationError(RakshaError):
    """Nobody is logged in, the session has expired, or the password is wrong."""

    exit_code = 12


class AuditChainError(RakshaError):
    """The audit log's hash chain is broken: an entry was edited, inserted or deleted."""

    exit_code = 13
