// The figures rendered to HTML on the server (no browser): which ones show, and the numbers behind them.
import { createElement } from "react";
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import type { PriceDecision } from "./api";
import { objectiveView } from "./chartData";
import { DecisionFigures } from "./DecisionFigures";
import { decisionOf } from "./decisionFixture";

function figures(decision: PriceDecision): Map<string, { value: string | null; html: string }> {
  const html = renderToStaticMarkup(createElement(DecisionFigures, { decision, view: objectiveView(decision) }));
  const shown = new Map<string, { value: string | null; html: string }>();
  for (const [dd] of html.matchAll(/<dd [^>]*>.*?<\/dd>/g)) {
    const testId = /data-testid="([^"]+)"/.exec(dd)?.[1] ?? "";
    shown.set(testId, { value: /data-value="([^"]+)"/.exec(dd)?.[1] ?? null, html: dd });
  }
  return shown;
}

describe("DecisionFigures", () => {
  it("shows the prices and the weekly figures, each with its number in data-value", () => {
    const decision = decisionOf();
    const shown = figures(decision);
    expect([...shown.keys()]).toEqual([
      "price-to-set",
      "optimal-price",
      "current-price",
      "expected-gain",
      "sales-per-week",
      "profit-per-week",
      "units-per-week",
    ]);
    expect(Number(shown.get("price-to-set")?.value)).toBe(decision.price_to_set);
    expect(Number(shown.get("optimal-price")?.value)).toBe(decision.recommended.price);
    expect(Number(shown.get("current-price")?.value)).toBe(decision.current.price);
    expect(Number(shown.get("profit-per-week")?.value)).toBe(decision.recommended.profit);
    const relative = decision.expected_change.objective_relative;
    expect(shown.get("expected-gain")?.html).toContain(`data-relative="${relative}"`);
  });

  it("leaves out the weekly profit without a unit cost, and the change when the API gives none", () => {
    const base = decisionOf();
    const decision = decisionOf({
      objective: "revenue",
      recommended: { ...base.recommended, profit: null },
      expected_change: { ...base.expected_change, objective: null, objective_relative: null },
    });
    const shown = figures(decision);
    expect(shown.has("profit-per-week")).toBe(false);
    expect(shown.has("expected-gain")).toBe(false);
    expect(shown.has("sales-per-week")).toBe(true);
  });

  it("gives the change in money alone, with a blank data-relative, when the current figure is 0", () => {
    const base = decisionOf();
    const gain = figures(decisionOf({ expected_change: { ...base.expected_change, objective_relative: null } }));
    expect(gain.get("expected-gain")?.html).toContain('data-relative=""');
    expect(gain.get("expected-gain")?.html).not.toContain("<small>");
  });

  it("shows figures per order line for a bundle without weekly ones", () => {
    const shown = figures(decisionOf({ per: "order_line" }));
    expect([...shown.keys()]).toEqual([
      "price-to-set",
      "optimal-price",
      "current-price",
      "expected-gain",
      "expected-quantity",
      "expected-sales",
    ]);
  });
});
