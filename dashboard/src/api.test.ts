import { describe, expect, it } from "vitest";
import {
  ApiError,
  type DecisionQuery,
  type FetchLike,
  type PriceBin,
  apiBaseFromEnv,
  createApiClient,
  decisionPath,
  joinUrl,
  predictPath,
} from "./api";
import { decisionOf } from "./decisionFixture";
import { experimentOf } from "./experimentFixture";

const BIN: PriceBin = {
  stockcode: "85123A",
  unit_price: 2.5,
  quantity: 10,
  quantity_min: 2,
  quantity_max: 30,
  predicted_sales: 25,
  optimal_unit_price: 2.5,
  max_predicted_sales: 25,
  orders_per_week: 4,
  units_per_week: 40,
  sales_per_week: 100,
};

/** A fetch that records the URLs asked for and answers with one canned response. */
function fakeFetch(answer: () => Response | Promise<Response>): FetchLike & { urls: string[] } {
  const urls: string[] = [];
  const fetchLike = async (url: string) => {
    urls.push(url);
    return answer();
  };
  return Object.assign(fetchLike, { urls });
}

function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json", ...headers },
  });
}

async function failure(promise: Promise<unknown>): Promise<ApiError> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ApiError);
  return error as ApiError;
}

describe("URLs", () => {
  it("uses the page's own origin unless VITE_API_BASE is set", () => {
    expect(apiBaseFromEnv(undefined)).toBe(".");
    expect(apiBaseFromEnv("  ")).toBe(".");
    expect(apiBaseFromEnv("https://api.example.com/Prod/")).toBe("https://api.example.com/Prod/");
  });

  it("joins a base and a path with exactly one slash", () => {
    expect(joinUrl(".", "v1/products")).toBe("./v1/products");
    expect(joinUrl("https://api.example.com/Prod/", "/v1/products")).toBe("https://api.example.com/Prod/v1/products");
  });

  it("encodes the stockcode and sends only the parameters given", () => {
    expect(predictPath("85123A", {})).toBe("v1/predict-price/85123A");
    expect(predictPath("A/B C", { unitpriceMin: 1.5, unitpriceMax: 4, numPriceBins: 25 })).toBe(
      "v1/predict-price/A%2FB%20C?unitprice_min=1.5&unitprice_max=4&num_price_bins=25",
    );
  });

  it("sends the decision's objective, cost and rules under the API's names, and only those given", () => {
    expect(decisionPath("85127A", {})).toBe("v1/price-decision/85127A");
    expect(
      decisionPath("A/B", { numPriceBins: 10, objective: "profit", unitCost: 0.5, maxChange: 0.2, priceEnding: 0 }),
    ).toBe("v1/price-decision/A%2FB?num_price_bins=10&objective=profit&unit_cost=0.5&max_change=0.2&price_ending=0");
    expect(decisionPath("85127A", { floor: 2, ceiling: 1, minMargin: 0.3 })).toBe(
      "v1/price-decision/85127A?floor=2&ceiling=1&min_margin=0.3",
    );
  });

  it("keeps the rules out of the bare curve's URL", () => {
    const query: DecisionQuery = { numPriceBins: 5, floor: 1 };
    expect(predictPath("85127A", query)).toBe("v1/predict-price/85127A?num_price_bins=5");
  });
});

