// GET /v1/launch-decision's answers as the API gives them (src/pricing/serving/launch.py to_json and
// no_similar_json, app.py's 400), for the tests.
import type { LaunchDecision, NoSimilarProduct } from "./launch";

const PRICES = [2.4, 2.7, 2.95, 3.25, 3.5];
const UNITS = [40.5, 36.25, 33.1, 29.4, 26.8];
const COST = 1.2;

function figures(price: number, units: number) {
  return {
    price,
    units,
    sales: Math.round(price * units * 1e4) / 1e4,
    profit: Math.round((price - COST) * units * 1e4) / 1e4,
  };
}

/** "PINK HEART OF WICKER JUG" at a unit cost of 1.20: three look-alikes, the reference the neighbours' markup, the
 * launch price 3.25 (index 3 of the curve), five arms. */
export function launchOf(overrides: Partial<LaunchDecision> = {}): LaunchDecision {
  return {
    description: "PINK HEART OF WICKER JUG",
    per: "week",
    objective: "profit",
    unit_cost: COST,
    reference: { price: 2.95, source: "neighbours_markup" },
    recommended: { ...figures(3.25, 29.4), relative_to_reference: 1.1017 },
    at_reference: figures(2.95, 33.1),
    interval: {
      level: 0.9,
      price: [2.7, 3.4825],
      profit: [41.2, 77.9],
      draws: 400,
      method: "a Bayesian bootstrap over the neighbours (Dirichlet(1) weights x similarity) and a draw of the ...",
    },
    probability_beats_reference: 0.7312,
    decision: "test",
    decision_reason:
      "a new product: its demand is borrowed from 3 similar product(s) (similarity 0.48 to 0.82); launch at 3.25 " +
      "and test the arms around it before settling on a price",
    test: { arms: [2.7, 2.95, 3.25, 3.5], weeks_per_arm: 2, weeks: 8, expected_weekly_cost: 1.2345, expected_cost: 9.876 },
    min_similarity: 0.35,
    neighbours: [
      {
        stockcode: "22776",
        description: "PINK HEART OF WICKER MUG",
        similarity: 0.8234,
        current_price: 2.95,
        unit_cost: 1.3,
        price_scale: 1.083333,
        weight: 0.4512,
        units: [45.0, 40.0, 36.5, 32.0, 29.1],
      },
      {
        stockcode: "21733",
        description: "RED HEART OF WICKER JUG",
        similarity: 0.5511,
        current_price: 3.25,
        unit_cost: 1.25,
        price_scale: 1.041667,
        weight: 0.302,
        units: [38.0, 34.5, 31.0, 28.0, 25.5],
      },
      {
        stockcode: "84406B",
        description: "CREAM HEART OF WICKER SMALL",
        similarity: 0.4502,
        current_price: 4.25,
        unit_cost: 1.6,
        price_scale: 1.333333,
        weight: 0.2468,
        units: [35.25, 31.0, 29.0, 26.5, 24.0],
      },
    ],
    model: "network",
    incidence_model: "incidence_network",
    curve: PRICES.map((price, i) => ({ ...figures(price, UNITS[i]), relative_price: Math.round((price / 2.95) * 1e4) / 1e4 })),
    ...overrides,
  };
}

/** A gibberish description: nothing reaches 0.35; the closest scores 0.2731. */
export function noSimilarOf(overrides: Partial<NoSimilarProduct> = {}): NoSimilarProduct {
  return {
    description: "XYZZY QWERTY",
    decision: "no_similar_product",
    decision_reason:
      "no product of the bundle has a description similar to this one (the closest, 'CREAM DAISY PARTY BAG', " +
      "scores 0.27): at least 0.35 is needed to borrow a product's demand, and no launch price is guessed without it",
    min_similarity: 0.35,
    closest: { stockcode: "22980", description: "CREAM DAISY PARTY BAG", similarity: 0.2731 },
    neighbours: [],
    recommended: null,
    interval: null,
    test: null,
    ...overrides,
  };
}

/** The API's 400 for a blank description (pricing.serving.request.parse_launch). */
export const BLANK_DESCRIPTION = {
  error: "description: missing; describe the new product (e.g. 'RED RETROSPOT MUG')",
};
