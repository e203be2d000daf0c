"""API Gateway REST (payload 1.0), HTTP API and Function URL (payload 2.0) events through the Lambda handler,
shaped like AWS's published samples, answered by the real app built from a trained bundle."""

import base64
import io
import json
import logging
import time

import awsgi
import pytest
from awslambdaric.lambda_context import LambdaContext
from flask import Flask, Response, request

from pricing.config import Settings
from pricing.serving import apigateway, events
from pricing.serving.app import create_app
from pricing.serving.state import service_of

DASHBOARD = "https://dash.example"


# ---- events as AWS sends them -----------------------------------------------------------------------------
def rest_v1_event(path: str, query: dict[str, list[str]] | None = None, method: str = "GET", headers=None) -> dict:
    """API Gateway REST proxy integration, payload 1.0 (AWS's sample `apigateway-aws-proxy`)."""
    headers = {
        "Accept": "application/json",
        "Host": "70ixmpl4fl.execute-api.us-east-2.amazonaws.com",
        "User-Agent": "curl/8.5.0",
        "X-Amzn-Trace-Id": "Root=1-5e66d96f-7491f09xmpl79d18acf3d050",
        "X-Forwarded-For": "52.255.255.12",
        "X-Forwarded-Port": "443",
        "X-Forwarded-Proto": "https",
        **(headers or {}),
    }
    stockcode = path.rsplit("/", 1)[-1] if path.startswith("/v1/predict-price/") else None
    return {
        "resource": "/v1/predict-price/{stockcode}" if stockcode else path,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        # API Gateway sends null, not {}, when there is no query string; the last value of each name here
        "queryStringParameters": {name: values[-1] for name, values in query.items()} if query else None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": {"stockcode": stockcode} if stockcode else None,
        "stageVariables": None,
        "requestContext": {
            "resourceId": "2gxmpl",
            "resourcePath": "/v1/predict-price/{stockcode}" if stockcode else path,
            "httpMethod": method,
            "extendedRequestId": "JJbxmplHYosFVYQ=",
            "requestTime": "10/Mar/2020:00:03:59 +0000",
            "path": f"/prod{path}",
            "accountId": "123456789012",
            "protocol": "HTTP/1.1",
            "stage": "prod",
            "domainPrefix": "70ixmpl4fl",
            "requestTimeEpoch": 1583798639428,
            "requestId": "77375676-xmpl-4b79-853a-f982474efe18",
            "identity": {"sourceIp": "52.255.255.12", "userAgent": "curl/8.5.0"},
            "domainName": "70ixmpl4fl.execute-api.us-east-2.amazonaws.com",
            "apiId": "70ixmpl4fl",
        },
        "body": None,
        "isBase64Encoded": False,
    }


def http_v2_event(path: str, raw_query: str = "", method: str = "GET", stage: str = "$default", headers=None) -> dict:
    """HTTP API, payload 2.0 (AWS's sample `apigateway-http-api-proxy`)."""
    full_path = path if stage == "$default" else f"/{stage}{path}"
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": full_path,
        "rawQueryString": raw_query,
        "cookies": ["s_fid=7AAB6XMPLAFD9BBF-0643XMPL09956DE2", "regStatus=pre-register"],
        "headers": {
            "accept": "application/json",
            "content-length": "0",
            "host": "r3pmxmplak.execute-api.us-east-2.amazonaws.com",
            "user-agent": "Mozilla/5.0",
            "x-amzn-trace-id": "Root=1-5e6722a7-cc56xmpl46db7ae02d4da47e",
            "x-forwarded-for": "205.255.255.176",
            "x-forwarded-port": "443",
            "x-forwarded-proto": "https",
            **(headers or {}),
        },
        "queryStringParameters": dict(p.split("=", 1) for p in raw_query.split("&")) if raw_query else None,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "r3pmxmplak",
            "domainName": "r3pmxmplak.execute-api.us-east-2.amazonaws.com",
            "domainPrefix": "r3pmxmplak",
            "http": {
                "method": method,
                "path": full_path,
                "protocol": "HTTP/1.1",
                "sourceIp": "205.255.255.176",
                "userAgent": "Mozilla/5.0",
            },
            "requestId": "JKJaXmPLvHcESHA=",
            "routeKey": "$default",
            "stage": stage,
            "time": "10/Mar/2020:05:16:23 +0000",
            "timeEpoch": 1583817383220,
        },
        "isBase64Encoded": False,
    }


