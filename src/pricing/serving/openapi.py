"""The OpenAPI 3 description of every route, parameter and error."""

from __future__ import annotations

from functools import cache

from pricing.config import Settings
from pricing.serving.decision_json import BIN_FIELDS, DECISION_FIELDS
from pricing.serving.experiment import ANSWER_FIELDS
from pricing.serving.request import LAUNCH_PARAMETERS, MODE_PARAMETERS, PARAMETERS, PRODUCTS_PAGE_MAX

ERROR = {"$ref": "#/components/schemas/Error"}


# The headers every priced answer carries (the README lists them under the predict-price route); the app exposes
# them to the browsers on CORS_ORIGINS
RESPONSE_HEADERS = ("X-Model", "X-Incidence-Model", "X-Model-Version", "X-Fallback", "X-Cache", "Server-Timing")


def _error(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": ERROR}}}


def _query(name: str, schema: dict, description: str) -> dict:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


def _price_route(
    settings: Settings,
    summary: str,
    description: str,
    schema: dict,
    parameters: tuple = (),
    not_found: str = "Unknown stockcode",
) -> dict:
    """A GET on /v1/<route>/{stockcode} with every request parameter (both price routes share them) and the route's
    own `parameters` (Parameter entries)."""
    return {
        "get": {
            "summary": summary,
            "parameters": [
                {"name": "stockcode", "in": "path", "required": True, "schema": {"type": "string"}},
                *(_query(p.name, p.schema(settings), p.description) for p in (*PARAMETERS, *parameters)),
            ],
            "responses": {
                "200": {
                    "description": description,
                    "headers": {h: {"schema": {"type": "string"}} for h in RESPONSE_HEADERS},
                    "content": {"application/json": {"schema": schema}},
                },
                "400": _error(
                    "A parameter is malformed or out of range, or the rules admit no price; the message names them"
                ),
                "404": _error(not_found),
                "503": _error("No bundle loaded or no usable model"),
            },
        }
    }


@cache
def spec(settings: Settings) -> dict:
    """The document for a server with these settings: the parameters' bounds and defaults are the parser's own
    (pricing.serving.request.PARAMETERS and Settings), not a copy."""
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "pricing-service",
            "version": "1",
            "description": "Unit prices maximising weekly sales (order lines per week x units per line) from a "
            "learned two-part demand model.",
        },
        "paths": {
            "/v1/predict-price/{stockcode}": _price_route(
                settings,
                "Predicted sales per order line and per week for each price bin, and the recommended price",
                "One object per price bin (the decision's curve)",
                {"type": "array", "items": {"$ref": "#/components/schemas/PriceBin"}},
            ),
            "/v1/price-decision/{stockcode}": _price_route(
                settings,
                "The price decision: current and recommended price, rules and their costs, interval, change or "
                "hold; with mode=experiment, this week's price of the bundle's running price experiment",
                "The decision (README: Price decisions); for a new product `pricing experiment update` learnt (a "
                "code the bundle never saw), its decision from its neighbours' launch curve tilted by its test "
                "weeks, with a new_product block (docs/EXPERIMENTS.md, New products); with mode=experiment, the "
                "experiment answer, or for a product outside the experiment its decision with an experiment_note",
                {
                    "oneOf": [
                        {"$ref": "#/components/schemas/PriceDecision"},
                        {"$ref": "#/components/schemas/ExperimentAnswer"},
                    ]
                },
                MODE_PARAMETERS,
                "Unknown stockcode; with mode=experiment also: the bundle runs no experiment, or not the one given "
                "(the message names `experiment`)",
            ),
            "/v1/launch-decision": {
                "get": {
                    "summary": "A launch price for a new product from the products with the most similar "
                    "descriptions: the launch price, its interval, the neighbours named, and a price test around it",
                    "parameters": [
                        {**_query(p.name, p.schema(settings), p.description), "required": p.name == "description"}
                        for p in LAUNCH_PARAMETERS
                    ],
                    "responses": {
                        "200": {
                            "description": "decision test with the launch price (README: /v1/launch-decision), "
                            "or decision no_similar_product naming the closest product when none is similar enough",
                            "headers": {h: {"schema": {"type": "string"}} for h in ("X-Model-Version", "X-Cache")},
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                        "400": _error("A parameter is missing, malformed or out of range; the message names it"),
                        "503": _error("No bundle loaded or no usable model"),
                    },
                }
            },
            "/v1/products": {
                "get": {
                    "summary": "Products with their historical price range, most sold first",
                    "parameters": [
                        _query("q", {"type": "string"}, "Search term over stockcode and description"),
                        _query("page", {"type": "integer", "minimum": 1, "default": 1}, "Page number"),
                        _query(
                            "page_size",
                            {"type": "integer", "minimum": 1, "maximum": PRODUCTS_PAGE_MAX, "default": 50},
                            "Items per page",
                        ),
                    ],
                    "responses": {
                        "200": {
                            "description": "A page of products",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ProductPage"}}},
                        },
                        "400": _error("A parameter is malformed or out of range"),
                        "503": _error("No bundle loaded"),
                    },
                }
            },
            "/health": {
                "get": {
                    "summary": "Bundle version, models, cache state, and the models failing at load or at request time",
                    "responses": {
                        "200": {"description": "Serving: status ok, or degraded with a reason naming each model"},
                        "503": {"description": "Cannot serve: status unavailable, with the reason"},
                    },
                }
            },
            "/openapi.json": {"get": {"summary": "This document", "responses": {"200": {"description": "OK"}}}},
        },
        "components": {
            "schemas": {
                "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}},
                "PriceBin": {
                    "type": "object",
                    "properties": {name: _bin_field(name) for name in BIN_FIELDS},
                },
                "PriceDecision": {
                    "type": "object",
                    "required": list(DECISION_FIELDS),
                    "properties": {
                        name: {"type": "array", "items": {"$ref": "#/components/schemas/PriceBin"}}
                        if name == "curve"
                        else {}  # any JSON value: objects, numbers, strings or null (README lists each)
                        for name in DECISION_FIELDS
                    },
                },
                "ExperimentAnswer": {
                    "type": "object",
                    "required": list(ANSWER_FIELDS),
                    "properties": {
                        **{name: {} for name in ANSWER_FIELDS},  # any JSON value, as PriceDecision's
                        "mode": {"type": "string", "enum": ["experiment"]},
                        "week": {"type": "string", "pattern": "^[0-9]{4}-W[0-9]{2}$"},
                        "week_index": {"type": "integer", "nullable": True, "minimum": 0},
                        "price": {"type": "number"},
                        "status_quo_price": {"type": "number"},
                        "holdout": {"type": "boolean"},
                        "arm": {"type": "integer", "nullable": True, "minimum": 0},
                        "arms": {"type": "array", "items": {"type": "number"}},
                        "propensity": {"type": "number", "nullable": True},
                        "binding_guardrail": {
                            "type": "string",
                            "nullable": True,
                            "enum": ["step", "holdout", "stop-loss", "outside the experiment's weeks", None],
                        },
                        "state": {
                            "type": "string",
                            "enum": ["planned", "learning", "monetising", "stopped", "holdout"],
                        },
                    },
                },
                "ProductPage": {
                    "type": "object",
                    "properties": {
                        "items": {"type": "array", "items": {"type": "object"}},
                        "page": {"type": "integer"},
                        "page_size": {"type": "integer"},
                        "total": {"type": "integer"},
                    },
                },
            }
        },
    }


def _bin_field(name: str) -> dict:
    if name == "stockcode":
        return {"type": "string"}
    if name == "in_support":
        return {"type": "boolean"}
    # the weekly fields are null for a bundle without an incidence model, profit without a cost
    return {"type": "number", **({"nullable": True} if name.endswith("_per_week") else {})}
