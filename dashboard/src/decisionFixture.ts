// A price decision as GET /v1/price-decision returns it (trimmed from a real answer), for the tests.
import type { PriceBin, PriceDecision } from "./api";

export function curveBin(unit_price: number, units_per_week: number, overrides: Partial<PriceBin> = {}): PriceBin {
  const orders = units_per_week / 25;
  return {
    stockcode: "85127A",
    unit_price,
    quantity: 25,
    quantity_min: 5,
    quantity_max: 200,
    predicted_sales: unit_price * 25,
    optimal_unit_price: 1.3,
    max_predicted_sales: 32.5,
    orders_per_week: orders,
    units_per_week,
    sales_per_week: unit_price * units_per_week,
    in_support: true,
    profit_per_week: (unit_price - 0.5) * units_per_week,
    ...overrides,
  };
}

/** 85127A with a unit cost of 0.50 and the profit objective: change from 1.18 to 1.30 (+5%), 93% of draws agree. */
export function decisionOf(overrides: Partial<PriceDecision> = {}): PriceDecision {
  return {
    stockcode: "85127A",
    description: "ORANGE STRAWBERRY STORAGE JAR",
    per: "week",
    objective: "profit",
    objective_note: null,
    unit_cost: 0.5,
    unit_cost_source: "query",
    current: {
      price: 1.18,
      units: 1000,
      sales: 1180,
      profit: 680,
      objective: 680,
      in_support: true,
      orders: 40,
      date: "2011-12-09",
      source: "last_list_price",
    },
    recommended: { price: 1.3, units: 890, sales: 1157, profit: 712, objective: 712, in_support: true, orders: 36 },
    unconstrained: { price: 1.4, units: 820, sales: 1148, profit: 738, objective: 738, in_support: true, orders: 33 },
    rules: [
      { rule: "ceiling", value: 1.3, binding: true, cost: 26 },
      { rule: "max_change", value: 0.2, binding: false, cost: 0 },
    ],
    interval: {
      level: 0.9,
      price: [1.22, 1.3],
      objective: [690, 735],
      draws: 400,
      method: "posterior draws",
    },
    probability_beats_current: 0.93,
    expected_change: { units: -110, sales: -23, profit: 32, objective: 32, objective_relative: 0.0471 },
    decision: "change",
    decision_reason: "the recommended price beats the current one in 93% of the model's draws",
    price_to_set: 1.3,
    test: null,
    support: { low: 0.627, high: 1.575, tolerance: 0.05, recommendation_outside: false, restricted_to_support: false },
    model: "network",
    incidence_model: "incidence_network",
    observed: [
      { price: 0.68, weeks: 6, orders_per_week: 24.8, units_per_week: 892.8, sales_per_week: 607.1 },
      { price: 1.18, weeks: 26, orders_per_week: 33.1, units_per_week: 816.2, sales_per_week: 963.2 },
    ],
    // out of price order on purpose; the last price lies outside the support
    curve: [curveBin(1.3, 890), curveBin(0.66, 1400), curveBin(1.0, 1100), curveBin(1.6, 700, { in_support: false })],
    ...overrides,
  };
}