def function_url_event(path: str, raw_query: str = "") -> dict:
    """Lambda Function URL, payload 2.0 (AWS's documented request payload)."""
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": raw_query,
        "headers": {
            "sec-fetch-mode": "navigate",
            "x-amzn-tls-version": "TLSv1.2",
            "x-forwarded-proto": "https",
            "x-forwarded-port": "443",
            "x-forwarded-for": "123.123.123.123",
            "accept": "application/json",
            "x-amzn-tls-cipher-suite": "ECDHE-RSA-AES128-GCM-SHA256",
            "x-amzn-trace-id": "Root=1-5eb33c07-9b7a1c4a1e1b5c6d7e8f9a0b",
            "host": "abcdefg123456.lambda-url.us-east-2.on.aws",
            "accept-encoding": "gzip, deflate, br",
            "user-agent": "Mozilla/5.0",
        },
        "requestContext": {
            "accountId": "anonymous",
            "apiId": "abcdefg123456",
            "domainName": "abcdefg123456.lambda-url.us-east-2.on.aws",
            "domainPrefix": "abcdefg123456",
            "http": {
                "method": "GET",
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "123.123.123.123",
                "userAgent": "Mozilla/5.0",
            },
            "requestId": "id",
            "routeKey": "$default",
            "stage": "$default",
            "time": "12/Mar/2020:19:03:58 +0000",
            "timeEpoch": 1583348638390,
        },
        "isBase64Encoded": False,
    }


def lambda_context(request_id: str = "8476a536-e9f4-11e8-9739-2dfe598c3fcd") -> LambdaContext:
    """The context object the runtime interface client itself builds for each invocation."""
    deadline_ms = int(time.time() * 1000) + 60_000
    return LambdaContext(request_id, None, None, deadline_ms, "arn:aws:lambda:us-east-2:123456789012:function:pricing")


# ---- the app and its handler ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def app(store):
    return create_app(Settings(env="test", artifact_store=str(store.root), cors_origins=(DASHBOARD,)))


@pytest.fixture(scope="module")
def json_logging():
    """powertools' JSON logging for this module's tests, undone afterwards: it configures the process-wide
    `pricing` logger (handler, level) and filters the root handlers, which later test modules must not inherit."""
    pricing_logger, root = logging.getLogger(events.SERVICE), logging.getLogger()
    saved = (list(pricing_logger.handlers), pricing_logger.level, vars(pricing_logger).copy())
    root_filters = {handler: list(handler.filters) for handler in root.handlers}
    yield
    handlers, level, attributes = saved
    pricing_logger.handlers[:] = handlers
    pricing_logger.setLevel(level)
    for name in set(vars(pricing_logger)) - set(attributes):
        delattr(pricing_logger, name)  # powertools' "already configured" marks
    for handler, filters in root_filters.items():
        handler.filters[:] = filters


@pytest.fixture(scope="module")
def handler(app, json_logging):
    return events.lambda_handler(app, events.json_logger("INFO"), events.emf_metrics())


@pytest.fixture(scope="module")
def stockcode(app) -> str:
    return service_of(app).predictor.products.sort_values("lines", ascending=False).index[0]


@pytest.fixture
def json_logs():
    """The JSON log lines written during one test (powertools' handler, pointed at a buffer)."""
    handler = next(h for h in logging.getLogger(events.SERVICE).handlers if isinstance(h, logging.StreamHandler))
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines() if line.startswith("{")]
    handler.setStream(previous)


def emf_documents(stdout: str) -> list[dict]:
    return [doc for doc in map(json.loads, filter(None, stdout.splitlines())) if "_aws" in doc]


# ---- REST, payload 1.0 ------------------------------------------------------------------------------------
def test_a_rest_event_with_a_path_parameter_and_a_query_gets_the_curve(handler, stockcode):
    response = handler(rest_v1_event(f"/v1/predict-price/{stockcode}", {"num_price_bins": ["7"]}), lambda_context())
    assert response["statusCode"] == 200 and isinstance(response["statusCode"], int)
    rows = json.loads(response["body"])
    assert len(rows) == 7 and {row["stockcode"] for row in rows} == {stockcode}
    assert response["headers"]["X-Model"] == "network" and response["headers"]["Content-Type"] == "application/json"
    assert response["isBase64Encoded"] is False


@pytest.mark.parametrize("missing", ["null", "absent"])
def test_a_rest_event_without_a_query_string_gets_the_defaults(handler, stockcode, missing):
    event = rest_v1_event(f"/v1/predict-price/{stockcode}")
    if missing == "absent":  # console tests and hand-made events leave the keys out altogether
        del event["queryStringParameters"], event["multiValueQueryStringParameters"]
    response = handler(event, lambda_context())
    assert response["statusCode"] == 200
    assert len(json.loads(response["body"])) == 100


def test_a_repeated_query_parameter_is_refused_not_silently_collapsed(handler, stockcode):
    event = rest_v1_event(f"/v1/predict-price/{stockcode}", {"num_price_bins": ["5", "7"]})
    response = handler(event, lambda_context())
    assert response["statusCode"] == 400
    assert json.loads(response["body"]) == {"error": "num_price_bins: given more than once"}


