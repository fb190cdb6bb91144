"""The review queue on both databases: hits listed new first with their trace, confirm,
dismiss and re-categorise (audited with who, old and new), previews that are small,
blurred and greyscale, reveals one at a time (audited, never sticky), and need to know."""

from __future__ import annotations

import base64
import io
import re
from typing import Any

import numpy as np
from fastapi import FastAPI
from markupsafe import escape
from PIL import Image
from sqlalchemy import update

from raksha.cases import audit
from raksha.store.models import hash_sets_table
from raksha.web.previews import MAX_SIDE
from tests.web.conftest import People, TestClient, as_user, session_token
from tests.web.review_seed import (
    Seeded,
    assert_no_inline_code,
    build_phone,
    hits_of,
    make_case,
    md5_set,
    scan_and_wait,
    seed_review,
)

HTMX = {"HX-Request": "true"}


def login(client: TestClient, app: FastAPI, username: str) -> str:
    csrf = as_user(client, session_token(app, username))
    assert csrf is not None
    return csrf


def entries(app: FastAPI, action: str) -> list[dict[str, Any]]:
    with app.state.store.engine.connect() as conn:
        return audit.entries(conn, action=action)


def png(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def sharpness(image: Image.Image) -> float:
    """Mean absolute difference between neighbouring grey pixels (blur lowers it)."""
    grey = np.asarray(image.convert("L"), dtype=np.float64)
    return float(np.abs(np.diff(grey, axis=1)).mean() + np.abs(np.diff(grey, axis=0)).mean())


def test_the_queue_lists_new_hits_first_with_locator_hashes_set_and_trace(
    app: FastAPI, people: People, client: TestClient
) -> None:
    seeded = seed_review(app, people)
    login(client, app, "analyst1")
    page = client.get("/review")
    assert page.status_code == 200
    assert "3 hits" in page.text
    for hit in seeded.hits:
        assert f'id="hit-{hit["match_id"]}"' in page.text
        assert str(escape(hit["locator"])) in page.text
    readable = seeded.readable_hit()
    assert f'src="/review/items/{readable["item_id"]}/preview"' in page.text
    assert "no preview: inside a container" in page.text  # the picture in backup.zip
    assert "walk-ref" in page.text and "exact md5" in page.text and "distance 0" in page.text
    assert "not linked to a seized device" in page.text
    assert_no_inline_code(page.text)
    md5 = page.text.split("md5 <code>", 1)[1].split("</code>", 1)[0]
    assert re.fullmatch(r"[0-9a-f]{32}", md5)
    # Filters: by case, by set, by state.
    assert "3 hits" in client.get("/review", params={"case": seeded.case_id}).text
    assert "0 hits" in client.get("/review", params={"set": "no such set"}).text
    assert "0 hits" in client.get("/review", params={"state": "confirmed"}).text
    assert client.get("/review", params={"state": "bogus"}).status_code == 400
    reads = [e for e in entries(app, "web.read") if e["details"]["path"] == "/review"]
    assert reads and reads[0]["actor"] == "analyst1"


def test_confirm_dismiss_and_recategorise_change_the_row_and_are_audited(
    app: FastAPI, people: People, client: TestClient
) -> None:
    seeded = seed_review(app, people)
    first, second, third = (int(str(h["match_id"])) for h in seeded.hits)
    with app.state.store.engine.begin() as conn:  # the set's words for its categories
        conn.execute(
            update(hash_sets_table)
            .where(hash_sets_table.c.name == "walk-ref")
            .values(category_map={"1": "child abuse material (illegal)", "2": "exploitive"})
        )
    csrf = login(client, app, "analyst1")

    row = client.post(
        f"/review/matches/{first}",
        data={"decision": "confirm", "csrf_token": csrf},
        headers=HTMX,
    )
    assert row.status_code == 200
    assert row.text.lstrip().startswith(f'<tr id="hit-{first}" data-state="confirmed"')
    plain = client.post(
        f"/review/matches/{second}",
        data={"decision": "dismiss", "csrf_token": csrf, "next": "/review?state=new"},
    )
    assert plain.status_code == 303 and plain.headers["location"] == "/review?state=new"
    evil = client.post(
        f"/review/matches/{second}",
        data={"decision": "dismiss", "csrf_token": csrf, "next": "//elsewhere.example/"},
    )
    assert evil.headers["location"] == "/review"  # only back to the queue
    recat = client.post(
        f"/review/matches/{third}",
        data={"decision": "recategorise", "category": "1", "csrf_token": csrf},
        headers=HTMX,
    )
    assert recat.status_code == 200 and 'data-state="recategorised"' in recat.text
    assert "child abuse material (illegal)" in recat.text
    missing = client.post(
        f"/review/matches/{third}",
        data={"decision": "recategorise", "category": " ", "csrf_token": csrf},
    )
    assert missing.status_code == 400
    bogus = client.post(f"/review/matches/{third}", data={"decision": "x", "csrf_token": csrf})
    assert bogus.status_code == 400

    states = {h["match_id"]: h for h in hits_of(app, seeded.evidence_id)}
    assert states[first]["review_state"] == "confirmed"
    assert states[second]["review_state"] == "dismissed"
    assert (states[third]["review_state"], states[third]["category"]) == ("recategorised", "1")
    assert states[third]["category_label"] == "child abuse material (illegal)"

    (confirm,) = entries(app, "hit.confirm")
    assert (confirm["actor"], confirm["case_id"], confirm["object_id"]) == (
        "analyst1",
        seeded.case_id,
        str(first),
    )
    assert confirm["details"]["old"]["state"] == "new"
    assert confirm["details"]["new"]["state"] == "confirmed"
    dismissals = entries(app, "hit.dismiss")
    assert len(dismissals) == 2  # the second one: dismissed -> dismissed, recorded too
    assert dismissals[0]["details"]["old"]["state"] == "dismissed"  # newest first
    (recategorise,) = entries(app, "hit.recategorise")
    assert recategorise["details"]["old"] == {
        "state": "new",
        "category": None,
        "category_label": None,
    }
    assert recategorise["details"]["new"] == {
        "state": "recategorised",
        "category": "1",
        "category_label": "child abuse material (illegal)",
    }
    # The queue now lists the one still new first: none are, so confirmed come first.
    page = client.get("/review")
    order = [int(m) for m in re.findall(r'<tr id="hit-(\d+)"', page.text)]
    assert order == [first, third, second]


def test_reviewing_needs_hits_review(app: FastAPI, people: People, client: TestClient) -> None:
    seeded = seed_review(app, people)
    match_id = seeded.hits[0]["match_id"]
    csrf = login(client, app, "auditor1")
    page = client.get("/review")
    assert page.status_code == 200 and "Confirm</button>" not in page.text
    assert "Reveal</button>" not in page.text
    refused = client.post(
        f"/review/matches/{match_id}", data={"decision": "confirm", "csrf_token": csrf}
    )
    assert refused.status_code == 403
    login(client, app, "boss")  # admins manage users; they do not read hits
    assert client.get("/review").status_code == 403


def test_previews_are_small_greyscale_blurred_and_never_cached(
    app: FastAPI, people: People, client: TestClient
) -> None:
    seeded = seed_review(app, people)
    item_id = seeded.readable_hit()["item_id"]
    csrf = login(client, app, "investigator1")
    response = client.get(f"/review/items/{item_id}/preview")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert response.headers["cache-control"] == "no-store"
    blurred = png(response.content)
    assert blurred.mode == "L"
    assert max(blurred.size) <= MAX_SIDE and max(blurred.size) == MAX_SIDE  # 320x240 source
    revealed = client.post(
        f"/review/items/{item_id}/reveal",
        data={"confirmed": "yes", "csrf_token": csrf},
        headers=HTMX,
    )
    assert revealed.status_code == 200 and revealed.headers["cache-control"] == "no-store"
    match = re.search(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', revealed.text)
    assert match is not None
    colour = png(base64.b64decode(match.group(1)))
    assert colour.mode == "RGB" and max(colour.size) <= MAX_SIDE
    channels = np.asarray(colour, dtype=np.int16)
    assert np.abs(channels[..., 0] - channels[..., 1]).max() > 10  # colour, really
    assert sharpness(blurred) < sharpness(colour) / 2
    # Previews are made from the bytes the scan hashed, never written anywhere.
    home = app.state.settings.home
    assert not [p for p in home.rglob("*.png")]


def test_reveal_is_per_item_per_request_audited_and_needs_hits_review(
    app: FastAPI, people: People, client: TestClient
) -> None:
    seeded = seed_review(app, people)
    item_id = int(str(seeded.readable_hit()["item_id"]))
    csrf = login(client, app, "auditor1")  # hits.read, not hits.review
    assert client.get(f"/review/items/{item_id}/preview").status_code == 200
    refused = client.post(
        f"/review/items/{item_id}/reveal", data={"confirmed": "yes", "csrf_token": csrf}
    )
    assert refused.status_code == 403
    csrf = login(client, app, "analyst1")
    ask = client.post(f"/review/items/{item_id}/reveal", data={"csrf_token": csrf})
    assert ask.status_code == 200 and "Reveal it</button>" in ask.text  # asks first
    assert "data:image/png" not in ask.text and entries(app, "preview.reveal") == []
    assert_no_inline_code(ask.text)
    for _ in range(2):
        shown = client.post(
            f"/review/items/{item_id}/reveal", data={"confirmed": "yes", "csrf_token": csrf}
        )
        assert shown.status_code == 200 and "data:image/png;base64," in shown.text
        assert "<h1>Item" in shown.text  # a page of its own without htmx
    reveals = entries(app, "preview.reveal")
    assert [(e["actor"], e["object_id"], e["case_id"]) for e in reveals] == [
        ("analyst1", str(item_id), seeded.case_id)
    ] * 2
    # Not sticky: the queue and the preview are blurred again afterwards.
    again = png(client.get(f"/review/items/{item_id}/preview").content)
    assert again.mode == "L"
    assert "data:image/png" not in client.get("/review").text


def test_no_preview_inside_a_container_or_for_a_changed_file(
    app: FastAPI, people: People, client: TestClient
) -> None:
    seeded = seed_review(app, people)
    zipped = next(h for h in seeded.hits if " > backup.zip > " in str(h["locator"]))
    csrf = login(client, app, "supervisor1")
    response = client.get(f"/review/items/{zipped['item_id']}/preview")
    assert response.status_code == 404 and "inside a container" in response.text
    reveal = client.post(
        f"/review/items/{zipped['item_id']}/reveal",
        data={"confirmed": "yes", "csrf_token": csrf},
        headers=HTMX,
    )
    assert reveal.status_code == 200 and "inside a container" in reveal.text
    assert entries(app, "preview.reveal") == []  # nothing was shown
    seeded.phone.loose[0].write_bytes(b"\xff\xd8 changed since the scan")
    changed = next(h for h in seeded.hits if str(h["locator"]).endswith("IMG_0001.jpg"))
    response = client.get(f"/review/items/{changed['item_id']}/preview")
    assert response.status_code == 404 and "no longer matches the SHA-256" in response.text
    other = client.get("/review/items/999999/preview")
    assert other.status_code == 404


def test_an_analyst_not_assigned_to_a_case_sees_none_of_its_hits(
    app: FastAPI, people: People, client: TestClient
) -> None:
    seeded: Seeded = seed_review(app, people)  # analyst1 is assigned to this one
    home = app.state.settings.home
    phone = build_phone(home / "other-phone", seed=40)
    md5_set(app, home, "other-ref", phone.known)
    other_case = make_case(app, people, "FIR 40/2026", members=("investigator",))
    job = scan_and_wait(app, people, other_case, "FIR 40/2026", phone.root)
    assert job.evidence_id is not None
    theirs = hits_of(app, job.evidence_id)
    match_id, item_id = theirs[0]["match_id"], theirs[0]["item_id"]

    csrf = login(client, app, "analyst1")
    page = client.get("/review")
    assert "3 hits" in page.text and "other-phone" not in page.text
    assert "other-ref" not in page.text  # not even the set's name
    assert client.get("/review", params={"case": other_case}).status_code == 403
    decide = client.post(
        f"/review/matches/{match_id}", data={"decision": "dismiss", "csrf_token": csrf}
    )
    assert decide.status_code == 403
    assert client.get(f"/review/items/{item_id}/preview").status_code == 403
    reveal = client.post(
        f"/review/items/{item_id}/reveal", data={"confirmed": "yes", "csrf_token": csrf}
    )
    assert reveal.status_code == 403
    assert hits_of(app, job.evidence_id)[0]["review_state"] == "new"
    login(client, app, "investigator1")  # assigned to both
    assert "6 hits" in client.get("/review").text
    assert seeded.case_name in client.get("/review").text
