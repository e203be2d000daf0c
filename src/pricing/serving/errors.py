"""The serving domain's errors and the one place they become an HTTP status and a message.

Helpers raise; `error_message` maps. The Flask app answers `{"error": message}` with the status, the batch job
writes the message on the row's error line: the same words either way."""

from __future__ import annotations


class RequestError(ValueError):
    """A parameter is malformed, out of bounds or inconsistent with another; the message names it (HTTP 400)."""


class UnknownStockcode(LookupError):
    """The bundle's product table has no such stockcode (HTTP 404)."""


class NoContexts(LookupError):
    """No held-out context matches the requested country or customer (HTTP 400, naming the parameter)."""


class NoUsableModel(RuntimeError):
    """Every model of the bundle failed or predicted non-finite quantities (HTTP 503)."""


def error_message(exc: Exception, stockcode: str = "", country: str | None = None) -> tuple[int, str]:
    """(HTTP status, message) for a request or domain error, for the API and the batch job alike.

    `stockcode` is the code as the client wrote it; `country` tells which filter left no context. Raises the
    exception again when it is not one of the domain's (a bug must not be reported as bad input)."""
    if isinstance(exc, RequestError):
        return 400, str(exc)
    if isinstance(exc, UnknownStockcode):
        return 404, f"unknown stockcode {(stockcode or str(exc))[:40]!r}"
    if isinstance(exc, NoContexts):
        return 400, f"{'country' if country is not None else 'customerid'}: {exc}"
    if isinstance(exc, NoUsableModel):
        return 503, "no usable model: every model in the bundle failed"
    raise exc
