"""What a referral reader yields, whatever format the referral came in.

Every reader (NCMEC CyberTipline JSON, CyberTipline reporting XML, alert JSON and CSV)
yields :class:`Referral` records and, for whatever could not be read, a
:class:`ReferralProblem`; the rest of the file is still read. The model is deliberately
flat and format-free so that matching (an account against a chat export, an MD5 against a
seized disk, an IP against subscriber records) never needs to know where a referral came
from.

Values are normalised once, here in the readers, so that they compare equal across
sources: hashes are lower-case hex (checked with :func:`raksha.hashes.normalize_hash`),
IP addresses are in :mod:`ipaddress`'s canonical form, times are aware UTC datetimes, and
phone numbers are E.164 where they parse (the text as given is kept beside it, because a
number that does not parse is still a lead). A value that fails its check is left out of
the record and named in a :class:`ReferralProblem`, never passed on half-checked.

A problem about a part of a referral (one file's hash, one IP capture) comes right after
that referral, with a ``where`` naming the report and the part (``"report 3, uploaded file
2"``); a problem that stopped a whole record (``"row 7"``) or the reading
(``"line 12"``) stands alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Final, Literal

#: Where a referral came from. ``other`` covers any agency that is neither.
Source = Literal["ncmec", "interpol", "other"]
SOURCES: Final[tuple[Source, ...]] = ("ncmec", "interpol", "other")


@dataclass(slots=True, frozen=True)
class ReportedPhone:
    """A phone number as the referral gave it and, where it parses, in E.164.

    ``e164`` is ``None`` for text that is not a possible number in the reader's default
    region (``raw`` is then all there is); two referrals name the same number when their
    ``e164`` values are equal.
    """

    raw: str
    e164: str | None

    @property
    def value(self) -> str:
        """The E.164 form where there is one, else the text as given."""
        return self.e164 if self.e164 is not None else self.raw


@dataclass(slots=True)
class ReportedAccount:
    """An account (or person) the referral says shared or held the files.

    ``platform`` is the service as the referral names it (``espService``, an alert's
    ``platform``), ``None`` where it does not say; ``user_id`` is the platform's own id
    (NCMEC ``espUserId``, XML ``espIdentifier``, alert ``user_id``), the most stable
    identifier there is. Addresses are kept as one line of text each.
    """

    platform: str | None = None
    user_id: str | None = None
    screen_name: str | None = None
    display_name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    emails: list[str] = field(default_factory=list)
    phones: list[ReportedPhone] = field(default_factory=list)
    profile_url: str | None = None
    addresses: list[str] = field(default_factory=list)
    device_ids: list[str] = field(default_factory=list)

    def is_empty(self) -> bool:
        """True when the account names nothing at all (such an entry is not kept)."""
        return not (
            self.user_id
            or self.screen_name
            or self.display_name
            or self.first_name
            or self.last_name
            or self.emails
            or self.phones
            or self.profile_url
            or self.addresses
            or self.device_ids
        )


@dataclass(slots=True)
class ReportedFile:
    """A file the referral reports, by name and hashes; never its content.

    ``md5``/``sha1``/``sha256`` are lower-case hex or ``None`` (absent, or invalid and
    reported as a problem). ``classification`` holds NCMEC's ``ncmecTags`` or the
    platform's ``industryClassification`` (``A1``, ``A2``, ``B1``, ``B2``) as given.
    ``viewed_by_esp`` says whether the platform looked at the file before reporting it,
    which matters for how it may be opened without a warrant; ``None`` when not said.
    """

    file_name: str | None = None
    original_file_name: str | None = None
    md5: str | None = None
    sha1: str | None = None
    sha256: str | None = None
    classification: list[str] = field(default_factory=list)
    viewed_by_esp: bool | None = None

    def has_hash(self) -> bool:
        """True when at least one hash survived its check (the file can be matched)."""
        return bool(self.md5 or self.sha1 or self.sha256)


@dataclass(slots=True, frozen=True)
class IpCapture:
    """An IP address the platform logged for the reported account.

    ``ip`` is canonical (:func:`ipaddress.ip_address` then ``str``: IPv6 compressed and
    lower-case); ``at`` is UTC or ``None``; ``event`` is what the platform logged
    (``eventName``, else ``captureType``: "Login", "Upload"). ``account_index`` is the
    position in :attr:`Referral.accounts` of the account it was captured for, ``None`` when
    the referral ties it to no account (an alert's list, an XML file's upload IP).
    """

    ip: str
    at: datetime | None = None
    port: int | None = None
    event: str | None = None
    account_index: int | None = None


@dataclass(slots=True)
class Referral:
    """One referral: who reported what, about which accounts, files and IP addresses.

    ``external_id`` is the referring body's own number (NCMEC ``reportId``, an alert's
    ``reference``); ``None`` only when the file lacked it, which is reported as a problem
    by the formats that require it. ``where`` says where in the file the referral was
    (``"report 2"``, ``"rows 2-5"``) so a problem and a record can be traced back.
    """

    source: Source
    where: str
    external_id: str | None = None
    received_at: datetime | None = None
    reporting_party: str | None = None
    incident_type: str | None = None
    incident_at: datetime | None = None
    summary: str | None = None
    accounts: list[ReportedAccount] = field(default_factory=list)
    files: list[ReportedFile] = field(default_factory=list)
    ip_captures: list[IpCapture] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(slots=True, frozen=True)
class ReferralProblem:
    """Something in a referral file that could not be read, and where.

    ``where`` is ``"report 3"``, ``"report 3, uploaded file 2"``, ``"row 7"`` or
    ``"line 12"``; ``reason`` is a sentence for the investigator (what was wrong and what
    was done about it), never a traceback.
    """

    where: str
    reason: str
