"""HTTP events from API Gateway and Lambda Function URLs into the Flask app (WSGI), and its response back out.

REST APIs (payload 1.0) go through aws-wsgi, as the design asks. aws-wsgi 0.2.7 is archived and gets several
real events wrong; each defect is fixed here, at the boundary, so the library itself is used as shipped:

- an event without `queryStringParameters` (a console test, a hand-made event): KeyError in aws-wsgi;
- repeated query parameters (`?country=A&country=B`): aws-wsgi keeps only the last value, so the API could not
  refuse the ambiguity; `multiValueQueryStringParameters` carries them all and becomes the query string;
- repeated headers: aws-wsgi reads only `headers`; `multiValueHeaders` carries them all;
- binary bodies: a response that is not UTF-8 text makes aws-wsgi's decode raise; it goes out base64-encoded;
- `statusCode`: aws-wsgi returns a string, API Gateway's contract is an integer;
- payload 2.0 (HTTP APIs, Function URLs): aws-wsgi reads `event["httpMethod"]` (KeyError); a 2.0 event is
  reshaped into the 1.0 fields aws-wsgi reads, and its raw query string is used as is (the parameters map when
  an invoker sends no rawQueryString);
- the path: WSGI wants the path's UTF-8 bytes as latin-1 text, aws-wsgi passes the text through; the URL
  scheme and port are left empty by aws-wsgi, which breaks absolute URLs (redirects) built by the app.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes, urlencode

import awsgi

# Bodies with these media types go out as text; anything else (images, fonts, archives) goes out base64-encoded.
TEXT_MEDIA_TYPES = ("text/", "application/json", "application/javascript", "application/xml", "image/svg+xml")
TEXT_MEDIA_SUFFIXES = ("+json", "+xml")


@dataclass(frozen=True)
class WsgiResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        values = [value for key, value in self.headers if key.lower() == name.lower()]
        return values[-1] if values else None


def is_v2(event: dict) -> bool:
    return event.get("version") == "2.0" and isinstance((event.get("requestContext") or {}).get("http"), dict)


def is_v1(event: dict) -> bool:
    return "httpMethod" in event and "path" in event


def request_line(event: dict) -> tuple[str, str]:
    """The method and path of an HTTP event, for logs and the route metric."""
    if is_v2(event):
        http = event["requestContext"]["http"]
        return http.get("method", "GET"), _v2_path(event)
    return event.get("httpMethod", "GET"), event.get("path") or "/"


def handle_rest_v1(app: Callable, event: dict, context) -> tuple[dict, WsgiResponse]:
    """API Gateway REST (payload 1.0): the API Gateway response and what the app answered."""
    environ = awsgi.environ(
        {**event, "headers": _v1_headers(event), "queryStringParameters": None}, context
    )  # None: aws-wsgi would urlencode a dict and lose repeats; the query string is set below
    environ["QUERY_STRING"] = _v1_query_string(event)
    _finish_environ(environ, event.get("path") or "/", event.get("requestContext") or {})
    identity = (event.get("requestContext") or {}).get("identity") or {}
    if environ["REMOTE_ADDR"] == "127.0.0.1" and identity.get("sourceIp"):
        environ["REMOTE_ADDR"] = identity["sourceIp"]
    response = run_wsgi(app, environ)
    single, multi = _split_headers(response.headers)
    payload = {"statusCode": response.status, "headers": single, **_body(response)}
    if multi:
        # API Gateway merges both maps; a name in one map only, never both, so no value is sent twice
        payload["multiValueHeaders"] = multi
    return payload, response


def handle_http_v2(app: Callable, event: dict, context) -> tuple[dict, WsgiResponse]:
    """HTTP API or Function URL (payload 2.0): the response and what the app answered."""
    context_fields = event["requestContext"]
    http = context_fields["http"]
    headers = dict(event.get("headers") or {})
    if event.get("cookies"):
        headers["cookie"] = "; ".join(event["cookies"])  # 2.0 moves cookies out of the headers
    as_v1 = {
        "httpMethod": http["method"],
        "path": _v2_path(event),
        "headers": headers,
        "queryStringParameters": None,
        "body": event.get("body"),
        "isBase64Encoded": event.get("isBase64Encoded", False),
    }
    environ = awsgi.environ(as_v1, context)
    environ["QUERY_STRING"] = _v2_query_string(event)
    _finish_environ(environ, as_v1["path"], context_fields)
    if http.get("sourceIp") and "HTTP_X_FORWARDED_FOR" not in environ:
        environ["REMOTE_ADDR"] = http["sourceIp"]
    if http.get("protocol"):
        environ["SERVER_PROTOCOL"] = http["protocol"]
    response = run_wsgi(app, environ)
    headers_out: dict[str, str] = {}
    cookies: list[str] = []
    for key, value in response.headers:
        if key.lower() == "set-cookie":
            cookies.append(value)
        else:  # 2.0 has no multi-value map: repeated headers are joined, as HTTP allows
            headers_out[key] = f"{headers_out[key]},{value}" if key in headers_out else value
    payload = {"statusCode": response.status, "headers": headers_out, **_body(response)}
    if cookies:
        payload["cookies"] = cookies
    return payload, response


def run_wsgi(app: Callable, environ: dict) -> WsgiResponse:
    start = awsgi.StartResponse()  # records the status (as an int) and headers; the body is collected here
    output: Iterable[bytes] = app(environ, start)
    try:
        body = b"".join([*start.chunks, *output])
    finally:
        close = getattr(output, "close", None)
        if close is not None:
            close()
    return WsgiResponse(int(start.status), list(start.headers), body)


def _v2_path(event: dict) -> str:
    """rawPath without the stage prefix a named (non-default) HTTP API stage adds."""
    path = event.get("rawPath") or event["requestContext"]["http"].get("path") or "/"
    stage = event["requestContext"].get("stage")
    if stage and stage != "$default" and (path == f"/{stage}" or path.startswith(f"/{stage}/")):
        path = path[len(stage) + 1 :] or "/"
    return path


def _v2_query_string(event: dict) -> str:
    """rawQueryString as sent (repeats and order kept); without it (some invokers and test tools send only
    `queryStringParameters`), the parameters map, where API Gateway joins a repeated name's values with commas."""
    raw = event.get("rawQueryString")
    if raw:
        return raw
    return urlencode(event.get("queryStringParameters") or {})