describe("priceDecision", () => {
  it("returns the decision with the model and cache headers", async () => {
    const decision = decisionOf();
    const fetchLike = fakeFetch(() => json(decision, 200, { "X-Model": "network", "X-Cache": "MISS" }));
    const result = await createApiClient("http://api.test", fetchLike).priceDecision("85127A", {
      numPriceBins: 100,
      objective: "profit",
    });
    expect(fetchLike.urls).toEqual(["http://api.test/v1/price-decision/85127A?num_price_bins=100&objective=profit"]);
    expect(result).toEqual({ decision, model: "network", modelVersion: null, cache: "MISS" });
  });

  it("accepts a bundle without an uncertainty estimate or a unit cost", async () => {
    const decision = decisionOf({ interval: null, probability_beats_current: null, unit_cost: null });
    const result = await createApiClient(".", fakeFetch(() => json(decision))).priceDecision("85127A", {});
    expect(result.decision.interval).toBeNull();
  });

  it("passes the API's message for rules that admit no price through readably", async () => {
    const message = "floor and ceiling conflict: no price within 0.66..2.52 satisfies both";
    const client = createApiClient(".", fakeFetch(() => json({ error: message }, 400)));
    const error = await failure(client.priceDecision("85127A", { floor: 2, ceiling: 1 }));
    expect(error.kind).toBe("client");
    expect(error.status).toBe(400);
    expect(error.message).toBe(`Request refused: ${message}.`);
  });

  it("accepts a test decision with its plan", async () => {
    const test = { arms: [1.06, 1.18, 1.3], weeks_per_arm: 2, weeks: 6, expected_weekly_cost: 1.5, expected_cost: 9 };
    const body = { ...decisionOf(), decision: "test", price_to_set: 1.18, test };
    const result = await createApiClient(".", fakeFetch(() => json(body))).priceDecision("85127A", {});
    expect(result.decision.test).toEqual(test);
  });

  it("refuses a decision it cannot draw: no curve, a malformed bin, no current price, bad history", async () => {
    const good = decisionOf();
    const broken = [
      { ...good, curve: [] },
      { ...good, curve: [{ ...good.curve[0], unit_price: "1.3" }] },
      { ...good, curve: [{ ...good.curve[0], in_support: "yes" }] },
      { ...good, current: undefined },
      { ...good, observed: [{ price: 1 }] },
      { ...good, interval: { level: 0.9, price: [1] } },
      { ...good, decision: "maybe" },
      { ...good, decision: "test", test: null }, // a test without its plan
      { ...good, test: { arms: [], weeks_per_arm: 2, weeks: 0, expected_weekly_cost: 0, expected_cost: 0 } },
      [good.curve[0]], // the bare curve of /v1/predict-price
    ];
    for (const body of broken) {
      const client = createApiClient(".", fakeFetch(() => json(body)));
      const error = await failure(client.priceDecision("85127A", {}));
      expect(error.kind).toBe("invalid");
    }
  });
});

describe("predictPrice", () => {
  it("returns the bins with the model and cache headers", async () => {
    const fetchLike = fakeFetch(() =>
      json([BIN], 200, { "X-Model": "network", "X-Model-Version": "v1", "X-Cache": "HIT" }),
    );
    const result = await createApiClient("http://api.test", fetchLike).predictPrice("85123A", { numPriceBins: 2 });
    expect(fetchLike.urls).toEqual(["http://api.test/v1/predict-price/85123A?num_price_bins=2"]);
    expect(result).toEqual({ bins: [BIN], model: "network", modelVersion: "v1", cache: "HIT" });
  });

  it("reports missing headers as null rather than inventing them", async () => {
    const result = await createApiClient(".", fakeFetch(() => json([BIN]))).predictPrice("85123A", {});
    expect(result.model).toBeNull();
    expect(result.cache).toBeNull();
  });

  it("turns a 404 into a readable client error carrying the API's message", async () => {
    const client = createApiClient(".", fakeFetch(() => json({ error: "unknown stockcode 'NOPE1'" }, 404)));
    const error = await failure(client.predictPrice("NOPE1", {}));
    expect(error.kind).toBe("client");
    expect(error.status).toBe(404);
    expect(error.message).toBe("Not found: unknown stockcode 'NOPE1'.");
  });

  it("passes a 400's message naming the parameter through", async () => {
    const message = "unitprice_min (5) must be below unitprice_max (3)";
    const client = createApiClient(".", fakeFetch(() => json({ error: message }, 400)));
    const error = await failure(client.predictPrice("85123A", { unitpriceMin: 5, unitpriceMax: 3 }));
    expect(error.kind).toBe("client");
    expect(error.message).toBe(`Request refused: ${message}.`);
  });

  it("says the service failed on a 5xx, with its reason when it gave one", async () => {
    const client = createApiClient(".", fakeFetch(() => json({ error: "no bundle is loaded" }, 503)));
    const error = await failure(client.predictPrice("85123A", {}));
    expect(error.kind).toBe("server");
    expect(error.message).toBe("The pricing service failed (HTTP 503): no bundle is loaded. Try again later.");
  });

  it("copes with a 5xx whose body is not JSON (a proxy's error page)", async () => {
    const client = createApiClient(".", fakeFetch(() => new Response("<html>Bad gateway</html>", { status: 502 })));
    const error = await failure(client.predictPrice("85123A", {}));
    expect(error.kind).toBe("server");
    expect(error.message).toBe("The pricing service failed (HTTP 502). Try again later.");
  });

  it("says the service cannot be reached when the network fails", async () => {
    const client = createApiClient(
      "http://127.0.0.1:9",
      fakeFetch(() => Promise.reject(new TypeError("Failed to fetch"))),
    );
    const error = await failure(client.predictPrice("85123A", {}));
    expect(error.kind).toBe("network");
    expect(error.message).toContain("Cannot reach the pricing service at http://127.0.0.1:9/v1/predict-price/85123A");
  });

  it("rethrows an abort untouched, so a superseded request can be ignored", async () => {
    const abort = new DOMException("The operation was aborted.", "AbortError");
    const client = createApiClient(".", fakeFetch(() => Promise.reject(abort)));
    await expect(client.predictPrice("85123A", {})).rejects.toBe(abort);
  });

  it("refuses a 200 with no bins or malformed bins instead of drawing an empty chart", async () => {
    for (const body of [[], [{ ...BIN, predicted_sales: "12" }], { items: [] }]) {
      const client = createApiClient(".", fakeFetch(() => json(body)));
      const error = await failure(client.predictPrice("85123A", {}));
      expect(error.kind).toBe("invalid");
    }
  });
});

