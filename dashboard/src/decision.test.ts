import { describe, expect, it } from "vitest";
import { decisionPath } from "./api";
import {
  type DecisionForm,
  currentPriceOrigin,
  decisionQuery,
  decisionText,
  formatDate,
  ruleLines,
} from "./decision";
import { decisionOf } from "./decisionFixture";
import { BLANK_FORM } from "./decisionFormState";

const HOLD_REASON =
  "the recommended price beats the current one in 56% of the model's draws, below the 80% a change needs";

describe("decisionText", () => {
  it("says to change the price, from what and since when, the gain and how many draws agree", () => {
    expect(decisionText(decisionOf())).toBe(
      "Change the price to £1.30 (from £1.18, set on 9 Dec 2011): +4.7% weekly profit (+£32.00 a week); " +
        "93% of the model's draws agree.",
    );
  });

  it("speaks of sales under the revenue objective and rounds the share of draws", () => {
    const decision = decisionOf({ objective: "revenue", probability_beats_current: 0.8749 });
    expect(decisionText(decision)).toBe(
      "Change the price to £1.30 (from £1.18, set on 9 Dec 2011): +4.7% weekly sales (+£32.00 a week); " +
        "87% of the model's draws agree.",
    );
  });

  it("says to hold with the API's reason when the recommended price is the current one", () => {
    const base = decisionOf();
    const decision = decisionOf({
      decision: "hold",
      decision_reason: "the recommended price is the current price",
      price_to_set: 1.18,
      recommended: { ...base.current },
      expected_change: { units: 0, sales: 0, profit: 0, objective: 0, objective_relative: 0 },
    });
    expect(decisionText(decision)).toBe(
      "Hold at £1.18 (set on 9 Dec 2011): the recommended price is the current price.",
    );
  });

  it("says to hold, and what the unused best price would give, when the evidence is too weak", () => {
    const decision = decisionOf({
      decision: "hold",
      decision_reason: HOLD_REASON,
      price_to_set: 1.18,
      probability_beats_current: 0.56,
    });
    expect(decisionText(decision)).toBe(
      `Hold at £1.18 (set on 9 Dec 2011): ${HOLD_REASON}. The model's best price under these rules, £1.30, ` +
        "would give +4.7% weekly profit (+£32.00 a week).",
    );
  });

  it("says to test before changing, with the arms, the weeks and the expected cost, for a test decision", () => {
    const reason = "the recommended price lies outside the prices the product sold at: test prices around the current one before changing";
    const test = { arms: [0.95, 1.06, 1.18, 1.3, 1.42], weeks_per_arm: 2, weeks: 10, expected_weekly_cost: 3.5, expected_cost: 35 };
    const decision = decisionOf({ decision: "test", decision_reason: reason, price_to_set: 1.18, test });
    expect(decisionText(decision)).toBe(
      "Test before changing: keep £1.18 (set on 9 Dec 2011) and try £0.95, £1.06, £1.18, £1.30, £1.42, 2 weeks " +
        `each (10 weeks; expected to cost £3.50 a week against holding): ${reason}. The model's best price under ` +
        "these rules, £1.30, would give +4.7% weekly profit (+£32.00 a week).",
    );
    const gaining = decisionOf({ decision: "test", decision_reason: reason, price_to_set: 1.18, test: { ...test, expected_weekly_cost: -2 } });
    expect(decisionText(gaining)).toContain("expected to earn £2.00 a week more than holding");
  });

  it("says a change is judged on the gain alone for a bundle without draws", () => {
    const decision = decisionOf({ probability_beats_current: null, interval: null });
    expect(decisionText(decision)).toBe(
      "Change the price to £1.30 (from £1.18, set on 9 Dec 2011): +4.7% weekly profit (+£32.00 a week); " +
        "judged on the expected gain alone: this bundle carries no uncertainty estimate.",
    );
  });

  it("gives the gain in money alone when the current figure is 0, and the median when no list price is known", () => {
    const base = decisionOf();
    const decision = decisionOf({
      current: { ...base.current, date: null, source: "median_price" },
      expected_change: { ...base.expected_change, objective_relative: null },
    });
    expect(decisionText(decision)).toBe(
      "Change the price to £1.30 (from £1.18, the median price in the training window): +£32.00 weekly profit; " +
        "93% of the model's draws agree.",
    );
    expect(currentPriceOrigin(base.current)).toBe("set on 9 Dec 2011");
  });
});