def test_bad_parameters_and_unknown_products_answer_400_and_404_with_json(handler, stockcode):
    bad = handler(rest_v1_event(f"/v1/predict-price/{stockcode}", {"num_price_bins": ["1"]}), lambda_context())
    assert bad["statusCode"] == 400 and json.loads(bad["body"])["error"].startswith("num_price_bins:")
    unknown = handler(rest_v1_event("/v1/predict-price/NO-SUCH-CODE"), lambda_context())
    assert unknown["statusCode"] == 404
    assert json.loads(unknown["body"]) == {"error": "unknown stockcode 'NO-SUCH-CODE'"}
    no_route = handler(rest_v1_event("/v2/nothing"), lambda_context())
    assert (no_route["statusCode"], json.loads(no_route["body"])) == (404, {"error": "no such route"})


def test_a_percent_encoded_non_ascii_stockcode_reaches_the_app_intact(handler):
    response = handler(rest_v1_event("/v1/predict-price/CAF%C3%89-1"), lambda_context())
    assert response["statusCode"] == 404
    assert json.loads(response["body"]) == {"error": "unknown stockcode 'CAFÉ-1'"}


def test_a_cors_preflight_is_answered_for_the_dashboard_only(handler, stockcode):
    preflight = {"Origin": DASHBOARD, "Access-Control-Request-Method": "GET"}
    allowed = handler(rest_v1_event(f"/v1/predict-price/{stockcode}", method="OPTIONS", headers=preflight), None)
    assert allowed["statusCode"] == 200
    assert allowed["headers"]["Access-Control-Allow-Origin"] == DASHBOARD
    assert "GET" in allowed["headers"]["Access-Control-Allow-Methods"]
    denied = handler(
        rest_v1_event(f"/v1/predict-price/{stockcode}", method="OPTIONS", headers={**preflight, "Origin": "https://x"}),
        None,
    )
    assert "Access-Control-Allow-Origin" not in denied["headers"]


def test_repeated_request_headers_arrive_joined_and_repeated_response_headers_stay_separate():
    app = Flask("headers")

    @app.get("/echo")
    def echo():
        response = Response(request.headers.get("X-Tag", ""))
        response.headers.add("Set-Cookie", "a=1")
        response.headers.add("Set-Cookie", "b=2")
        return response

    event = rest_v1_event("/echo")
    event["multiValueHeaders"]["X-Tag"] = ["one", "two"]
    event["headers"]["X-Tag"] = "two"
    response, _ = apigateway.handle_rest_v1(app, event, None)
    assert response["body"] == "one,two"
    assert response["multiValueHeaders"]["Set-Cookie"] == ["a=1", "b=2"]
    assert "Set-Cookie" not in response["headers"]  # never in both maps: API Gateway would send it twice


# ---- payload 2.0: HTTP API and Function URL ---------------------------------------------------------------
def test_an_http_api_event_is_answered_by_the_same_app(handler, stockcode):
    event = http_v2_event(f"/v1/predict-price/{stockcode}", "num_price_bins=4&num_samples=51")  # this test's own
    response = handler(event, None)
    assert response["statusCode"] == 200
    assert len(json.loads(response["body"])) == 4
    assert response["headers"]["X-Cache"] == "MISS"
    again = handler(event, None)  # the same app's cache, reached through payload 2.0 too
    assert again["headers"]["X-Cache"] == "HIT" and again["body"] == response["body"]


def test_an_http_api_event_with_a_repeated_parameter_is_refused(handler, stockcode):
    response = handler(http_v2_event(f"/v1/predict-price/{stockcode}", "country=France&country=Spain"), None)
    assert (response["statusCode"], json.loads(response["body"])) == (400, {"error": "country: given more than once"})


def test_a_named_http_api_stage_is_not_part_of_the_route(handler, stockcode):
    staged = handler(http_v2_event("/health", stage="live"), None)
    assert staged["statusCode"] == 200
    assert json.loads(staged["body"]) == json.loads(handler(http_v2_event("/health"), None)["body"])  # the route


def test_a_function_url_event_is_answered_by_the_same_app(handler, stockcode):
    response = handler(function_url_event(f"/v1/predict-price/{stockcode}", "num_price_bins=3"), lambda_context())
    assert response["statusCode"] == 200 and len(json.loads(response["body"])) == 3
    products = handler(function_url_event("/v1/products", "page_size=2"), None)
    assert json.loads(products["body"])["items"][0]["stockcode"] == stockcode


# ---- binary bodies, both payloads -------------------------------------------------------------------------
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe"


