"""Soft identifiers only suggest, on both databases: the same profile photo by PDQ (a
Telegram export's own profile pictures, scanned with the export) and a referral's email
address that spells an account's name."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image
from sqlalchemy import insert, select

from raksha.chats.detect import detect_export
from raksha.chats.records import ProfilePhoto
from raksha.chats.telegram import read_telegram
from raksha.chats.tree import FolderTree
from raksha.network import identity
from raksha.scan.pipeline import ScanOptions
from raksha.services.ingest import ingest_export
from raksha.store.chat_models import accounts_table
from raksha.store.db import Store
from raksha.store.intel_models import (
    referral_accounts_table,
    referral_links_table,
    referrals_table,
)
from raksha.store.models import utcnow
from raksha.store.network_models import person_accounts_table
from raksha.store.scan_repo import create_case
from tests.chats.telegram_fixtures import ChatBuilder, picture, write_full


def _with_photo(folder: Path, user_id: int, name: str, photo: bytes) -> Path:
    chat = ChatBuilder(f"{name}'s chat", "personal_chat", 5000 + user_id)
    chat.post(1, name, f"user{user_id}", "hello")
    export = write_full(folder, [chat], owner={"user_id": user_id, "first_name": name})
    (export / "profile_pictures").mkdir()
    (export / "profile_pictures" / "photo_1.jpg").write_bytes(photo)
    root = (export / "result.json").read_text()
    (export / "result.json").write_text(
        root.replace(
            '"contacts":',
            '"profile_pictures": [{"date": "2026-01-01T10:00:00", '
            '"photo": "profile_pictures/photo_1.jpg"}], "contacts":',
        )
    )
    return export


def _smaller(jpeg: bytes) -> bytes:
    image = Image.open(io.BytesIO(jpeg))
    out = io.BytesIO()
    image.resize((image.width // 2, image.height // 2)).save(out, "JPEG", quality=70)
    return out.getvalue()


def _person(store: Store, external_id: str) -> int:
    with store.engine.connect() as conn:
        return int(
            conn.execute(
                select(person_accounts_table.c.person_id)
                .join(accounts_table, accounts_table.c.id == person_accounts_table.c.account_id)
                .where(accounts_table.c.external_id == external_id)
            ).scalar_one()
        )


def test_telegram_full_export_names_its_profile_pictures(tmp_path: Path) -> None:
    export = _with_photo(tmp_path / "a", 41, "Kiran", picture(21))
    (photo,) = [e for e in read_telegram(FolderTree(export)) if isinstance(e, ProfilePhoto)]
    assert (photo.account.external_id, photo.path) == ("user41", "profile_pictures/photo_1.jpg")


def test_same_profile_photo_is_suggested_not_merged(store: Store, tmp_path: Path) -> None:
    create_case(store, "c1")
    photo = picture(21)
    for folder, user_id, name, data in (
        ("a", 41, "Kiran", photo),
        ("b", 42, "K", _smaller(photo)),  # the same photo, re-saved smaller
        ("c", 43, "Someone", picture(22)),  # a different photo
    ):
        export = detect_export(_with_photo(tmp_path / folder, user_id, name, data))
        assert export is not None
        ingest_export(store, tmp_path / "index", "c1", export, ScanOptions(workers=0))
    identity.resolve(store)
    kiran, k, someone = (_person(store, f"user{u}") for u in (41, 42, 43))
    assert len({kiran, k, someone}) == 3  # nothing merged
    reasons = {
        (s.person_id, s.other_person_id): s.reason
        for s in identity.suggestions(store)
        if "profile photo" in s.reason
    }
    assert list(reasons) == [(min(kiran, k), max(kiran, k))]
    reason = reasons[(min(kiran, k), max(kiran, k))]
    assert reason.startswith("same profile photo (PDQ distance ")
    assert "profile_pictures/photo_1.jpg" in reason


def test_a_referral_email_spelling_a_name_is_suggested(store: Store) -> None:
    with store.engine.begin() as conn:
        ids = {}
        for platform, kind, external, name in (
            ("telegram", "user_id", "user601", "KT"),
            ("whatsapp", "phone", "+919847001777", "Kiran Trader"),
        ):
            ids[external] = conn.execute(
                insert(accounts_table).values(
                    platform=platform,
                    id_kind=kind,
                    external_id=external,
                    scope="",
                    display_name=name,
                )
            ).inserted_primary_key[0]  # type: ignore[index]
        ref = conn.execute(
            insert(referrals_table).values(
                source="ncmec", external_id="R-9", imported_from="x", imported_at=utcnow(), notes=[]
            )
        ).inserted_primary_key[0]  # type: ignore[index]
        reported = conn.execute(
            insert(referral_accounts_table).values(
                referral_id=ref, position=0, emails=["kiran.trader99@example.com"]
            )
        ).inserted_primary_key[0]  # type: ignore[index]
        conn.execute(
            insert(referral_links_table).values(
                referral_account_id=reported, account_id=ids["user601"], basis="user_id"
            )
        )
    identity.resolve(store)
    telegram, whatsapp = _person(store, "user601"), _person(store, "+919847001777")
    assert telegram != whatsapp
    (found,) = [s for s in identity.suggestions(store) if "email address" in s.reason]
    assert (found.person_id, found.other_person_id) == (
        min(telegram, whatsapp),
        max(telegram, whatsapp),
    )
    assert "spells the name 'Kiran Trader'" in found.reason
