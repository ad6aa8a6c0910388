"""Errors in OpenAI's shape: `{"error": {"message", "type", "param", "code"}}`."""

from __future__ import annotations

from starlette.responses import JSONResponse


class EngineError(Exception):
    """An error the engine answers with, as OpenAI's API would."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        error_type: str = "invalid_request_error",
        retry_after: int | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.param = param
        self.error_type = error_type
        self.retry_after = retry_after


def error_body(message: str, error_type: str, param: str | None, code: str | None) -> dict[str, object]:
    return {"error": {"message": message, "type": error_type, "param": param, "code": code}}


def error_response(error: EngineError) -> JSONResponse:
    headers = {"Retry-After": str(error.retry_after)} if error.retry_after is not None else None
    return JSONResponse(
        error_body(error.message, error.error_type, error.param, error.code), error.status, headers=headers
    )


def invalid(param: str, message: str, code: str = "invalid_value") -> EngineError:
    return EngineError(400, message, code=code, param=param)


def not_found(video_id: str) -> EngineError:
    return EngineError(
        404, f"Video with id '{video_id}' not found.", code="video_not_found", param="video_id"
    )
