import { describe, expect, it } from "vitest";
import { ApiError, type FetchLike } from "./api";
import {
  type LaunchQuery,
  createLaunchClient,
  launchChart,
  launchFailure,
  launchPath,
  launchText,
  measureLabel,
  neighbourRows,
  noSimilarText,
  probabilityText,
  reasonText,
  referenceText,
  testText,
} from "./launch";
import { BLANK_DESCRIPTION, launchOf, noSimilarOf } from "./launchFixture";

const QUERY: LaunchQuery = { description: "PINK HEART OF WICKER JUG", unitCost: "1.2", referencePrice: "" };

/** A fetch that records the URLs asked for and answers with one canned JSON body. */
function fakeFetch(body: unknown, status = 200, headers: Record<string, string> = {}) {
  const urls: string[] = [];
  const fetchLike: FetchLike = async (url) => {
    urls.push(url);
    return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json", ...headers } });
  };
  return Object.assign(fetchLike, { urls });
}

async function failure(promise: Promise<unknown>): Promise<ApiError> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ApiError);
  return error as ApiError;
}

describe("launchPath", () => {
  it("sends the description always and the prices only when typed, under the API's names", () => {
    expect(launchPath(QUERY)).toBe("v1/launch-decision?description=PINK+HEART+OF+WICKER+JUG&unit_cost=1.2");
    expect(launchPath({ description: "RED MUG & JUG", unitCost: " ", referencePrice: "2.95" })).toBe(
      "v1/launch-decision?description=RED+MUG+%26+JUG&reference_price=2.95",
    );
    // a blank description is sent, so the API refuses it with its own words
    expect(launchPath({ description: "  ", unitCost: "", referencePrice: "" })).toBe("v1/launch-decision?description=");
  });
});

describe("the launch client", () => {
  it("returns a decision with the model and cache headers", async () => {
    const body = launchOf();
    const fetchLike = fakeFetch(body, 200, { "X-Model": "network", "X-Model-Version": "v7", "X-Cache": "MISS" });
    const result = await createLaunchClient("http://api.test/", fetchLike).launchDecision(QUERY);
    expect(fetchLike.urls).toEqual([
      "http://api.test/v1/launch-decision?description=PINK+HEART+OF+WICKER+JUG&unit_cost=1.2",
    ]);
    expect(result).toEqual({ answer: body, model: "network", modelVersion: "v7", cache: "MISS" });
  });

  it("returns no_similar_product as an answer, not an error", async () => {
    const body = noSimilarOf();
    const result = await createLaunchClient(".", fakeFetch(body)).launchDecision(QUERY);
    expect(result.answer).toEqual(body);
    const empty = noSimilarOf({ closest: null });
    expect((await createLaunchClient(".", fakeFetch(empty)).launchDecision(QUERY)).answer).toEqual(empty);
  });

  it("accepts a server without the neighbours' curves or costs (they are left undrawn)", async () => {
    const good = launchOf();
    const older = { ...good, neighbours: good.neighbours.map(({ units, unit_cost, price_scale, ...rest }) => rest) };
    const result = await createLaunchClient(".", fakeFetch(older)).launchDecision(QUERY);
    expect(result.answer).toEqual(older);
  });

  it("refuses an answer it cannot draw", async () => {
    const good = launchOf();
    const [first, ...rest] = good.neighbours;
    const broken = [
      { ...good, curve: [] },
      { ...good, decision: "change" },
      { ...good, interval: null },
      { ...good, interval: { ...good.interval, price: [2.7] } },
      { ...good, test: null },
      { ...good, test: { ...good.test, arms: [] } },
      { ...good, neighbours: [] },
      // a neighbour's curve one price short would be drawn against the wrong prices
      { ...good, neighbours: [{ ...first, units: first.units!.slice(1) }, ...rest] },
      { ...good, neighbours: [{ ...first, units: first.units!.map(String) }, ...rest] },
      { ...good, recommended: { ...good.recommended, price: "3.25" } },
      // the no-similar message names the closest product and its similarity: each must be there
      { ...noSimilarOf(), closest: { stockcode: "22980", similarity: 0.2731 } },
      { ...noSimilarOf(), closest: { stockcode: "22980", description: "CREAM DAISY PARTY BAG", similarity: "0.27" } },
      { ...noSimilarOf(), min_similarity: undefined },
    ];
    for (const body of broken) {
      const error = await failure(createLaunchClient(".", fakeFetch(body)).launchDecision(QUERY));
      expect(error.kind).toBe("invalid");
    }
  });

  it("puts a 400 naming a field of the form next to that field, with the API's words", async () => {
    const error = await failure(createLaunchClient(".", fakeFetch(BLANK_DESCRIPTION, 400)).launchDecision(QUERY));
    expect(error.detail).toBe(BLANK_DESCRIPTION.error);
    expect(launchFailure(error)).toEqual({ field: "description", message: BLANK_DESCRIPTION.error });
    const cost = new ApiError("client", "Request refused: unit_cost: must be a positive price.", 400, "unit_cost: must be a positive price");
    expect(launchFailure(cost)).toEqual({ field: "unit_cost", message: "unit_cost: must be a positive price" });
    const reference = new ApiError("client", "x", 400, "reference_price: must be at least 0.01 (a launch price is whole pence)");
    expect(launchFailure(reference).field).toBe("reference_price");
  });

  it("puts every other failure above the form: a 400 naming no field of the form, a 503, a bug", async () => {
    const country = new ApiError("client", "Request refused: country: no held-out context.", 400, "country: no held-out context");
    expect(launchFailure(country)).toEqual({ field: null, message: "Request refused: country: no held-out context." });
    const down = await failure(createLaunchClient(".", fakeFetch({ error: "no bundle is loaded" }, 503)).launchDecision(QUERY));
    expect(launchFailure(down)).toEqual({
      field: null,
      message: "The pricing service failed (HTTP 503): no bundle is loaded. Try again later.",
    });
    expect(launchFailure(new TypeError("x")).field).toBeNull();
  });
});

