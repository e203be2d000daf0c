// An experiment answer as GET /v1/price-decision/<stockcode>?mode=experiment returns it, for the tests.
import type { ExperimentAnswer } from "./api";

/** 85123A in week 3 of a 10-week test of five arms around £2.95, two weeks read back. */
export function experimentOf(overrides: Partial<ExperimentAnswer> = {}): ExperimentAnswer {
  const arms = [2.36, 2.66, 2.95, 3.25, 3.54];
  const order = [3, 3, 1, 1, 4, 4, 0, 0, 2, 2];
  const prices = [3.18, 3.25, 2.99, 2.75, 2.97, 3.2, 2.95, 2.72, 2.95, 2.95];
  return {
    stockcode: "85123A",
    mode: "experiment",
    experiment: {
      id: "exp-2026-W10-1a2b3c4d",
      start_week: "2026-W10",
      weeks: 10,
      end_week: "2026-W19",
      objective: "profit",
      holdout_share: 0.1,
      band: 0.2,
      step: 0.08,
      status: "running",
    },
    week: "2026-W12",
    week_index: 2,
    price: 2.99,
    status_quo_price: 2.95,
    in_experiment: true,
    holdout: false,
    arm: 1,
    arms,
    propensity: 0.2,
    binding_guardrail: "step",
    reason: "arm 2 of 5 (2.66 GBP), capped by the weekly step, in week 3 of 10",
    state: "learning",
    schedule: order.map((arm, i) => ({
      week: `2026-W${10 + i}`,
      arm,
      price: prices[i],
      binding: prices[i] === arms[arm] ? null : "step",
    })),
    results: {
      updated: "2026-03-23T06:00:00Z",
      weeks: [
        { week: "2026-W09", price: 2.95, units: 410, realised: 604.75, expected: 590.0 },
        { week: "2026-W10", price: 3.18, units: 380, realised: 646.0, expected: 612.5 },
        { week: "2026-W11", price: 3.25, units: 350, realised: 630.0, expected: 618.0 },
      ],
      slope: { prior: [1.4, 1.1, 1.7], posterior: [1.62, 1.35, 1.89] },
      did: { estimate: 6.4, low: -22.7, high: 35.5, unit: "GBP per product-week", scope: "all tested products vs holdout" },
    },
    ...overrides,
  };
}
