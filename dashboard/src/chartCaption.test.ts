import { describe, expect, it } from "vitest";
import { type Band, objectiveView } from "./chartData";
import { chartCaption } from "./chartCaption";
import { decisionOf } from "./decisionFixture";

const BAND: Band = { low: 1.22, high: 1.3, level: 0.9, x1: 1.22, x2: 1.3 };
const weeklyProfit = objectiveView(decisionOf());
const weeklySales = objectiveView(decisionOf({ objective: "revenue" }));
const perLine = objectiveView(decisionOf({ objective: "revenue", per: "order_line" }));

describe("chartCaption", () => {
  it("names the objective plotted, with the unit cost in the margin under profit only", () => {
    expect(chartCaption(weeklyProfit, null, false, 0)).toContain("predicted weekly profit ((price − unit cost) ×");
    expect(chartCaption(weeklySales, null, false, 0)).toContain("predicted weekly sales (price ×");
    expect(chartCaption(weeklySales, null, false, 0)).not.toContain("unit cost");
  });

  it("describes the per-order-line panels for a bundle without weekly figures", () => {
    const caption = chartCaption(perLine, null, false, 0);
    expect(caption).toContain("Above: predicted sales per order line. Below: the median quantity per order line.");
    expect(caption).not.toContain("weeks observed");
  });

  it("gives the interval's level when there is a band", () => {
    expect(chartCaption(weeklySales, { ...BAND, level: 0.8 }, false, 0)).toContain(
      "the recommended price, in its 80% interval (shaded).",
    );
    expect(chartCaption(weeklySales, null, false, 0)).toContain("Red dashed line: the recommended price.");
  });

  it("mentions the extrapolated prices and the hidden price levels only when there are some", () => {
    const plain = chartCaption(weeklySales, BAND, false, 0);
    expect(plain).not.toContain("Grey dashed");
    expect(plain).not.toContain("outside the prices shown");
    expect(chartCaption(weeklySales, BAND, true, 0)).toContain("Grey dashed: prices outside");
    expect(chartCaption(weeklySales, BAND, false, 1)).toContain("1 observed price level lies outside the prices");
    expect(chartCaption(weeklySales, BAND, false, 3)).toContain("3 observed price levels lie outside the prices");
  });
});