@pytest.fixture(scope="module")
def binary_app():
    """A real Flask app with the two binary cases the pricing app will meet (an image asset, an uploaded body)."""
    app = Flask("binary")

    @app.get("/logo.png")
    def logo():
        return Response(PNG, mimetype="image/png")

    @app.post("/echo")
    def echo():
        return Response(request.get_data(), mimetype="application/octet-stream")

    return app


@pytest.mark.parametrize("shape", ["rest-v1", "http-v2"])
def test_binary_responses_and_base64_request_bodies_round_trip(binary_app, shape):
    make, adapt = (
        (rest_v1_event, apigateway.handle_rest_v1) if shape == "rest-v1" else (http_v2_event, apigateway.handle_http_v2)
    )
    image, _ = adapt(binary_app, make("/logo.png"), None)
    assert image["isBase64Encoded"] is True and base64.b64decode(image["body"]) == PNG
    upload = make("/echo", method="POST")
    if shape == "rest-v1":
        upload["requestContext"]["httpMethod"] = "POST"
    upload.update(body=base64.b64encode(PNG).decode(), isBase64Encoded=True)
    echoed, _ = adapt(binary_app, upload, None)
    assert echoed["statusCode"] == 200 and base64.b64decode(echoed["body"]) == PNG


# ---- why the boundary exists: aws-wsgi 0.2.7 on its own ---------------------------------------------------
def test_aws_wsgi_alone_has_each_defect_this_boundary_fixes(app, binary_app, stockcode):
    """If a future aws-wsgi fixes one of these, this fails: the matching fix in serving.apigateway can go."""
    path = f"/v1/predict-price/{stockcode}"
    with pytest.raises(KeyError, match="httpMethod"):
        awsgi.response(app, http_v2_event(path), None)  # payload 2.0
    no_query = rest_v1_event(path)
    del no_query["queryStringParameters"]
    with pytest.raises(KeyError, match="queryStringParameters"):
        awsgi.response(app, no_query, None)
    repeated = awsgi.response(app, rest_v1_event(path, {"num_price_bins": ["5", "7"]}), None)
    assert repeated["statusCode"] == "200"  # a string, and the repeat silently became the last value
    assert len(json.loads(repeated["body"])) == 7
    with pytest.raises(UnicodeDecodeError):
        awsgi.response(binary_app, rest_v1_event("/logo.png"), None)


# ---- observability: JSON logs with the request id, EMF metrics --------------------------------------------
def test_each_request_logs_json_with_the_request_ids_and_emits_emf_metrics(handler, stockcode, json_logs, capsys):
    event = rest_v1_event(f"/v1/predict-price/{stockcode}", {"num_price_bins": ["6"], "num_samples": ["61"]})
    handler(event, lambda_context("req-42"))  # this test's own request: a miss
    access = [line for line in json_logs() if line.get("route") == "GET /v1/predict-price/<stockcode>"]
    assert access, json_logs()
    assert access[-1]["function_request_id"] == "req-42"
    assert access[-1]["correlation_id"] == "77375676-xmpl-4b79-853a-f982474efe18"  # API Gateway's own id
    assert access[-1]["status"] == 200 and access[-1]["model"] == "network"
    (document,) = emf_documents(capsys.readouterr().out)
    directives = document["_aws"]["CloudWatchMetrics"][0]
    assert directives["Namespace"] == events.METRICS_NAMESPACE
    assert ["event", "route", "service"] in [sorted(d) for d in directives["Dimensions"]]
    assert ["model", "service"] in [sorted(d) for d in directives["Dimensions"]]
    assert {m["Name"] for m in directives["Metrics"]} >= {"Latency", "CacheHits", "ServerErrors"}
    assert document["route"] == "GET /v1/predict-price/<stockcode>" and document["model"] == "network"
    assert document["Latency"][0] > 0 and document["CacheHits"] == [0.0]
    handler(event, lambda_context("req-43"))  # the same request again: a hit
    (document,) = emf_documents(capsys.readouterr().out)
    assert document["CacheHits"] == [1.0] and document["route"] == "GET /v1/predict-price/<stockcode>"


def test_an_unknown_event_fails_clearly_and_is_logged(handler, json_logs, capsys):
    with pytest.raises(events.UnsupportedEvent, match="detail-type"):
        handler({"source": "aws.sqs", "detail-type": "Something", "detail": {}}, lambda_context("req-bad"))
    (error,) = [line for line in json_logs() if line["level"] == "ERROR"]
    assert error["function_request_id"] == "req-bad" and "unsupported event" in error["message"]
    (document,) = emf_documents(capsys.readouterr().out)
    assert document["UnsupportedEvents"] == [1.0]
    with pytest.raises(events.UnsupportedEvent):
        handler(["not", "an", "object"], None)
