"""The review web page: a server-rendered FastAPI app over the warehouse (`create_app`).

The server never keeps the DuckDB file open: each request opens it briefly (read-only for pages,
read-write for a submission, a dispute or a replay) and closes it, so the nightly run can take it.
Requests touching the warehouse are serialised by one lock (DuckDB refuses a read-only and a
read-write connection to one file in one process at once). While another process holds the file:
pages answer 503 "busy, retry shortly"; a submitted review is spooled durably (audits.web.spool)
and the reviewer is told it is queued; a background thread writes it when the file is free.

Routes (every one but /login, /healthz and /static checks the signed session; every POST checks
the CSRF token):
    GET  /                         my queue: items and progress per reviewer and per draw
    GET  /c/{draw}/{supplier}/{id} a conversation: transcript, evidence, KB versions, scorecard form
    POST /c/{draw}/{supplier}/{id} submit the form (reviewers assigned to the item)
    GET  /disputes[/{id}]          disputes; POST /disputes/open, POST /disputes/{id}/resolve
    GET  /calibration              the QA lead's agreement per item and disagreements side by side
    GET  /login, POST /login, POST /logout
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import duckdb
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, select_autoescape

from audits import warehouse as wh
from audits.errors import ConfigError, WarehouseBusy
from audits.scoring import open_dispute, resolve_dispute, submit_review
from audits.web import auth, pages, spool
from audits.web.auth import User

log = logging.getLogger("audits.web")

SESSION_COOKIE = "qa_session"
PRE_COOKIE = "qa_pre"
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


class _SignIn(Exception):
    """No valid session: go to the sign-in page."""


class _CsrfRefused(Exception):
    """A POST without the right CSRF token."""


def item_url(draw_id: str, supplier: str, cid: str) -> str:
    """The conversation page's path, each part percent-encoded."""
    return f"/c/{quote(draw_id, safe='')}/{quote(supplier, safe='')}/{quote(cid, safe='')}"