describe("ruleLines", () => {
  it("says which rules bind and what each costs a week", () => {
    expect(ruleLines(decisionOf())).toEqual([
      { rule: "ceiling", binding: true, text: "Ceiling £1.30: binds, costs £26.00 a week" },
      { rule: "max_change", binding: false, text: "Largest change 20%: does not bind" },
    ]);
  });

  it("names every rule with its value", () => {
    const decision = decisionOf({
      rules: [
        { rule: "floor", value: 1.5, binding: false, cost: 0 },
        { rule: "price_ending", value: 0.99, binding: true, cost: 71.3772 },
        { rule: "min_margin", value: 0.3, binding: false, cost: 0 },
        { rule: "support", value: null, binding: true, cost: 5 },
      ],
      support: { low: 0.627, high: 1.6, tolerance: 0.05, recommendation_outside: false, restricted_to_support: true },
    });
    expect(ruleLines(decision).map((line) => line.text)).toEqual([
      "Floor £1.50: does not bind",
      "Price ending .99: binds, costs £71.38 a week",
      "Smallest margin 30%: does not bind",
      "Within the prices sold (£0.63–£1.60): binds, costs £5.00 a week",
    ]);
  });

  it("costs a rule per order line for a bundle without weekly figures", () => {
    const line = ruleLines(decisionOf({ per: "order_line" }))[0];
    expect(line.text).toBe("Ceiling £1.30: binds, costs £26.00 per order line");
  });
});

const BLANK = BLANK_FORM; // the form as the page first shows it

describe("decisionQuery", () => {
  it("leaves blank inputs to the API's defaults", () => {
    expect(decisionQuery(BLANK, null)).toEqual({ numPriceBins: 100, objective: "revenue" });
    expect(decisionPath("85127A", decisionQuery(BLANK, null))).toBe(
      "v1/price-decision/85127A?num_price_bins=100&objective=revenue",
    );
  });

  it("sends the range, the objective, the cost and every rule, percentages as fractions", () => {
    const form: DecisionForm = {
      low: "0.5",
      high: "2",
      bins: "50",
      objective: "profit",
      unitCost: "0.45",
      floor: "0.8",
      ceiling: "1.6",
      maxChangePercent: "7",
      priceEnding: "0.99",
      minMarginPercent: "14.5",
    };
    const query = decisionQuery(form, null);
    expect(query).toEqual({
      unitpriceMin: 0.5,
      unitpriceMax: 2,
      numPriceBins: 50,
      objective: "profit",
      unitCost: 0.45,
      floor: 0.8,
      ceiling: 1.6,
      maxChange: 0.07, // not 0.07000000000000001
      priceEnding: 0.99,
      minMargin: 0.145,
    });
    expect(decisionPath("85127A", query)).toBe(
      "v1/price-decision/85127A?unitprice_min=0.5&unitprice_max=2&num_price_bins=50&objective=profit" +
        "&unit_cost=0.45&floor=0.8&ceiling=1.6&max_change=0.07&price_ending=0.99&min_margin=0.145",
    );
  });

  it("sends a floor above the ceiling as given: the API names the conflict", () => {
    expect(decisionQuery({ ...BLANK, floor: "2", ceiling: "1" }, null)).toMatchObject({ floor: 2, ceiling: 1 });
  });

  it("sends the unit cost only when it differs from the cost file's, which the input shows", () => {
    const form = { ...BLANK, objective: "profit" as const, unitCost: "0.45" };
    expect(decisionQuery(form, 0.45)).not.toHaveProperty("unitCost");
    expect(decisionQuery(form, 0.4)).toMatchObject({ unitCost: 0.45 });
    expect(decisionQuery({ ...form, unitCost: " " }, 0.45)).not.toHaveProperty("unitCost");
  });
});

describe("formatDate", () => {
  it("writes the API's dates as people do, and leaves anything else as it came", () => {
    expect(formatDate("2011-12-09")).toBe("9 Dec 2011");
    expect(formatDate("someday")).toBe("someday");
  });
});