def _v1_query_string(event: dict) -> str:
    multi = event.get("multiValueQueryStringParameters")
    if multi:
        return urlencode(multi, doseq=True)
    return urlencode(event.get("queryStringParameters") or {})


def _v1_headers(event: dict) -> dict[str, str]:
    """One value per name, repeats joined as HTTP allows (cookies with '; ')."""
    multi = event.get("multiValueHeaders")
    if not multi:
        return dict(event.get("headers") or {})
    return {name: ("; " if name.lower() == "cookie" else ",").join(values) for name, values in multi.items() if values}


def _finish_environ(environ: dict, path: str, request_context: dict) -> None:
    # WSGI (PEP 3333) wants the path's bytes as latin-1 text; works whether the gateway sent it encoded or not
    environ["PATH_INFO"] = unquote_to_bytes(path).decode("latin-1")
    environ["wsgi.url_scheme"] = environ.get("wsgi.url_scheme") or "https"  # API Gateway only speaks HTTPS
    environ["SERVER_PORT"] = environ.get("SERVER_PORT") or "443"
    if not environ.get("SERVER_NAME"):
        environ["SERVER_NAME"] = request_context.get("domainName") or "localhost"
    environ.pop("HTTP", None)  # aws-wsgi's stray key, not a CGI variable


def _split_headers(headers: list[tuple[str, str]]) -> tuple[dict[str, str], dict[str, list[str]]]:
    grouped: dict[str, list[str]] = {}
    for key, value in headers:
        grouped.setdefault(key, []).append(value)
    single = {key: values[0] for key, values in grouped.items() if len(values) == 1}
    multi = {key: values for key, values in grouped.items() if len(values) > 1}
    return single, multi


def _body(response: WsgiResponse) -> dict:
    """Text stays text; anything else (or text that is not UTF-8) goes out base64-encoded."""
    if _is_text(response.header("Content-Type"), response.header("Content-Encoding")):
        try:
            return {"body": response.body.decode("utf-8"), "isBase64Encoded": False}
        except UnicodeDecodeError:
            pass
    return {"body": base64.b64encode(response.body).decode("ascii"), "isBase64Encoded": True}


def _is_text(content_type: str | None, content_encoding: str | None) -> bool:
    if content_encoding and content_encoding.lower() != "identity":
        return False  # gzip and friends are bytes whatever the media type says
    if not content_type:
        return True  # an empty body (preflight, 204) or plain text
    media = content_type.split(";")[0].strip().lower()
    return media.startswith(TEXT_MEDIA_TYPES) or media.endswith(TEXT_MEDIA_SUFFIXES)