def _fmt_time(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
    return "" if value is None else str(value)


def _pct(value: Any) -> str:
    return "" if value is None else f"{float(value) * 100:.0f}%"


def _num(value: Any, digits: int = 3) -> str:
    return "n/a" if value is None else f"{float(value):.{digits}f}"


class Server:
    """The app's state: where the warehouse is, the signing secret, the users and the spool."""

    def __init__(
        self,
        warehouse: str | os.PathLike[str],
        *,
        busy_wait: float,
        retry_seconds: float,
        secure_cookies: bool,
    ) -> None:
        self.warehouse = Path(warehouse)
        self.spool = spool.spool_path(self.warehouse)
        self.busy_wait = busy_wait
        self.retry_seconds = retry_seconds
        self.secure_cookies = secure_cookies
        self.lock = threading.RLock()
        self.users: dict[str, tuple[str, str | None, str, str, bool]] = {}
        self.secret = b""
        self.stop = threading.Event()
        self.last_replay: spool.ReplayResult | None = None
        self.env = Environment(
            loader=PackageLoader("audits.web", "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.globals.update(item_url=item_url)
        self.env.filters.update(time=_fmt_time, pct=_pct, num=_num)

    # ---------------------------------------------------------------------------- the warehouse
    def start(self, wait: float = 60.0) -> None:
        """Create the users table and the signing secret if missing; replay what the spool holds."""
        with self.lock:
            con = wh.connect(self.warehouse, wait=wait)
            try:
                auth.ensure_users_table(con)
                self.secret = auth.session_secret(con) or b""
                self.users = auth.load_users(con)
            finally:
                con.close()
        self.replay_once()

    @contextmanager
    def reading(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A brief read-only connection (refreshing the users); WarehouseBusy while another process writes."""
        with self.lock:
            con = wh.connect(self.warehouse, read_only=True, wait=self.busy_wait)
            try:
                self.users = auth.load_users(con)
                yield con
            finally:
                con.close()

    @contextmanager
    def writing(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A brief read-write connection; WarehouseBusy while another process holds the file."""
        with self.lock:
            con = wh.connect(self.warehouse, wait=self.busy_wait)
            try:
                self.users = auth.load_users(con)
                yield con
            finally:
                con.close()

    def replay_once(self) -> None:
        """Write what the spool holds if the warehouse is free (logged; never raises)."""
        try:
            if not spool.read(self.spool).pending:
                return
            with self.lock:
                self.last_replay = spool.replay(self.spool, self.warehouse, wait=0.2)
            log.info("spool replay: %s", self.last_replay.to_dict())
        except WarehouseBusy:
            pass
        except Exception:  # the loop must survive anything; the spool keeps the data
            log.exception("spool replay failed")

    def replay_loop(self) -> None:
        while not self.stop.wait(self.retry_seconds):
            self.replay_once()

    # ------------------------------------------------------------------------------- sessions
    def user(self, request: Request) -> tuple[User, str]:
        """The session's user and nonce; _SignIn when there is no valid session."""
        found = auth.read_session(self.secret, request.cookies.get(SESSION_COOKIE), self.users)
        if found is None:
            raise _SignIn
        return found

    def check_csrf(self, request: Request, form: Any, nonce: str | None) -> None:
        if not auth.csrf_ok(self.secret, nonce, str(form.get("csrf") or "")):
            raise _CsrfRefused

    def render(self, request: Request, name: str, http_status: int = 200, **ctx: Any) -> HTMLResponse:
        session = ctx.get("session")
        if session is not None:
            ctx.setdefault("user", session[0])
            ctx.setdefault("csrf", auth.csrf_token(self.secret, session[1]))
        elif "user" not in ctx and name == "message.html":  # error pages keep a valid session's navigation
            found = auth.read_session(self.secret, request.cookies.get(SESSION_COOKIE), self.users)
            if found is not None:
                ctx["user"], ctx["csrf"] = found[0], auth.csrf_token(self.secret, found[1])
        ctx.setdefault("user", None)
        html = self.env.get_template(name).render(request_path=request.url.path, **ctx)
        return HTMLResponse(html, status_code=http_status, headers={"Cache-Control": "no-store"})


def create_app(
    warehouse: str | os.PathLike[str],
    *,
    busy_wait: float = 2.0,
    retry_seconds: float = 5.0,
    secure_cookies: bool = False,
    start_wait: float = 60.0,
) -> FastAPI:
    """The review web app over the warehouse file (which must exist)."""
    srv = Server(warehouse, busy_wait=busy_wait, retry_seconds=retry_seconds, secure_cookies=secure_cookies)
    if not srv.warehouse.exists():
        raise ConfigError(f"no warehouse at {srv.warehouse}; load data and assign a queue first")
    srv.start(wait=start_wait)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        srv.stop.clear()
        thread = threading.Thread(target=srv.replay_loop, name="spool-replay", daemon=True)
        thread.start()
        try:
            yield
        finally:
            srv.stop.set()
            thread.join(timeout=10)

    app = FastAPI(title="qa-audit review", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.server = srv
    static = Path(__file__).parent / "static"
    app.mount("/static", StaticFiles(directory=static), name="static")

    @app.middleware("http")
    async def headers(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        for k, v in HEADERS.items():
            response.headers.setdefault(k, v)
        return response

    @app.exception_handler(_SignIn)
    async def sign_in(request: Request, _exc: _SignIn) -> Response:
        if request.method == "GET":
            return RedirectResponse("/login?next=" + quote(request.url.path, safe="/"), status_code=303)
        return srv.render(request, "message.html", 401, title="Signed out", text="Sign in again.")

    @app.exception_handler(_CsrfRefused)
    async def csrf_refused(request: Request, _exc: _CsrfRefused) -> Response:
        return srv.render(request, "message.html", 403, title="Refused",
                          text="The form's security token is missing or wrong. Reload the page and try again.")  # fmt: skip

    @app.exception_handler(pages.NotFound)
    async def not_found(request: Request, _exc: pages.NotFound) -> Response:
        return srv.render(request, "message.html", 404, title="Not found", text="There is nothing here.")

    @app.exception_handler(pages.Forbidden)
    async def forbidden(request: Request, _exc: pages.Forbidden) -> Response:
        return srv.render(request, "message.html", 403, title="Not allowed",
                          text="Your role may not open this page.")  # fmt: skip

    @app.exception_handler(WarehouseBusy)
    async def busy(request: Request, _exc: WarehouseBusy) -> Response:
        r = srv.render(request, "message.html", 503, title="The warehouse is busy",
                       text="The nightly run is writing to the warehouse. Reload in a minute; "
                            "reviews you submit meanwhile are kept and written when it is free.")  # fmt: skip
        r.headers["Retry-After"] = "30"
        return r

    # ------------------------------------------------------------------------------------ routes
    @app.get("/healthz")
    def healthz() -> Response:
        return Response("ok\n", media_type="text/plain")

    @app.get("/login")
    def login_form(request: Request, next: str = "/") -> Response:
        pre = request.cookies.get(PRE_COOKIE) or secrets.token_hex(16)
        r = srv.render(request, "login.html", csrf=auth.csrf_token(srv.secret, pre), next=_safe_next(next))
        r.set_cookie(PRE_COOKIE, pre, httponly=True, samesite="lax", secure=srv.secure_cookies)
        return r

    @app.post("/login")
    async def login(request: Request) -> Response:
        form = await request.form()
        srv.check_csrf(request, form, request.cookies.get(PRE_COOKIE))
        name, token = str(form.get("name") or "").strip(), str(form.get("token") or "").strip()
        try:
            with srv.reading():
                pass  # refreshes the users
        except WarehouseBusy:
            pass  # the cached users sign in while the nightly run writes
        user = auth.verify_token(srv.users, name, token)
        if user is None:
            pre = request.cookies.get(PRE_COOKIE) or ""
            return srv.render(request, "login.html", 401, csrf=auth.csrf_token(srv.secret, pre),
                              next=_safe_next(str(form.get("next") or "/")), error="Unknown name or wrong token.")  # fmt: skip
        r = RedirectResponse(_safe_next(str(form.get("next") or "/")), status_code=303)
        r.set_cookie(SESSION_COOKIE, auth.make_session(srv.secret, user), httponly=True, samesite="lax",
                     secure=srv.secure_cookies, max_age=auth.SESSION_SECONDS)  # fmt: skip
        return r

    @app.post("/logout")
    async def logout(request: Request) -> Response:
        session = srv.user(request)
        srv.check_csrf(request, await request.form(), session[1])
        r = RedirectResponse("/login", status_code=303)
        r.delete_cookie(SESSION_COOKIE)
        return r

    @app.get("/")
    def queue_page(request: Request, draw: str | None = None, submitted: str | None = None) -> Response:
        with srv.reading() as con:
            session = srv.user(request)
            user = session[0]
            data = pages.queue_page(con, user, draw or None)
            note = _submission_note(con, srv, user, submitted) if submitted else None
        state = spool.read(srv.spool)
        mine = [s for s in state.pending if s["reviewer"] == user.name]
        refused = [(s, state.refused[i]) for i, s in state.submissions.items()
                   if i in state.refused and s["reviewer"] == user.name]  # fmt: skip
        return srv.render(request, "queue.html", session=session, data=data, note=note, queued=mine,
                          refused=refused, draw=draw)  # fmt: skip

    @app.get("/c/{draw_id}/{supplier}/{cid:path}")
    def conversation(request: Request, draw_id: str, supplier: str, cid: str) -> Response:
        with srv.reading() as con:
            session = srv.user(request)
            data = _conversation(con, session[0], draw_id, supplier, cid)
        return srv.render(request, "conversation.html", session=session, d=data,
                          submission_id=uuid.uuid4().hex)  # fmt: skip

    @app.post("/c/{draw_id}/{supplier}/{cid:path}")
    async def submit(request: Request, draw_id: str, supplier: str, cid: str) -> Response:
        session = srv.user(request)
        user = session[0]
        form = await request.form()
        srv.check_csrf(request, form, session[1])
        if user.is_buyer:
            raise pages.Forbidden
        if not user.may_see_supplier(supplier):
            raise pages.NotFound
        sid = str(form.get("submission_id") or "")
        if not spool.ID_RE.match(sid):
            return srv.render(request, "message.html", 400, session=session, title="Bad form",
                              text="The form has no valid submission id; reload the page.")  # fmt: skip
        fields = {str(k): str(v) for k, v in form.items()}
        try:
            with srv.writing() as con:
                session = srv.user(request)  # re-checked against the fresh users table
                done = wh.one(con, "SELECT 1 FROM reviews WHERE source = ?", [spool.source_of(sid)]) \
                    if wh.table_exists(con, "reviews") else None  # fmt: skip
                if done is None:
                    data = _conversation(con, user, draw_id, supplier, cid)
                    if data["mode"] != "review":
                        raise pages.Forbidden
                    answers, comments = pages.parse_form(data["scorecard"], fields)
                    try:
                        submit_review(con, draw_id=draw_id, supplier=supplier, conversation_id=cid,
                                      reviewer=user.name, answers=answers, comments=comments,
                                      source=spool.source_of(sid))  # fmt: skip
                    except ConfigError as exc:
                        return srv.render(request, "conversation.html", 422, session=session, d=data,
                                          submission_id=sid, error=str(exc), posted=fields)  # fmt: skip
        except WarehouseBusy:
            answers = {k[5:]: v for k, v in fields.items() if k.startswith("item:") and v}
            comments = {k[8:]: v for k, v in fields.items() if k.startswith("comment:") and v.strip()}
            spool.spool_submission(srv.spool, sid, draw_id=draw_id, supplier=supplier, conversation_id=cid,
                                   reviewer=user.name, answers=answers, comments=comments)  # fmt: skip
            return srv.render(request, "message.html", 202, session=session, title="Queued",
                              text="Your review is queued: the warehouse is busy (the nightly run), so it is kept "
                                   "safely on disk and will be written as soon as the warehouse is free. "
                                   f"Submission {sid}.", link=("Back to my queue", f"/?submitted={sid}"))  # fmt: skip
        return RedirectResponse(f"/?submitted={sid}", status_code=303)

    @app.get("/disputes")
    def disputes(request: Request, status: str | None = None) -> Response:
        with srv.reading() as con:
            session = srv.user(request)
            rows = pages.disputes_page(con, session[0], status)
        return srv.render(request, "disputes.html", session=session, rows=rows, status=status)

    @app.get("/disputes/{dispute_id}")
    def dispute(request: Request, dispute_id: int) -> Response:
        with srv.reading() as con:
            session = srv.user(request)
            data = pages.dispute_detail(con, session[0], dispute_id)
        return srv.render(request, "dispute.html", session=session, d=data)

    @app.post("/disputes/open")
    async def dispute_open(request: Request) -> Response:
        session = srv.user(request)
        form = await request.form()
        srv.check_csrf(request, form, session[1])
        user = session[0]
        if user.is_buyer:
            raise pages.Forbidden
        try:
            review_id = int(str(form.get("review_id") or ""))
        except ValueError:
            raise pages.NotFound from None
        with srv.writing() as con:
            row = wh.one(con, "SELECT draw_id, supplier, conversation_id FROM reviews WHERE review_id = ?",
                         [review_id]) if wh.table_exists(con, "reviews") else None  # fmt: skip
            if row is None:
                raise pages.NotFound
            data = _conversation(con, user, *row)
            if data["counting_review"] != review_id:
                raise pages.NotFound
            try:
                did = open_dispute(con, review_id, user.name, str(form.get("reason") or ""))
            except ConfigError as exc:
                return srv.render(request, "message.html", 422, session=session, title="Dispute refused",
                                  text=str(exc), link=("Back", item_url(*row)))  # fmt: skip
        return RedirectResponse(f"/disputes/{did}", status_code=303)

    @app.post("/disputes/{dispute_id}/resolve")
    async def dispute_resolve(request: Request, dispute_id: int) -> Response:
        session = srv.user(request)
        form = await request.form()
        srv.check_csrf(request, form, session[1])
        user = session[0]
        if not user.is_lead:
            raise pages.Forbidden
        fields = {str(k): str(v) for k, v in form.items()}
        outcome = fields.get("outcome", "")
        with srv.writing() as con:
            data = pages.dispute_detail(con, user, dispute_id)
            answers, comments = pages.parse_form(data["scorecard"], fields)
            try:
                resolve_dispute(con, dispute_id, user.name, outcome,
                                answers if outcome == "upheld" else None, fields.get("note"),
                                comments=comments if outcome == "upheld" else None)  # fmt: skip
            except ConfigError as exc:
                return srv.render(request, "dispute.html", 422, session=session, d=data, error=str(exc))
        return RedirectResponse(f"/disputes/{dispute_id}", status_code=303)

    @app.get("/calibration")
    def calibration(request: Request, draw: str | None = None) -> Response:
        with srv.reading() as con:
            session = srv.user(request)
            data = pages.calibration_page(con, session[0], draw)
        return srv.render(request, "calibration.html", session=session, d=data)

    return app


def _conversation(con: duckdb.DuckDBPyConnection, user: User, draw_id: str, supplier: str, cid: str) -> Any:
    try:
        return pages.conversation_page(con, user, draw_id, supplier, cid)
    except ConfigError:  # reviewer_view's "not assigned to you" and unknown items alike
        raise pages.NotFound from None


def _safe_next(target: str) -> str:
    """Only local paths: no open redirect through ?next=."""
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else "/"


def _submission_note(
    con: duckdb.DuckDBPyConnection, srv: Server, user: User, sid: str
) -> dict[str, Any] | None:
    """What became of the user's submission `sid`: stored (score), queued or refused."""
    if not spool.ID_RE.match(sid):
        return None
    row = None
    if wh.table_exists(con, "reviews"):
        row = wh.one(con, "SELECT review_id, score, passed, role, conversation_id FROM reviews "
                     "WHERE source = ? AND reviewer = ?", [spool.source_of(sid), user.name])  # fmt: skip
    if row is not None:
        return {"status": "stored", "review_id": row[0], "score": row[1], "passed": row[2], "role": row[3],
                "conversation_id": row[4]}  # fmt: skip
    state = spool.read(srv.spool)
    sub = state.submissions.get(sid)
    if sub is None or sub["reviewer"] != user.name:
        return None
    status = state.status(sid)
    return {"status": status, "error": state.refused.get(sid), "conversation_id": sub["conversation_id"]}
