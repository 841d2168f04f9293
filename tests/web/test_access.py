"""Sign-in, sessions, roles and supplier isolation of the review page (FastAPI TestClient)."""

from __future__ import annotations

import duckdb

from tests.web.conftest import SCRIPT, csrf_of, items, sign_in


def _url(site, supplier, cid):
    return f"/c/{site.draw_id}/{supplier}/{cid}"


def test_pages_need_a_session(site, app_client):
    for path in ("/", "/disputes", "/calibration", _url(site, "acme-bpo", "c00")):
        r = app_client.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login"), path
    assert "secret-acme" not in app_client.get(_url(site, "acme-bpo", "c00")).text


def test_wrong_token_is_refused_and_tokens_are_stored_hashed(site, app_client):
    page = app_client.get("/login")
    r = app_client.post(
        "/login",
        data={"name": "ann", "token": site.tokens["bob"], "csrf": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert r.status_code == 401 and "qa_session" not in r.headers.get("set-cookie", "")
    con = duckdb.connect(str(site.path), read_only=True)
    try:
        stored = con.execute("SELECT name, token_salt, token_hash FROM web_users ORDER BY name").fetchall()
    finally:
        con.close()
    assert {n for n, *_ in stored} == {"ann", "bob", "lead", "buyer"}
    for name, _salt, digest in stored:
        assert site.tokens[name] not in digest and len(digest) == 64
    raw = site.path.read_bytes()
    assert all(t.encode() not in raw for t in site.tokens.values())


def test_session_cookie_is_signed_httponly_samesite(site, app_client):
    page = app_client.get("/login")
    r = app_client.post(
        "/login",
        data={"name": "ann", "token": site.tokens["ann"], "csrf": csrf_of(page.text)},
        follow_redirects=False,
    )
    cookie = r.headers["set-cookie"]
    assert "qa_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
    value = app_client.cookies["qa_session"]
    body, sig = value.rsplit(".", 1)
    app_client.cookies.set("qa_session", body + "." + ("0" if sig[0] != "0" else "1") + sig[1:])
    assert app_client.get("/", follow_redirects=False).status_code == 303  # tampered: no session
    app_client.cookies.set("qa_session", value)  # the genuine cookie works again
    assert app_client.get("/").status_code == 200


def test_rotating_a_token_ends_the_session(site, app_client):
    from audits import warehouse
    from audits.web.auth import add_user

    sign_in(app_client, site, "ann")
    assert app_client.get("/").status_code == 200
    con = warehouse.connect(site.path)
    try:
        add_user(con, "ann", "reviewer", rotate=True)
    finally:
        con.close()
    assert app_client.get("/", follow_redirects=False).status_code == 303


def test_reviewer_sees_only_own_queue_and_items(site, app_client):
    sign_in(app_client, site, "ann")
    page = app_client.get("/").text
    ann = items(site.path, site.draw_id, reviewer="ann")
    only_bob = {(s, c) for s, c, *_ in items(site.path, site.draw_id, reviewer="bob")} - {
        (s, c) for s, c, *_ in ann
    }
    assert ann and only_bob
    for _s, c, *_ in ann:
        assert f">{c}</a>" in page
    s, c = sorted(only_bob)[0]
    assert f">{c}</a>" not in page
    r = app_client.get(_url(site, s, c))
    assert r.status_code == 404 and f"secret-{s}-{int(c[1:])}" not in r.text


def test_buyer_sees_one_supplier_and_is_refused_elsewhere(site, app_client):
    sign_in(app_client, site, "buyer")
    page = app_client.get("/").text
    assert "acme-bpo" in page and "beta-bpo" not in page
    ok = app_client.get(_url(site, "acme-bpo", "c00"))
    assert ok.status_code == 200 and "secret-acme-bpo-0" in ok.text
    # the other supplier's conversations: by their real URL, by a guessed supplier, by unknown ids
    for path in (
        _url(site, "beta-bpo", "c01"),
        _url(site, "acme-bpo", "c01"),
        _url(site, "beta-bpo", "c99"),
        "/c/not-a-draw/beta-bpo/c01",
        _url(site, "beta-bpo", "c01%2F..%2F.."),
    ):
        r = app_client.get(path)
        assert r.status_code in (403, 404), path
        assert "secret-beta-bpo" not in r.text and "beta-bpo/c01" not in r.text, path
    assert "beta-bpo" not in app_client.get("/disputes").text
    assert app_client.get("/calibration").status_code == 403


def test_buyer_is_read_only_and_sees_personal_data_masked(site, app_client):
    sign_in(app_client, site, "buyer")
    page = app_client.get(_url(site, "acme-bpo", "c00"))
    assert "4111 1111 1111 1111" not in page.text and "score-form" not in page.text
    csrf = csrf_of(page.text)
    r = app_client.post(_url(site, "acme-bpo", "c00"), data={"csrf": csrf, "submission_id": "a" * 32})
    assert r.status_code == 403
    r = app_client.post(_url(site, "beta-bpo", "c01"), data={"csrf": csrf, "submission_id": "b" * 32})
    assert r.status_code in (403, 404) and "secret-beta" not in r.text


def test_lead_sees_every_queue_and_calibration(site, app_client):
    sign_in(app_client, site, "lead")
    page = app_client.get("/").text
    assert ">ann<" in page and ">bob<" in page
    assert app_client.get(_url(site, "beta-bpo", "c01")).status_code == 200
    assert app_client.get("/calibration").status_code == 200


def test_transcript_markup_is_escaped(site, app_client):
    sign_in(app_client, site, "lead")
    html = app_client.get(_url(site, "acme-bpo", "c00")).text
    assert SCRIPT not in html and "<script" not in html
    assert "&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt;" in html
    assert 'onmouseover="steal()"' not in html and "<img src=x" not in html and "<b " not in html
    assert (
        "&lt;b onmouseover=&#34;steal()&#34;&gt;bold&lt;/b&gt; &amp; &lt;img src=x onerror=alert(1)&gt;"
        in html
    )


def test_security_headers(site, app_client):
    r = app_client.get("/login")
    assert "default-src 'none'" in r.headers["content-security-policy"]
    assert "script-src" not in r.headers["content-security-policy"]  # no script may run at all
    assert r.headers["x-frame-options"] == "DENY"


def test_next_parameter_cannot_redirect_off_site(site, app_client):
    page = app_client.get("/login?next=//evil.example/x")
    assert 'name="next" value="/"' in page.text


def test_buyer_never_sees_tagged_names_or_personal_data_in_review_comments(site, app_client):
    """A reviewer's comment may quote the customer; the buyer's view masks it like the transcript."""
    from audits import warehouse
    from audits.scoring.answers import pinned_scorecard
    from audits.scoring.reviews import get_assignment, submit_review

    (_, cid, reviewer, _role), *_ = items(site.path, site.draw_id, supplier="acme-bpo", role="primary")
    con = warehouse.connect(site.path)
    try:
        con.execute("UPDATE conversations SET metadata = '{\"pii_names\": [\"Crystal Minh\"]}' "
                    "WHERE supplier = 'acme-bpo' AND conversation_id = ?", [cid])  # fmt: skip
        con.execute("UPDATE turns SET text = 'Hello, this is Crystal Minh' WHERE supplier = 'acme-bpo' "
                    "AND conversation_id = ? AND turn_index = 1", [cid])  # fmt: skip
        a = get_assignment(con, site.draw_id, "acme-bpo", cid, reviewer)
        card = pinned_scorecard(con, a.scorecard_id, a.scorecard_version)
        answers = {i.id: ("na" if i.na_allowed else i.scale.values[0]) for i in card.items}
        answers[card.items[0].id] = card.items[0].scale.values[0]
        submit_review(con, draw_id=site.draw_id, supplier="acme-bpo", conversation_id=cid, reviewer=reviewer,
                      answers=answers, comments={card.items[0].id: "Crystal Minh wrote crystal@example.com"})  # fmt: skip
    finally:
        con.close()
    sign_in(app_client, site, "lead")
    assert "crystal@example.com" in app_client.get(_url(site, "acme-bpo", cid)).text  # staff see it
    app_client.cookies.clear()
    sign_in(app_client, site, "buyer")
    page = app_client.get(_url(site, "acme-bpo", cid))
    assert page.status_code == 200
    assert "Crystal" not in page.text and "Minh" not in page.text and "crystal@example.com" not in page.text
    assert "[name]" in page.text and "[email]" in page.text
