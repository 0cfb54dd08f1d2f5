"""The FastAPI application: the document pages for accounts payable and the operators' JSON API.

Read-only for now. ``create_app`` builds the app for one ``Settings``; ``eingang up`` runs it with
``uvicorn --factory pipeline.web:create_app`` and the platform's environment, and tests hand in
their own settings. Nothing here binds a port.

Every page is server-rendered HTML without scripts, under a Content-Security-Policy that allows
only this origin's stylesheet and frames. The invoice's reading copy is supplier-controlled
content: it is served from its own URL with a policy that forbids everything but inline styles
and ``data:`` images and sandboxes it, and shown in a sandboxed iframe.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from typing import Annotated, Any
from urllib.parse import quote, urlencode
from uuid import UUID

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request
from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.exceptions import HTTPException as StarletteHTTPException

from connectors import upload
from pipeline.lifecycle import Status
from pipeline.render import format_amount, format_date
from pipeline.settings import Settings, load_settings
from pipeline.store import MissingServiceError, TransientError, close_pools, connect, pending
from pipeline.web import _data
from pipeline.web._i18n import Lang, negotiate, translator
from pipeline.web._models import DocumentDetail, DocumentSummary
from schemas.terms import term_name

__all__ = ["PAGE_CSP", "VIEW_CSP", "create_app"]

log = logging.getLogger(__name__)

# Our own pages: a stylesheet and frames from this origin, nothing else (no scripts at all).
PAGE_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; frame-src 'self'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# The invoice's reading copy: its inline CSS and data: images only; framed by our pages alone, and
# sandboxed even when opened directly, so supplier text can never run as script in our origin.
VIEW_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'self'; sandbox"
)
_SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
_API_PREFIXES = ("/api/", "/docs", "/redoc", "/openapi.json", "/healthz")
MAX_LIST = 1000
_SEVERITY = {"error": 0, "fatal": 0, "warning": 1, "information": 2}


def _app_version() -> str:
    try:
        return version("eingang")
    except PackageNotFoundError:  # a source checkout that is not installed
        return "0"


# -- rendering -------------------------------------------------------------------------------------


@cache
def _templates() -> Environment:
    env = Environment(
        loader=PackageLoader("pipeline.web", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


def _fmt_amount(lang: Lang) -> Callable[[Decimal | None, str | None], str]:
    def fmt(value: Decimal | None, currency: str | None) -> str:
        return "–" if value is None else format_amount(value, currency, lang)

    return fmt


def _fmt_date(lang: Lang) -> Callable[[date | datetime | None], str]:
    def fmt(value: date | datetime | None) -> str:
        if value is None:
            return "–"
        if isinstance(value, datetime):
            local = value.astimezone()  # the server's zone: where the people reading this work
            return f"{format_date(local.date(), lang)} {local:%H:%M:%S}"
        return format_date(value, lang)

    return fmt


def _page(request: Request, template: str, lang: Lang, *, status_code: int = 200, **context: Any) -> HTMLResponse:
    t = translator(lang)

    def here(**changes: Any) -> str:
        """This page's URL with some query parameters changed (None removes one)."""
        params = [(k, v) for k, v in request.query_params.multi_items() if k not in changes]
        for key, value in changes.items():
            values = value if isinstance(value, list | tuple) else [value]
            params += [(key, str(v)) for v in values if v is not None]
        query = urlencode(params)
        return request.url.path + (f"?{query}" if query else "")

    html = (
        _templates()
        .get_template(template)
        .render(t=t, lang=lang, here=here, amount=_fmt_amount(lang), when=_fmt_date(lang), **context)
    )
    return HTMLResponse(html, status_code=status_code, headers={"Content-Security-Policy": PAGE_CSP,
                                                                **_SECURITY_HEADERS})  # fmt: skip


def _lang(request: Request, lang: str | None) -> Lang:
    return negotiate(lang, request.headers.get("accept-language"))


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(_settings)]
LangQuery = Annotated[str | None, Query(description="de or en; default from Accept-Language")]
StatusQuery = Annotated[list[Status] | None, Query(description="only documents with these statuses (repeatable)")]
LimitQuery = Annotated[int, Query(ge=1, le=MAX_LIST, description="at most this many, newest first")]


def _attachment(filename: str | None, fallback: str) -> str:
    """A Content-Disposition that downloads under the original name, safely quoted for any browser."""
    name = (filename or fallback).replace("\\", "/").rsplit("/", 1)[-1]  # a ZIP member's path: keep the name
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip() or fallback
    ascii_name = re.sub(r'[^A-Za-z0-9._ -]', "_", unicodedata.normalize("NFKD", name).encode("ascii", "ignore")
                        .decode("ascii")) or fallback  # fmt: skip
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


# -- pages -----------------------------------------------------------------------------------------

pages = APIRouter(include_in_schema=False)


@pages.get("/")
def index(request: Request) -> RedirectResponse:
    query = request.url.query
    return RedirectResponse("/documents" + (f"?{query}" if query else ""), status_code=307)


@pages.get("/documents", response_class=HTMLResponse)
def document_list_page(
    request: Request, settings: SettingsDep, lang: LangQuery = None, status: StatusQuery = None,
    limit: LimitQuery = 200,
) -> HTMLResponse:  # fmt: skip
    chosen = _lang(request, lang)
    rows = _data.document_list(settings, statuses=status, limit=limit)
    return _page(request, "documents.html.j2", chosen, rows=rows, statuses=list(Status),
                 selected=[s.value for s in status or []])  # fmt: skip


