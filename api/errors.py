"""Every error is JSON `{"error": "..."}` with a message a person can act on."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException


class ApiError(StarletteHTTPException):
    """An HTTP error with a readable message (and optional headers, e.g. Retry-After)."""

    def __init__(
        self,
        status: int,
        message: str,
        headers: dict[str, str] | None = None,
        extra: dict | None = None,
    ) -> None:
        super().__init__(status_code=status, detail=message, headers=headers)
        self.extra = extra or {}


def not_found(what: str, ident: object) -> ApiError:
    return ApiError(404, f"no {what} with id {ident}")


def _field(loc: tuple | list) -> str:
    parts = [str(p) for p in loc]
    where = parts[0] if parts else ""
    name = ".".join(parts[1:]) or where
    return f"{name} ({where})" if where in ("query", "path", "header", "cookie") else name


def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = [
        {"field": _field(e.get("loc", ())), "message": e.get("msg", "invalid")}
        for e in exc.errors()
    ]
    summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
    return JSONResponse({"error": summary or "invalid request", "errors": errors}, status_code=422)


def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
    message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    if exc.status_code == 404 and message == "Not Found":
        message = "no such endpoint; see /docs for the API"
    if exc.status_code == 405 and message == "Method Not Allowed":
        message = "this method is not allowed here; see /docs for the API"
    body = {"error": message, **getattr(exc, "extra", {})}
    return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