describe("searchProducts", () => {
  it("asks for the search term and page size and returns the page", async () => {
    const page = {
      items: [
        {
          stockcode: "85123A",
          description: "WHITE HANGING HEART",
          price_min: 2.1,
          price_median: 2.5,
          price_max: 2.9,
          lines: 900,
          units: 20000,
        },
      ],
      page: 1,
      page_size: 20,
      total: 1,
    };
    const fetchLike = fakeFetch(() => json(page));
    const result = await createApiClient(".", fetchLike).searchProducts("heart & star", 20);
    expect(fetchLike.urls).toEqual(["./v1/products?q=heart+%26+star&page_size=20"]);
    expect(result).toEqual(page);
  });

  it("reports a malformed product page", async () => {
    const client = createApiClient(".", fakeFetch(() => json({ products: [] })));
    expect((await failure(client.searchProducts("", 20))).kind).toBe("invalid");
  });
});

describe("experiment", () => {
  it("asks the decision route in experiment mode and returns the product's experiment", async () => {
    const answer = experimentOf();
    const fetchLike = fakeFetch(() => json(answer));
    const lookup = await createApiClient("http://api.test/", fetchLike).experiment("85123A");
    expect(fetchLike.urls).toEqual(["http://api.test/v1/price-decision/85123A?mode=experiment"]);
    expect(lookup).toEqual({ kind: "experiment", answer });
  });

  it("shows no experiment when the bundle runs none (404) or the product is not in it (its decision's note)", async () => {
    const none = fakeFetch(() => json({ error: "experiment: this bundle runs no experiment" }, 404));
    expect(await createApiClient(".", none).experiment("85123A")).toEqual({
      kind: "none",
      note: "Not found: experiment: this bundle runs no experiment.",
    });
    const note = "85123A is not in experiment exp-2026-W10-1a2b3c4d; this is its decision";
    const outside = fakeFetch(() => json({ ...decisionOf(), experiment_note: note }));
    expect(await createApiClient(".", outside).experiment("85123A")).toEqual({ kind: "none", note });
  });

  it("refuses an answer it cannot draw, and reports a server failure", async () => {
    const broken = { ...experimentOf(), arms: [], schedule: [{ week: "2026-W10" }] };
    const error = await failure(createApiClient(".", fakeFetch(() => json(broken))).experiment("85123A"));
    expect(error.kind).toBe("invalid");
    const badState = { ...experimentOf(), state: "winning" };
    expect((await failure(createApiClient(".", fakeFetch(() => json(badState))).experiment("85123A"))).kind).toBe(
      "invalid",
    );
    const server = await failure(createApiClient(".", fakeFetch(() => json({ error: "boom" }, 503))).experiment("X"));
    expect(server.kind).toBe("server");
  });
});