@pages.get("/documents/{doc_id}", response_class=HTMLResponse)
def document_page(request: Request, doc_id: UUID, settings: SettingsDep, lang: LangQuery = None) -> HTMLResponse:
    chosen = _lang(request, lang)
    found = _data.detail(settings, doc_id)
    if found is None:
        raise HTTPException(404, f"no document {doc_id}")
    # Errors first, then warnings, then information; the report's own order within each level.
    findings = sorted(found.findings, key=lambda f: _SEVERITY.get(f.level, 0))
    return _page(
        request, "document.html.j2", chosen, d=found, findings=findings, term_name=lambda t: term_name(t, chosen)
    )


@pages.get("/documents/{doc_id}/view", response_class=HTMLResponse)
def invoice_view(request: Request, doc_id: UUID, settings: SettingsDep, lang: LangQuery = None) -> HTMLResponse:
    html = _data.invoice_view(settings, doc_id, _lang(request, lang))
    if html is None:
        raise HTTPException(404, f"document {doc_id} holds no readable invoice")
    return HTMLResponse(html, headers={"Content-Security-Policy": VIEW_CSP, **_SECURITY_HEADERS})


@pages.get("/documents/{doc_id}/original")
def original(doc_id: UUID, settings: SettingsDep) -> Response:
    found = _data.original(settings, doc_id)
    if found is None:
        raise HTTPException(404, f"no document {doc_id}")
    doc, data = found
    headers = {
        "Content-Disposition": _attachment(doc.filename, f"{doc.id}"),
        # Downloaded, never rendered here: a supplier's file must not become a page of ours.
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "X-Eingang-SHA256": doc.sha256,
        **_SECURITY_HEADERS,
    }
    return Response(data, media_type=doc.media_type, headers=headers)


# -- JSON API --------------------------------------------------------------------------------------

api = APIRouter(prefix="/api/v1", tags=["documents (operators)"])


@api.get("/documents", response_model=list[DocumentSummary])
def api_documents(settings: SettingsDep, status: StatusQuery = None, limit: LimitQuery = 100) -> list[DocumentSummary]:
    """The documents, newest first: status, supplier, invoice number, gross total and verdict."""
    return _data.document_list(settings, statuses=status, limit=limit)


@api.get("/documents/{doc_id}", response_model=DocumentDetail, responses={404: {"description": "no such document"}})
def api_document(doc_id: UUID, settings: SettingsDep) -> DocumentDetail:
    """One document: its status and why, the invoice header, the report with every finding, the event log."""
    found = _data.detail(settings, doc_id)
    if found is None:
        raise HTTPException(404, f"no document {doc_id}")
    return found


# -- errors ----------------------------------------------------------------------------------------


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith(_API_PREFIXES)


def _error_page(request: Request, status_code: int, title_key: str, detail: str) -> Response:
    lang = _lang(request, request.query_params.get("lang"))
    return _page(request, "error.html.j2", lang, status_code=status_code, title_key=title_key, detail=detail)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if _wants_json(request):
        return await http_exception_handler(request, exc)
    key = {404: "not_found", 422: "bad_request"}.get(exc.status_code, "bad_request")
    return _error_page(request, exc.status_code, key, str(exc.detail))


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    if _wants_json(request):
        return await request_validation_exception_handler(request, exc)
    problems = "; ".join(f"{'.'.join(map(str, e['loc'][1:]))}: {e['msg']}" for e in exc.errors())
    return _error_page(request, 422, "bad_request", problems)


def _unavailable(request: Request, detail: str) -> Response:
    if _wants_json(request):
        return JSONResponse({"detail": detail}, status_code=503, headers={"Retry-After": "5"})
    response = _error_page(request, 503, "unavailable", detail)
    response.headers["Retry-After"] = "5"
    return response


async def _service_error(request: Request, exc: Exception) -> Response:
    return _unavailable(request, f"a service is unreachable, try again: {exc}")


async def _unexpected(request: Request, exc: Exception) -> Response:
    # The commonest cause on a fresh platform is a database nobody migrated yet: say so plainly.
    try:
        with connect(_settings(request)) as conn:
            todo = pending(conn)
    except Exception:
        todo = []
    if todo:
        return _unavailable(request, f"the database schema is not current ({len(todo)} migration(s) pending):"
                                     " run `eingang db migrate`")  # fmt: skip
    log.error("unexpected error on %s", request.url.path, exc_info=exc)
    if _wants_json(request):
        return JSONResponse({"detail": "internal error"}, status_code=500)
    return _error_page(request, 500, "server_error", "see the web app's log")


# -- the app ---------------------------------------------------------------------------------------


def create_app(settings: Settings | None = None) -> FastAPI:
    """The web app for ``settings`` (read from the environment when None)."""
    resolved = settings if settings is not None else load_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        close_pools()  # the database pool's threads must not outlive the server

    app = FastAPI(
        title="Eingang",
        version=_app_version(),
        summary="E-invoice intake for accounts payable: documents, verdicts, findings, history.",
        lifespan=lifespan,
        openapi_tags=[{"name": "documents (operators)", "description": "Read-only views for operators."}],
    )
    app.state.settings = resolved

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        # Liveness only: `eingang up` waits for this before the database is necessarily migrated.
        return {"status": "ok"}

    app.include_router(pages)
    app.include_router(api)
    # The supplier-facing upload API and page (connectors/upload) are served by this same app.
    app.include_router(upload.router(resolved))
    app.mount("/static", StaticFiles(packages=[("pipeline.web", "static")]), name="static")
    handlers: Sequence[tuple[type[Exception], Any]] = (
        (StarletteHTTPException, _http_error),
        (RequestValidationError, _validation_error),
        (TransientError, _service_error),
        (MissingServiceError, _service_error),
        (Exception, _unexpected),
    )
    for exc_type, handler in handlers:
        app.add_exception_handler(exc_type, handler)
    return app
