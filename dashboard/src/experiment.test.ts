import { describe, expect, it } from "vitest";
import { experimentRows, experimentText, holdoutText, realisedSeries, slopeText } from "./experiment";
import { experimentOf } from "./experimentFixture";

describe("experimentText", () => {
  it("gives the week, the price to set, the arm, its propensity, the binding guardrail and the reason", () => {
    expect(experimentText(experimentOf())).toBe(
      "Week 3 of 10 (2026-W12): set £2.99, arm 2 of 5 (propensity 20%); binding guardrail: step. " +
        "Arm 2 of 5 (2.66 GBP), capped by the weekly step, in week 3 of 10.",
    );
  });

  it("says a holdout product keeps its status-quo price", () => {
    const answer = experimentOf({ holdout: true, arm: null, propensity: null, price: 2.95, state: "holdout" });
    expect(experimentText(answer)).toBe("Week 3 of 10 (2026-W12): set £2.95, its status-quo price: it is in the holdout.");
  });

  it("says when the week lies outside the experiment, with one full stop after a reason that has its own", () => {
    const answer = experimentOf({
      week: "2026-W30",
      week_index: null,
      arm: null,
      propensity: null,
      price: 2.95,
      binding_guardrail: "outside the experiment's weeks",
      reason: "the experiment ended in 2026-W19.",
    });
    expect(experimentText(answer)).toBe(
      "Week 2026-W30: set £2.95. The experiment ended in 2026-W19.",
    );
  });
});

describe("experimentRows", () => {
  it("joins each planned week with its read-back week and marks this week", () => {
    const rows = experimentRows(experimentOf());
    expect(rows).toHaveLength(10);
    expect(rows[0]).toEqual({
      week: "2026-W10",
      arm: 4,
      planned: 3.18,
      binding: "step",
      current: false,
      charged: 3.18,
      realised: 646.0,
      expected: 612.5,
    });
    expect(rows.filter((row) => row.current).map((row) => row.week)).toEqual(["2026-W12"]);
    // not read back yet: no figures, not zeros
    expect(rows[2]).toMatchObject({ charged: null, realised: null, expected: null });
  });

  it("has no figures at all before any week was read back", () => {
    const rows = experimentRows(experimentOf({ results: null }));
    expect(rows.every((row) => row.realised === null && row.charged === null)).toBe(true);
  });
});

describe("results in words", () => {
  it("orders the chart's weeks, the pre-period first", () => {
    const results = experimentOf().results!;
    const shuffled = { ...results, weeks: [...results.weeks].reverse() };
    expect(realisedSeries(shuffled).map((point) => point.week)).toEqual(["2026-W09", "2026-W10", "2026-W11"]);
  });

  it("reads the holdout comparison's interval: across zero, above, below", () => {
    const results = experimentOf().results!;
    expect(holdoutText(results, true)).toBe(
      "Tested products against the holdout: +£6.40 weekly profit per product (90% interval -£22.70 to +£35.50): " +
        "not distinguishable from no change.",
    );
    const above = { ...results, did: { ...results.did!, low: 1, high: 9, estimate: 5 } };
    expect(holdoutText(above, false)).toMatch(/weekly sales .*: the tested prices earned more\.$/);
    const below = { ...results, did: { ...results.did!, low: -9, high: -1, estimate: -5 } };
    expect(holdoutText(below, true)).toMatch(/the tested prices earned less\.$/);
    expect(holdoutText({ ...results, did: null }, true)).toBeNull();
    expect(holdoutText(null, true)).toBeNull();
  });

  it("gives the prior and posterior elasticity with their intervals", () => {
    expect(slopeText(experimentOf().results)).toBe(
      "Elasticity of weekly units (90% intervals): the model's 1.40 (1.10–1.70), after the test weeks 1.62 (1.35–1.89).",
    );
  });
});