describe("the decision in words", () => {
  it("gives the launch price and its interval to the penny", () => {
    expect(launchText(launchOf())).toBe(
      "Launch at £3.25 (90% interval for the best price £2.70–£3.48), then test the prices around it.",
    );
  });

  it("names the reference price's source: the price typed, the neighbours' markup, their median price", () => {
    expect(referenceText(launchOf())).toBe(
      "Reference price £2.95: the neighbours' markup over their cost applied to this unit cost of £1.20.",
    );
    expect(referenceText(launchOf({ reference: { price: 3, source: "query" } }))).toBe(
      "Reference price £3.00: the reference price entered here.",
    );
    expect(referenceText(launchOf({ reference: { price: 3.1, source: "neighbours_median" } }))).toBe(
      "Reference price £3.10: the neighbours' median current price, weighted by similarity.",
    );
    expect(referenceText(launchOf({ reference: { price: 3.1, source: "list_price" } }))).toBe(
      "Reference price £3.10: source: list_price.",
    );
  });

  it("gives the probability that the launch price beats the reference, unless they are one price", () => {
    expect(probabilityText(launchOf())).toBe("The launch price beats the reference price in 73.1% of 400 draws.");
    const same = launchOf({ reference: { price: 3.25, source: "query" }, probability_beats_reference: 0 });
    expect(probabilityText(same)).toBe("The launch price is the reference price itself.");
  });

  it("gives the API's reason as a sentence", () => {
    expect(reasonText(launchOf())).toBe(
      "A new product: its demand is borrowed from 3 similar product(s) (similarity 0.48 to 0.82); launch at 3.25 and " +
        "test the arms around it before settling on a price.",
    );
  });

  it("gives the test: arms, weeks each, weeks, the expected cost or gain", () => {
    expect(testText(launchOf())).toBe(
      "Test 4 prices (£2.70, £2.95, £3.25, £3.50), 2 weeks each, 8 weeks: expected to cost £9.88 over the test " +
        "(£1.23 a week) in weekly profit against selling at the launch price £3.25 throughout.",
    );
    const gain = launchOf({ test: { ...launchOf().test, expected_weekly_cost: -0.5, expected_cost: -4 } });
    expect(testText(gain)).toMatch(/: expected to earn £4\.00 more over the test \(£0\.50 a week\) in weekly profit/);
    const perLine = launchOf({ per: "line", objective: "revenue", unit_cost: null });
    expect(testText(perLine)).toMatch(/\(£1\.23 per order line\) in sales per order line against/);
  });

  it("says no similar product was found, naming the closest and its similarity as the API gives it", () => {
    expect(noSimilarText(noSimilarOf())).toBe(
      "No similar product found: the closest, CREAM DAISY PARTY BAG (22980), has similarity 0.2731, below the 0.35 " +
        "needed. No launch price is given.",
    );
    expect(noSimilarText(noSimilarOf({ closest: null }))).toBe(
      "No similar product found: the catalogue has no description to compare it with. No launch price is given.",
    );
  });
});

