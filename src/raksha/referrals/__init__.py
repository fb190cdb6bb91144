"""Referrals: the reports that start an investigation, read into one record model.

A cybercrime unit receives NCMEC CyberTipline reports (as JSON, or the CyberTipline
reporting XML that platforms send) and INTERPOL or other alerts (a small JSON or CSV form
documented in :mod:`raksha.referrals.alerts`). Each reader turns one of these into a stream
of :class:`~raksha.referrals.records.Referral` records, with a
:class:`~raksha.referrals.records.ReferralProblem` for whatever could not be read, so that
the accounts, hashes and IP addresses of every referral can be matched against seized
material the same way whatever format they came in. :func:`read_referrals` picks the reader
from a file's content.

Readers never see the material itself: a referral carries identifiers (accounts, hashes,
IP captures) and the platform's text, nothing else. Victim details in a CyberTipline report
are skipped on purpose; they are not needed to find the person who shared the files.
"""

from __future__ import annotations

from raksha.referrals.detect import read_referrals, sniff_referral
from raksha.referrals.records import (
    IpCapture,
    Referral,
    ReferralProblem,
    ReportedAccount,
    ReportedFile,
    ReportedPhone,
)

__all__ = [
    "IpCapture",
    "Referral",
    "ReferralProblem",
    "ReportedAccount",
    "ReportedFile",
    "ReportedPhone",
    "read_referrals",
    "sniff_referral",
]
