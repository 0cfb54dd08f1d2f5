"""The supplier API at ``/api/v1/invoices``: upload an invoice, read its verdict, list one's own submissions.

Every answer that is not a success is ``{"error": {"code", "message"}}``. The routes use their own
route class to shape errors (validation errors included), so the router behaves the same in any
app that includes it and needs no app-wide exception handlers. A supplier only ever learns about
its own documents: another supplier's id answers 404 exactly like an id that does not exist.
"""

# No `from __future__ import annotations` here: FastAPI reads the endpoints' annotations at runtime,
# and the dependency aliases below are local to api_router, where string annotations cannot be resolved.
import re
from collections.abc import Callable, Coroutine, Mapping
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from connectors.upload._body import MULTIPART, RAW_MEDIA_TYPES, UploadProblem, read_upload
from connectors.upload._i18n import Lang, negotiate
from connectors.upload._models import DocumentList, DocumentOut, ErrorOut
from connectors.upload._submission import IDEMPOTENCY_KEY, IdempotencyKeyReused, describe, list_submissions, take_in
from pipeline.intake import IntakeRefused
from pipeline.settings import Settings
from pipeline.store import TransientError, connect
from pipeline.store.supplier_access import Caller, caller_for_token

__all__ = ["ApiError", "api_router"]

PREFIX = "/api/v1/invoices"
_REALM = 'Bearer realm="eingang"'
_KEY = re.compile(IDEMPOTENCY_KEY)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})


def error_response(status: int, code: str, message: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


def _validation_message(exc: RequestValidationError) -> tuple[str, str]:
    errors = list(exc.errors())
    first: dict[str, Any] = errors[0] if errors else {}
    where = [str(part) for part in first.get("loc", ())]
    if where[:1] == ["path"]:
        return "malformed_id", f"not a document id: {first.get('input')!r} (a UUID is expected)"
    return "invalid_parameter", f"{'.'.join(where[1:]) or 'request'}: {first.get('msg', 'invalid')}"


class _ErrorShapingRoute(APIRoute):
    """Turns ApiError, UploadProblem and validation errors into the API's error body, per route."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except ApiError as exc:
                return error_response(exc.status, exc.code, exc.message, exc.headers)
            except UploadProblem as exc:
                return error_response(exc.status, exc.code, exc.message)
            except RequestValidationError as exc:
                return error_response(422, *_validation_message(exc))
            except TransientError:
                # The upload is either not in yet or in under its key: the same request again is safe.
                return error_response(
                    503,
                    "unavailable",
                    "a service is briefly unavailable; send the same request again",
                    {"Retry-After": "5"},
                )

        return route


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    described = {
        400: "empty body, missing file field or malformed Idempotency-Key",
        401: "missing, unknown or revoked token (with WWW-Authenticate: Bearer)",
        404: "no such document among this supplier's own",
        413: "the upload is larger than the configured limit",
        415: "unsupported Content-Type",
        422: "malformed id or parameter, or an Idempotency-Key reused for a different file",
        503: "a service is briefly unavailable; the same request can be sent again",
    }
    return {s: {"model": ErrorOut, "description": described[s]} for s in statuses}


_UPLOAD_BODY: dict[str, Any] = {
    "required": True,
    "description": "The invoice file (XRechnung/EN 16931 XML, ZUGFeRD/Factur-X PDF, or a ZIP of several) as the"
    " body, or as the field `file` of a multipart form. A file name can be given in Content-Disposition.",
    "content": {
        **{kind: {"schema": {"type": "string", "format": "binary"}} for kind in sorted(RAW_MEDIA_TYPES)},
        MULTIPART: {
            "schema": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
                "required": ["file"],
            }
        },
    },
}


def api_router(settings: Settings) -> APIRouter:
    router = APIRouter(prefix=PREFIX, tags=["supplier invoices"], route_class=_ErrorShapingRoute)
    bearer = HTTPBearer(auto_error=False, description="an upload token from `eingang suppliers token create`")

    def require_caller(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Caller:
        # A plain `def`: FastAPI runs it in a worker thread, so the database lookup never blocks the loop.
        if credentials is None:
            raise ApiError(
                401,
                "unauthorized",
                "send the upload token as 'Authorization: Bearer <token>'",
                {"WWW-Authenticate": _REALM},
            )
        with connect(settings) as conn:
            caller = caller_for_token(conn, credentials.credentials)
        if caller is None:
            raise ApiError(
                401,
                "invalid_token",
                "the token is unknown or revoked",
                {"WWW-Authenticate": f'{_REALM}, error="invalid_token"'},
            )
        return caller

    CallerDep = Annotated[Caller, Depends(require_caller)]
    LangQuery = Annotated[
        Lang | None, Query(description="language of messages and term names; default from Accept-Language")
    ]

    def language(lang: Lang | None, request: Request) -> Lang:
        return negotiate(lang, None, request.headers.get("accept-language"))

    @router.post(
        "",
        status_code=201,
        response_model=DocumentOut,
        summary="Upload an invoice and get its verdict",
        description="Takes the invoice in and checks it at once. 201 with the verdict for a new upload; 200 with"
        " the same body when this upload (same file, or same Idempotency-Key) was already received.",
        responses={
            200: {"model": DocumentOut, "description": "already received: the earlier upload's verdict"},
            **_errors(400, 401, 413, 415, 422, 503),
        },
        openapi_extra={"requestBody": _UPLOAD_BODY},
    )
    async def upload_invoice(
        request: Request,
        caller: CallerDep,
        lang: LangQuery = None,
        idempotency_key: Annotated[
            str | None,
            Header(description="makes retries safe: the same key answers with the first upload's result"),
        ] = None,
    ) -> Response:
        if idempotency_key is not None and not _KEY.match(idempotency_key):
            raise ApiError(
                400,
                "invalid_idempotency_key",
                "Idempotency-Key must be 1 to 200 printable ASCII characters without spaces",
            )
        upload = await read_upload(request, settings.max_upload_bytes)
        try:
            taken = await run_in_threadpool(take_in, settings, caller, upload, idempotency_key)
        except IdempotencyKeyReused as exc:
            raise ApiError(422, "idempotency_key_reused", str(exc)) from None
        except IntakeRefused as exc:
            raise ApiError(413, "too_large", str(exc)) from None
        body = await run_in_threadpool(describe, settings, caller, taken.document_id, language(lang, request))
        assert body is not None  # just taken in under the caller's own source
        return JSONResponse(
            body.model_dump(mode="json"),
            status_code=201 if taken.created else 200,
            headers={"Location": f"{PREFIX}/{body.id}"},
        )

    @router.get(
        "/{doc_id}",
        response_model=DocumentOut,
        summary="One of your documents: status, verdict and findings",
        responses=_errors(401, 404, 422, 503),
    )
    def get_invoice(doc_id: UUID, request: Request, caller: CallerDep, lang: LangQuery = None) -> DocumentOut:
        found = describe(settings, caller, doc_id, language(lang, request))
        if found is None:
            raise ApiError(404, "not_found", f"no document {doc_id}")
        return found

    @router.get(
        "",
        response_model=DocumentList,
        summary="Your submissions, newest first",
        description="Each upload, and for a ZIP archive each invoice in it right after the archive.",
        responses=_errors(401, 422, 503),
    )
    def list_invoices(
        caller: CallerDep,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> DocumentList:
        return DocumentList(
            documents=list_submissions(settings, caller, limit=limit, offset=offset), limit=limit, offset=offset
        )

    return router