describe("the neighbours", () => {
  it("lists each with the API's figures and its units at the launch price", () => {
    const rows = neighbourRows(launchOf());
    expect(rows.map((row) => row.stockcode)).toEqual(["22776", "21733", "84406B"]);
    expect(rows[0]).toEqual({
      stockcode: "22776",
      description: "PINK HEART OF WICKER MUG",
      similarity: 0.8234,
      currentPrice: 2.95,
      unitCost: 1.3,
      weight: 0.4512,
      unitsAtLaunch: 32.0, // the launch price 3.25 is the curve's 4th point
    });
    const older = launchOf({ neighbours: launchOf().neighbours.map(({ units, unit_cost, ...rest }) => rest) });
    expect(neighbourRows(older)[2]).toMatchObject({ unitCost: null, unitsAtLaunch: null });
  });

  it("plots the launch curve as the API gives it and each neighbour's units at the new product's prices", () => {
    const answer = launchOf();
    const { rows, series } = launchChart(answer, "units");
    expect(series.map((s) => s.key)).toEqual(["launch", "n0", "n1", "n2"]);
    expect(series[1].name).toBe("22776 PINK HEART OF WICKER MUG");
    expect(rows.map((row) => row.price)).toEqual(answer.curve.map((point) => point.price));
    expect(rows.map((row) => row.launch)).toEqual(answer.curve.map((point) => point.units));
    expect(rows.map((row) => row.n2)).toEqual(answer.neighbours[2].units);
  });

  it("plots profit as (price − unit cost) × units, sales as price × units without a cost", () => {
    const answer = launchOf();
    const { rows } = launchChart(answer, "objective");
    expect(rows.map((row) => row.launch)).toEqual(answer.curve.map((point) => point.profit));
    expect(rows[0].n0).toBeCloseTo((2.4 - 1.2) * 45.0, 9);
    expect(rows[4].n1).toBeCloseTo((3.5 - 1.2) * 25.5, 9);
    const revenue = launchOf({ objective: "revenue", unit_cost: null });
    const sales = launchChart(revenue, "objective").rows;
    expect(sales.map((row) => row.launch)).toEqual(answer.curve.map((point) => point.sales));
    expect(sales[4].n1).toBeCloseTo(3.5 * 25.5, 9);
    expect(measureLabel(answer, "objective")).toBe("Profit per week");
    expect(measureLabel(revenue, "objective")).toBe("Sales per week");
    expect(measureLabel({ ...answer, per: "line" }, "units")).toBe("Units per order line");
  });

  it("leaves a neighbour without a curve out of the chart", () => {
    const [first, ...rest] = launchOf().neighbours;
    const { units, ...bare } = first;
    const { rows, series } = launchChart(launchOf({ neighbours: [bare, ...rest] }), "units");
    expect(series.map((s) => s.key)).toEqual(["launch", "n1", "n2"]);
    expect(rows[0]).not.toHaveProperty("n0");
    expect(units).toHaveLength(5);
  });
});
