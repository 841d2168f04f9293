"""Scoring through the page: the form, check pre-fills confirmed or overridden, CSRF, blind calibration,
disputes, and the audit log entries the library writes for every score and override."""

from __future__ import annotations

import re

import duckdb

from tests.web.conftest import csrf_of, items, sign_in


def _url(site, supplier, cid):
    return f"/c/{site.draw_id}/{supplier}/{cid}"


def _q(site, sql, params=()):
    con = duckdb.connect(str(site.path), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def _form(html: str) -> dict[str, str]:
    """The scorecard form's fields as the browser would post them (checked radios, textareas, hidden)."""
    form = html[html.index('id="score-form"') :]
    form = form[: form.index("</form>")]
    data = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form))
    for name, value in re.findall(r'<input type="radio" name="([^"]+)" value="([^"]*)" checked>', form):
        data[name] = value
    return data


def _radios(html: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, value in re.findall(r'<input type="radio" name="(item:[^"]+)" value="([^"]*)"', html):
        out.setdefault(name, []).append(value)
    return out


def _fill(html: str) -> dict[str, str]:
    """Every item answered: the proposal where there is one, else the first value."""
    data = _form(html)
    for name, values in _radios(html).items():
        data.setdefault(name, values[0])
    return data


def _primary(site, reviewer="ann"):
    s, c, *_ = items(site.path, site.draw_id, reviewer=reviewer, role="primary")[0]
    return s, c


def test_submit_scores_and_progress_changes(site, app_client):
    sign_in(app_client, site, "ann")
    before = app_client.get("/").text
    s, c = _primary(site)
    page = app_client.get(_url(site, s, c)).text
    data = _fill(page) | {"comment:ai_disclosure": "clear <b>opening</b>"}
    r = app_client.post(_url(site, s, c), data=data, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/?submitted=")
    after = app_client.get(r.headers["location"]).text
    assert "stored: score" in after and before != after
    rows = _q(site, "SELECT reviewer, role, source FROM reviews WHERE conversation_id = ?", [c])
    assert rows == [("ann", "primary", "web:" + data["submission_id"])]
    # the library logged the score (actor ann); the comment is stored as typed and shown escaped
    logged = _q(
        site, "SELECT actor, action FROM audit_log WHERE action = 'review.submitted' AND actor = 'ann'"
    )
    assert logged == [("ann", "review.submitted")]
    assert _q(site, "SELECT comment FROM review_answers WHERE item_id = 'ai_disclosure'") == [
        ("clear <b>opening</b>",)
    ]
    sign_in(app_client, site, "lead")
    assert "clear &lt;b&gt;opening&lt;/b&gt;" in app_client.get(_url(site, s, c)).text


def test_the_same_form_posted_twice_is_one_review(site, app_client):
    sign_in(app_client, site, "ann")
    s, c = _primary(site)
    data = _fill(app_client.get(_url(site, s, c)).text)
    for _ in range(2):
        assert app_client.post(_url(site, s, c), data=data, follow_redirects=False).status_code == 303
    assert _q(site, "SELECT count(*) FROM reviews WHERE conversation_id = ?", [c]) == [(1,)]


def test_overriding_a_check_proposal_is_recorded_and_logged(site, app_client):
    sign_in(app_client, site, "ann")
    s, c = _primary(site)
    page = app_client.get(_url(site, s, c)).text
    data = _fill(page)
    assert data["item:ai_disclosure"] == "yes"  # proposed by the ai_disclosure check (pass)
    data["item:ai_disclosure"] = "no"
    assert app_client.post(_url(site, s, c), data=data, follow_redirects=False).status_code == 303
    assert _q(
        site, "SELECT value, prefilled, overridden FROM review_answers WHERE item_id = 'ai_disclosure'"
    ) == [("no", "yes", True)]
    assert _q(site, "SELECT actor FROM audit_log WHERE action = 'prefill.overridden'") == [("ann",)]


def test_an_incomplete_form_is_refused_and_nothing_is_written(site, app_client):
    sign_in(app_client, site, "ann")
    s, c = _primary(site)
    data = _fill(app_client.get(_url(site, s, c)).text)
    missing = next(k for k in data if k.startswith("item:"))
    del data[missing]
    r = app_client.post(_url(site, s, c), data=data)
    assert r.status_code == 422 and "no answer for item" in r.text
    assert _q(site, "SELECT count(*) FROM reviews") == [(0,)]


def test_posts_without_or_with_a_wrong_csrf_token_are_refused(site, app_client):
    sign_in(app_client, site, "ann")
    s, c = _primary(site)
    data = _fill(app_client.get(_url(site, s, c)).text)
    for bad in (None, "", "0" * 64, data["csrf"][:-1] + ("0" if data["csrf"][-1] != "0" else "1")):
        posted = {k: v for k, v in data.items() if k != "csrf"} | ({} if bad is None else {"csrf": bad})
        r = app_client.post(_url(site, s, c), data=posted)
        assert r.status_code == 403, bad
    assert app_client.post("/logout", data={}).status_code == 403
    assert app_client.post("/disputes/open", data={"review_id": "1", "reason": "x"}).status_code == 403
    assert _q(site, "SELECT count(*) FROM reviews") == [(0,)]
    # another session's token is wrong too
    sign_in(app_client, site, "bob")
    r = app_client.post(_url(site, s, c), data=data)
    assert r.status_code == 403
    # sign-in itself needs the form's token
    app_client.cookies.clear()
    assert app_client.post("/login", data={"name": "ann", "token": site.tokens["ann"]}).status_code == 403


def test_calibration_is_blind_until_the_rater_submits(site, app_client):
    cal = items(site.path, site.draw_id, role="calibration")
    assert cal
    s, c, rater, _ = cal[0]
    primary = next(
        r for s2, c2, r, role in items(site.path, site.draw_id) if (s2, c2) == (s, c) and role == "primary"
    )
    sign_in(app_client, site, primary)
    data = _fill(app_client.get(_url(site, s, c)).text) | {"comment:ai_disclosure": "PRIMARY-SAYS-SO"}
    assert app_client.post(_url(site, s, c), data=data, follow_redirects=False).status_code == 303
    sign_in(app_client, site, rater)
    page = app_client.get(_url(site, s, c)).text
    assert "PRIMARY-SAYS-SO" not in page and 'id="blind"' in page and f">{primary} (primary)" not in page
    assert "PRIMARY-SAYS-SO" not in app_client.get("/disputes").text
    data = _fill(page)
    assert app_client.post(_url(site, s, c), data=data, follow_redirects=False).status_code == 303
    after = app_client.get(_url(site, s, c)).text
    assert "PRIMARY-SAYS-SO" in after and f"{primary} (primary)" in after
    sign_in(app_client, site, "lead")
    cal_page = app_client.get("/calibration").text
    assert "Agreement per item" in cal_page and f"{s}/{c}" in cal_page


def test_dispute_opened_by_reviewer_and_upheld_by_lead(site, app_client):
    sign_in(app_client, site, "ann")
    s, c = _primary(site)
    data = _fill(app_client.get(_url(site, s, c)).text)
    app_client.post(_url(site, s, c), data=data)
    [(rid,)] = _q(site, "SELECT review_id FROM reviews")
    page = app_client.get(_url(site, s, c)).text
    r = app_client.post(
        "/disputes/open",
        data={"csrf": csrf_of(page), "review_id": str(rid), "reason": "tone was 2"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    did = int(r.headers["location"].rsplit("/", 1)[1])
    sign_in(app_client, site, "lead")
    page = app_client.get(f"/disputes/{did}").text
    assert "resolve-form" in page
    answers = {
        k: v for k, v in re.findall(r'<input type="radio" name="(item:[^"]+)" value="([^"]*)" checked>', page)
    }
    r = app_client.post(
        f"/disputes/{did}/resolve",
        data={"csrf": csrf_of(page), "outcome": "upheld", "note": "ok"} | answers,
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert _q(site, "SELECT status, resolved_by FROM disputes") == [("upheld", "lead")]
    assert _q(site, "SELECT action FROM audit_log WHERE action LIKE 'dispute.%' ORDER BY seq") == [
        ("dispute.opened",),
        ("dispute.resolved",),
    ]


def test_reviewer_cannot_resolve_or_dispute_what_they_cannot_see(site, app_client):
    ann = {(x, y) for x, y, *_ in items(site.path, site.draw_id, reviewer="ann")}
    s, c = next(
        (x, y)
        for x, y, *_ in items(site.path, site.draw_id, reviewer="bob", role="primary")
        if (x, y) not in ann
    )
    sign_in(app_client, site, "bob")
    app_client.post(_url(site, s, c), data=_fill(app_client.get(_url(site, s, c)).text))
    [(rid,)] = _q(site, "SELECT review_id FROM reviews")
    sign_in(app_client, site, "ann")
    csrf = csrf_of(app_client.get("/").text)
    r = app_client.post("/disputes/open", data={"csrf": csrf, "review_id": str(rid), "reason": "x"})
    assert r.status_code == 404
    assert (
        app_client.post("/disputes/1/resolve", data={"csrf": csrf, "outcome": "rejected"}).status_code == 403
    )
    assert _q(site, "SELECT count(*) FROM disputes") == [(0,)]
