"""The upload page at ``/upload``: sign in with a token, upload an invoice, read the verdict in plain words.

Server-rendered, German and English, no scripts and nothing loaded from elsewhere (the stylesheet is
inline under a CSP nonce). Security, in short:

- The session cookie holds a random session id; the database keeps only its hash, tied to the token
  used to sign in, so revoking the token ends the session. The cookie is HttpOnly, SameSite=Strict,
  limited to ``/upload`` and Secure whenever the page is served over HTTPS.
- Every form post carries a CSRF token twice (double submit): as a cookie and as a form field, which
  must match. After sign-in the token is also bound to the session (its hash is stored with it), so
  a cookie planted from a sibling domain cannot forge a matching pair.
- Each post answers with a redirect (303), so reloading a page never uploads a file twice; the same
  file uploaded again finds its earlier verdict anyway (its key is the file's SHA-256).
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.responses import Response

from connectors.upload._body import UploadProblem, read_form, read_upload
from connectors.upload._i18n import LANGS, Lang, format_amount, format_date, format_datetime, negotiate, text
from connectors.upload._models import DocumentOut
from connectors.upload._submission import describe, list_submissions, take_in
from pipeline.settings import Settings
from pipeline.store import TransientError, connect
from pipeline.store.supplier_access import (
    Caller,
    SessionGrant,
    caller_for_session,
    caller_for_token,
    close_session,
    open_session,
    secret_hash,
)
from schemas.terms import term_name

__all__ = ["CSRF_COOKIE", "LANG_COOKIE", "SESSION_COOKIE", "page_router"]

PREFIX = "/upload"
SESSION_COOKIE = "eingang_upload_session"
CSRF_COOKIE = "eingang_upload_csrf"
LANG_COOKIE = "eingang_lang"
SESSION_LIFETIME = timedelta(hours=8)  # a working day; signing in again costs one paste of the token
_SMALL_FORM = 16 * 1024  # sign-in and sign-out forms: a token and a CSRF value
_LIST_LIMIT = 200

_PROBLEM_TEXT = {
    "too_large": "error_too_large",
    "empty_file": "error_empty",
    "empty_body": "error_empty",
    "missing_file": "error_no_file",
}

_templates = Environment(
    loader=PackageLoader("connectors.upload", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _size(limit: int) -> str:
    return f"{limit / 1024 / 1024:.0f} MB" if limit >= 1024 * 1024 else f"{limit / 1024:.0f} KB"


@dataclass(frozen=True)
class _Session:
    """What one request knows about who is signed in (nothing, when both are None)."""

    caller: Caller | None
    csrf_hash: str | None


def page_router(settings: Settings) -> APIRouter:
    router = APIRouter(prefix=PREFIX, include_in_schema=False)

    def lang_of(request: Request) -> Lang:
        return negotiate(
            request.query_params.get("lang"), request.cookies.get(LANG_COOKIE), request.headers.get("accept-language")
        )

    def session_of(request: Request) -> _Session:
        session_id = request.cookies.get(SESSION_COOKIE)
        csrf = request.cookies.get(CSRF_COOKIE)
        if not session_id or not csrf:
            return _Session(None, None)
        with connect(settings) as conn:
            found = caller_for_session(conn, session_id)
        if found is None or not hmac.compare_digest(secret_hash(csrf), found[1]):
            # Without its own CSRF cookie a session could post no form at all: better signed out than stuck.
            return _Session(None, None)
        return _Session(*found)

    def render(request: Request, template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
        lang = lang_of(request)
        nonce = secrets.token_urlsafe(16)
        # The double-submit value: the one the browser holds, or a new one for a first visit.
        csrf = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(32)

        def t(key: str, **values: object) -> str:
            return text(key, lang, **values)

        html = _templates.get_template(template).render(
            lang=lang,
            other_langs=[x for x in LANGS if x != lang],
            t=t,
            nonce=nonce,
            csrf=csrf,
            term_name=lambda term: term_name(term, lang),
            date=lambda v: format_date(v, lang),
            datetime=lambda v: format_datetime(v, lang),
            amount=lambda v, c: format_amount(v, c, lang),
            max_size=_size(settings.max_upload_bytes),
            path=request.url.path,
            **context,
        )
        response = HTMLResponse(html, status_code=status)
        _secure_headers(response, nonce)
        _set_cookie(request, response, CSRF_COOKIE, csrf)
        if request.query_params.get("lang") in LANGS:
            # Remembered so that redirects after a post keep the language the supplier chose.
            _set_cookie(request, response, LANG_COOKIE, lang, max_age=365 * 24 * 3600)
        return response

    def csrf_ok(request: Request, form: FormData, session: _Session) -> bool:
        cookie = request.cookies.get(CSRF_COOKIE) or ""
        field = form.get("csrf")
        if not cookie or not isinstance(field, str) or not hmac.compare_digest(cookie, field):
            return False
        return session.csrf_hash is None or hmac.compare_digest(secret_hash(cookie), session.csrf_hash)

    async def home(request: Request, session: _Session, caller: Caller, **context: Any) -> HTMLResponse:
        rows = await run_in_threadpool(list_submissions, settings, caller, limit=_LIST_LIMIT, offset=0)
        return render(request, "home.html", who=caller, submissions=rows, **context)

    @router.get("", response_class=HTMLResponse)
    async def upload_page(request: Request) -> Response:
        try:
            session = await run_in_threadpool(session_of, request)
            if session.caller is None:
                return render(request, "login.html")
            return await home(request, session, session.caller)
        except TransientError:
            return render(request, "login.html", status=503, error=text("unavailable", lang_of(request)))

    @router.post("/login")
    async def login(request: Request) -> Response:
        lang = lang_of(request)
        try:
            form = await read_form(request, _SMALL_FORM)
        except UploadProblem:
            return render(request, "login.html", status=400, error=text("error_bad_form", lang))
        if not csrf_ok(request, form, _Session(None, None)):
            return render(request, "login.html", status=403, error=text("csrf_failed", lang))
        token = form.get("token")
        token = token.strip() if isinstance(token, str) else ""

        def sign_in() -> SessionGrant | None:
            with connect(settings) as conn:
                caller = caller_for_token(conn, token)
                if caller is None:
                    return None
                old = request.cookies.get(SESSION_COOKIE)
                if old:
                    close_session(conn, old)  # never carry a session id across a sign-in
                return open_session(conn, caller, lifetime=SESSION_LIFETIME)

        try:
            grant = await run_in_threadpool(sign_in)
        except TransientError:
            return render(request, "login.html", status=503, error=text("unavailable", lang))
        if grant is None:
            return render(request, "login.html", status=401, error=text("login_failed", lang))
        response = RedirectResponse(PREFIX, status_code=303)
        max_age = int(SESSION_LIFETIME.total_seconds())
        _set_cookie(request, response, SESSION_COOKIE, grant.session_id, max_age=max_age)
        _set_cookie(request, response, CSRF_COOKIE, grant.csrf, max_age=max_age)  # a fresh one, bound to the session
        return response

    @router.post("/logout")
    async def logout(request: Request) -> Response:
        try:
            form = await read_form(request, _SMALL_FORM)
            session = await run_in_threadpool(session_of, request)
        except (UploadProblem, TransientError):
            return RedirectResponse(PREFIX, status_code=303)
        if session.caller is not None and not csrf_ok(request, form, session):
            return await home(request, session, session.caller, status=403, error=text("csrf_failed", lang_of(request)))
        session_id = request.cookies.get(SESSION_COOKIE)
        if session_id:

            def sign_out() -> None:
                with connect(settings) as conn:
                    close_session(conn, session_id)

            await run_in_threadpool(sign_out)
        response = RedirectResponse(PREFIX, status_code=303)
        for name in (SESSION_COOKIE, CSRF_COOKIE):
            response.delete_cookie(
                name, path=PREFIX, secure=request.url.scheme == "https", httponly=True, samesite="strict"
            )
        return response

    @router.post("/files")
    async def upload_file(request: Request) -> Response:
        lang = lang_of(request)
        try:
            # Who is asking comes before reading the body: a stranger's upload is never parsed.
            session = await run_in_threadpool(session_of, request)
            if session.caller is None:
                return render(request, "login.html", status=401, error=text("session_over", lang))
            caller = session.caller
            try:
                form = await read_form(request, settings.max_upload_bytes)
                try:
                    if not csrf_ok(request, form, session):
                        return await home(request, session, caller, status=403, error=text("csrf_failed", lang))
                    upload = await read_upload(request, settings.max_upload_bytes, form)
                finally:
                    await form.close()
            except UploadProblem as exc:
                message = text(
                    _PROBLEM_TEXT.get(exc.code, "error_bad_form"), lang, size=_size(settings.max_upload_bytes)
                )
                return await home(request, session, caller, status=exc.status, error=message)
            taken = await run_in_threadpool(take_in, settings, caller, upload, None)
        except TransientError:
            return render(request, "login.html", status=503, error=text("unavailable", lang))
        target = f"{PREFIX}/documents/{taken.document_id}" + ("" if taken.created else "?repeat=1")
        return RedirectResponse(target, status_code=303)

    @router.get("/documents/{doc_id}", response_class=HTMLResponse)
    async def document_page(request: Request, doc_id: str) -> Response:
        lang = lang_of(request)
        try:
            session = await run_in_threadpool(session_of, request)
            if session.caller is None:
                return render(request, "login.html", status=401, error=text("session_over", lang))
            document: DocumentOut | None = None
            try:
                wanted = UUID(doc_id)
            except ValueError:
                wanted = None  # a malformed id is just another id that is not theirs
            if wanted is not None:
                document = await run_in_threadpool(describe, settings, session.caller, wanted, lang)
        except TransientError:
            return render(request, "login.html", status=503, error=text("unavailable", lang))
        if document is None:
            return await home(request, session, session.caller, status=404, error=text("not_found", lang))
        return render(
            request,
            "document.html",
            who=session.caller,
            document=document,
            repeat=request.query_params.get("repeat") == "1",
        )

    return router


def _secure_headers(response: Response, nonce: str) -> None:
    response.headers["Content-Security-Policy"] = (
        f"default-src 'none'; style-src 'nonce-{nonce}'; img-src data:; form-action 'self';"
        " frame-ancestors 'none'; base-uri 'none'"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"  # verdicts and submission lists are private


def _set_cookie(request: Request, response: Response, name: str, value: str, *, max_age: int | None = None) -> None:
    # HttpOnly throughout: the pages have no scripts, so nothing in the browser needs to read a cookie.
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=PREFIX,
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="strict",
    )
