"""Which referral format a file is in, told from its content, and reading it.

File names say little (``report.json``, ``tip (3).xml``, ``alert.txt``), so the format is
decided by the first bytes: the markup or JSON keys each format must have near its
start. :func:`read_referrals` then hands the file to that reader, and refuses a file none
of them fits with a sentence listing what is accepted, before anything is read.
"""

from __future__ import annotations

import csv
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Final, Protocol

from raksha.chats.identity import DEFAULT_REGION
from raksha.errors import InputFormatError, NotFoundError
from raksha.referrals.alerts import (
    CSV_FORMAT_NAME,
    CSV_REQUIRED,
    JSON_FORMAT_NAME,
    read_alert_csv,
    read_alert_json,
)
from raksha.referrals.ncmec_json import FORMAT_NAME as NCMEC_JSON
from raksha.referrals.ncmec_json import read_ncmec_json
from raksha.referrals.ncmec_xml import FORMAT_NAME as NCMEC_XML
from raksha.referrals.ncmec_xml import read_ncmec_xml
from raksha.referrals.records import Referral, ReferralProblem
from raksha.referrals.values import BOM

logger = logging.getLogger(__name__)

#: How much of a file the sniffer looks at.
HEAD_SIZE: Final = 64 * 1024
ACCEPTED: Final = (
    "NCMEC CyberTipline reports as JSON, CyberTipline reporting XML (<report>), and "
    "alert JSON or CSV as described in raksha.referrals.alerts"
)

#: A ``<report>`` or ``<fileDetails>`` element, with or without a namespace prefix.
_XML_REPORT: Final = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(?:report|fileDetails)[\s/>]")
_NCMEC_KEYS: Final = re.compile(rb'"(?:reportId|reportedInformation|reportedPeople)"\s*:')
_ALERT_KEYS: Final = re.compile(rb'"reference"\s*:')


class Reader(Protocol):
    """What every referral reader is: a binary stream in, records and problems out."""

    def __call__(
        self, stream: BinaryIO, *, region: str = ...
    ) -> Iterator[Referral | ReferralProblem]: ...


_READERS: Final[dict[str, Reader]] = {
    NCMEC_JSON: read_ncmec_json,
    NCMEC_XML: read_ncmec_xml,
    JSON_FORMAT_NAME: read_alert_json,
    CSV_FORMAT_NAME: read_alert_csv,
}


def sniff_referral(head: bytes) -> str | None:
    """The format of a file starting with ``head``, or ``None`` if it is no referral.

    Returns ``"ncmec-json"``, ``"ncmec-xml"``, ``"alert-json"`` or ``"alert-csv"``. An
    XML file with a DTD is still recognised when it holds a report, so that its reader
    can refuse it with a reason rather than the file being called unknown.
    """
    body = head.removeprefix(BOM).lstrip()
    if body.startswith(b"<"):
        return NCMEC_XML if _XML_REPORT.search(body) else None
    if body.startswith((b"{", b"[")):
        if _NCMEC_KEYS.search(body):
            return NCMEC_JSON
        if _ALERT_KEYS.search(body):
            return JSON_FORMAT_NAME
        return None
    first_line = body.split(b"\n", 1)[0].decode("utf-8", errors="replace")
    try:
        cells = next(csv.reader([first_line]), [])
    except csv.Error:
        return None
    if {cell.strip().lower() for cell in cells} >= CSV_REQUIRED:
        return CSV_FORMAT_NAME
    return None


def read_referrals(
    path: Path, *, region: str = DEFAULT_REGION
) -> Iterator[Referral | ReferralProblem]:
    """The referrals in ``path``, read with the reader its content calls for.

    The format is decided now, so a file that is none of the accepted formats raises
    :class:`InputFormatError` here rather than on the first ``next``; what can go wrong
    inside a file comes as :class:`ReferralProblem` records. ``region`` is the default
    region for phone numbers written without a country code.
    """
    try:
        with path.open("rb") as stream:
            head = stream.read(HEAD_SIZE)
    except FileNotFoundError as exc:
        raise NotFoundError(f"{path} does not exist") from exc
    except OSError as exc:
        raise InputFormatError(f"{path} could not be read: {exc.strerror or exc}") from exc
    kind = sniff_referral(head)
    if kind is None:
        raise InputFormatError(f"{path} is not a referral Raksha reads; accepted are {ACCEPTED}")
    logger.info("reading %s as %s", path, kind)
    return _read(path, _READERS[kind], region)


def _read(path: Path, reader: Reader, region: str) -> Iterator[Referral | ReferralProblem]:
    try:
        stream: BinaryIO = path.open("rb")
    except OSError as exc:
        yield ReferralProblem("file", f"the file could not be opened: {exc.strerror or exc}")
        return
    with stream:
        yield from reader(stream, region=region)
