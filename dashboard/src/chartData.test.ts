import { describe, expect, it } from "vitest";
import type { PriceBin } from "./api";
import {
  MIN_BAND_SHARE,
  OBSERVED_RADIUS,
  chartRows,
  decisionPoints,
  formatMoney,
  formatPercent,
  formatPrice,
  formatQuantity,
  formatSignedMoney,
  formatSignedPercent,
  intervalBand,
  isWeekly,
  labelSide,
  leavesHistory,
  markersOf,
  objectiveView,
  observedPoints,
  observedRadius,
  observedTitle,
  optimumOf,
  priceDomain,
  splitBySupport,
  sweptRange,
  toChartPoints,
} from "./chartData";
import { curveBin, decisionOf } from "./decisionFixture";

function bin(unit_price: number, quantity: number, optimal_unit_price: number, orders: number | null = null): PriceBin {
  return {
    stockcode: "85123A",
    unit_price,
    quantity,
    quantity_min: quantity / 2,
    quantity_max: quantity * 2,
    predicted_sales: unit_price * quantity,
    optimal_unit_price,
    max_predicted_sales: 0,
    orders_per_week: orders,
    units_per_week: orders === null ? null : orders * quantity,
    sales_per_week: orders === null ? null : orders * quantity * unit_price,
  };
}

// out of price order on purpose: the chart must not depend on the order the API sends
const BINS = [bin(3, 8, 2), bin(1, 12, 2), bin(2, 11, 2)];

describe("toChartPoints", () => {
  it("orders points by price with sales, median quantity and the min-max band", () => {
    expect(toChartPoints(BINS)).toEqual([
      { price: 1, sales: 12, quantity: 12, quantityBand: [6, 24], salesPerWeek: null, unitsPerWeek: null },
      { price: 2, sales: 22, quantity: 11, quantityBand: [5.5, 22], salesPerWeek: null, unitsPerWeek: null },
      { price: 3, sales: 24, quantity: 8, quantityBand: [4, 16], salesPerWeek: null, unitsPerWeek: null },
    ]);
  });

  it("carries weekly sales and units when the API sends them, and says the bins are weekly", () => {
    const weekly = [bin(2, 10, 1, 5), bin(1, 12, 1, 9)];
    expect(isWeekly(weekly)).toBe(true);
    expect(isWeekly(BINS)).toBe(false);
    expect(toChartPoints(weekly)[0]).toMatchObject({ price: 1, salesPerWeek: 108, unitsPerWeek: 108 });
    expect(optimumOf(weekly)).toMatchObject({ price: 1, salesPerWeek: 108, unitsPerWeek: 108 });
  });

  it("leaves the response it was given in its order", () => {
    const before = BINS.map((b) => b.unit_price);
    toChartPoints(BINS);
    expect(BINS.map((b) => b.unit_price)).toEqual(before);
  });

  it("gives no points for no bins", () => {
    expect(toChartPoints([])).toEqual([]);
  });
});

describe("optimumOf", () => {
  it("takes the API's optimum, even where the sales figures alone would pick another bin", () => {
    // the bin at 3 has the highest price x quantity here, but the API said 2: the figures follow the API
    expect(optimumOf(BINS)).toEqual({ price: 2, quantity: 11, sales: 22, salesPerWeek: null, unitsPerWeek: null });
  });

  it("reads quantity and sales from the bin nearest the optimum when prices were rounded apart", () => {
    const rounded = [bin(1.0001, 5, 1.5), bin(1.4999, 9, 1.5), bin(2.0001, 4, 1.5)];
    expect(optimumOf(rounded)).toMatchObject({ price: 1.5, quantity: 9, sales: 1.4999 * 9 });
  });

  it("is null without bins", () => {
    expect(optimumOf([])).toBeNull();
  });
});

describe("sweptRange", () => {
  it("is the lowest and highest price swept", () => {
    expect(sweptRange(BINS)).toEqual({ min: 1, max: 3 });
    expect(sweptRange([])).toBeNull();
  });
});

describe("leavesHistory", () => {
  const history = { price_min: 1, price_max: 2 };

  it("is false inside the prices the product sold at, edges included", () => {
    expect(leavesHistory({ min: 1, max: 2 }, history)).toBe(false);
    expect(leavesHistory({ min: 1.2, max: 1.8 }, history)).toBe(false);
    expect(leavesHistory({ min: 0.99995, max: 2.00004 }, history)).toBe(false); // bin prices are rounded
  });

  it("is true when either end goes past them", () => {
    expect(leavesHistory({ min: 0.9, max: 1.5 }, history)).toBe(true);
    expect(leavesHistory({ min: 1.5, max: 2.1 }, history)).toBe(true);
  });
});

describe("formatting", () => {
  it("shows prices with two decimals and thousands separators, tiny prices with three digits", () => {
    expect(formatPrice(0.0425)).toBe("0.0425");
    expect(formatPrice(0.6612)).toBe("0.66");
    expect(formatPrice(3.3909)).toBe("3.39");
    expect(formatPrice(1234.5)).toBe("1,234.50");
    expect(formatQuantity(10.96)).toBe("11.0");
  });
});

describe("the decision's chart series", () => {
  it("plots weekly profit when the objective is profit, in price order, split at the support", () => {
    const points = decisionPoints(decisionOf());
    expect(points.map((p) => p.price)).toEqual([0.66, 1.0, 1.3, 1.6]);
    const value = points.map((p) => p.value ?? NaN);
    [224, 550, 712, 770].forEach((expected, i) => expect(value[i]).toBeCloseTo(expected, 6));
    expect(points.map((p) => p.inSupport)).toEqual([true, true, true, false]);
    // solid inside the prices sold; dashed above them, from the last price inside so the two pieces meet
    expect(points.map((p) => p.valueInSupport === null)).toEqual([false, false, false, true]);
    expect(points.map((p) => p.valueOutsideHigh === null)).toEqual([true, true, false, false]);
    expect(points.map((p) => p.valueOutsideLow)).toEqual([null, null, null, null]);
    expect(points.map((p) => p.units)).toEqual([1400, 1100, 890, 700]);
    expect(points.map((p) => p.unitsOutsideHigh)).toEqual([null, null, 890, 700]);
  });

  it("plots weekly sales when the objective is revenue", () => {
    const points = decisionPoints(decisionOf({ objective: "revenue" }));
    const value = points.map((p) => p.value ?? NaN);
    [924, 1100, 1157, 1120].forEach((expected, i) => expect(value[i]).toBeCloseTo(expected, 6));
  });

  it("computes profit from the unit cost where the API gave no weekly profit", () => {
    const curve = [curveBin(1, 100, { profit_per_week: null }), curveBin(2, 40, { profit_per_week: undefined })];
    const points = decisionPoints(decisionOf({ curve, unit_cost: 0.25 }));
    expect(points.map((p) => p.value)).toEqual([75, 70]);
  });

  it("plots sales and quantity per order line for a bundle without weekly figures", () => {
    const curve = [curveBin(2, 0, { orders_per_week: null, units_per_week: null, sales_per_week: null })];
    const decision = decisionOf({ curve, per: "order_line", objective: "revenue" });
    expect(decisionPoints(decision)[0]).toMatchObject({ price: 2, value: 50, units: 25 });
    expect(objectiveView(decision)).toMatchObject({
      weekly: false,
      label: "Sales per order line",
      per: "per order line",
    });
  });

  it("draws every bin as seen when the server sends no support flag", () => {
    const curve = [curveBin(1, 100, { in_support: undefined }), curveBin(2, 40, { in_support: undefined })];
    const points = decisionPoints(decisionOf({ curve }));
    expect(points.every((p) => p.inSupport && p.valueOutsideLow === null && p.valueOutsideHigh === null)).toBe(true);
  });

  it("names the objective for the axis, the legend and sentences", () => {
    expect(objectiveView(decisionOf())).toEqual({
      kind: "profit",
      weekly: true,
      label: "Profit per week",
      phrase: "weekly profit",
      per: "a week",
    });
    expect(objectiveView(decisionOf({ objective: "revenue" })).phrase).toBe("weekly sales");
  });
});

describe("splitBySupport", () => {
  it("keeps the in-support values, and those below and above with their in-support neighbour", () => {
    expect(splitBySupport([1, 2, 3, 4, 5], [true, true, true, false, false])).toEqual({
      inside: [1, 2, 3, null, null],
      low: [null, null, null, null, null],
      high: [null, null, 3, 4, 5],
    });
    // two pieces, so the dashed line never joins across the prices sold
    expect(splitBySupport([1, 2, 3, 4, 5], [false, true, true, true, false])).toEqual({
      inside: [null, 2, 3, 4, null],
      low: [1, 2, null, null, null],
      high: [null, null, null, 4, 5],
    });
    expect(splitBySupport([1, 2], [true, true])).toEqual({ inside: [1, 2], low: [null, null], high: [null, null] });
  });

  it("puts every value in one piece when no price lies inside", () => {
    expect(splitBySupport([1, 2], [false, false])).toEqual({ inside: [null, null], low: [1, 2], high: [null, null] });
  });
});

describe("chartRows", () => {
  it("puts the observed levels in the curve's rows, at a swept price or in a row of their own, in price order", () => {
    const decision = decisionOf({ objective: "revenue" });
    const points = decisionPoints(decision);
    const observed = observedPoints(decision, priceDomain(decision)).points; // at 0.68 and 1.18: no bin there
    const withBin = [...observed, { price: 1.3, value: 1100, unitsPerWeek: 850, weeks: 3 }];
    const rows = chartRows(points, withBin);
    expect(rows.map((row) => row.price)).toEqual([0.66, 0.68, 1.0, 1.18, 1.3, 1.6]);
    // a row of its own: no curve there (the curve's series connect over it)
    expect(rows[1]).toMatchObject({ valueInSupport: null, unitsInSupport: null, observedValue: 607.1 });
    expect(rows[1].observedUnits).toBe(892.8);
    // at a swept price: both
    expect(rows[4].valueInSupport).toBeCloseTo(1157, 6);
    expect(rows[4]).toMatchObject({ observedValue: 1100, observedUnits: 850 });
    expect(rows[0]).toMatchObject({ observed: null, observedValue: null, observedRadius: null });
    // the level seen longest is the largest
    expect(rows[3].observedRadius).toBe(OBSERVED_RADIUS[1]);
    expect(rows[1].observedRadius!).toBeLessThan(rows[3].observedRadius!);
  });

  it("is the curve alone without observed levels", () => {
    const points = decisionPoints(decisionOf());
    expect(chartRows(points, []).map((row) => row.price)).toEqual(points.map((point) => point.price));
  });
});

describe("observedRadius", () => {
  it("grows the area with the weeks, from the smallest to the largest radius", () => {
    expect(observedRadius(26, 26)).toBe(OBSERVED_RADIUS[1]);
    expect(observedRadius(0, 26)).toBe(OBSERVED_RADIUS[0]);
    const [least, most] = OBSERVED_RADIUS;
    expect(observedRadius(6.5, 26)).toBeCloseTo(least + (most - least) * 0.5, 9); // a quarter of the weeks
  });
});

describe("priceDomain", () => {
  it("is the prices swept, widened to the current price outside them", () => {
    expect(priceDomain(decisionOf())).toEqual([0.66, 1.6]);
    const above = decisionOf();
    expect(priceDomain({ ...above, current: { ...above.current, price: 2 } })).toEqual([0.66, 2]);
    expect(priceDomain({ ...above, current: { ...above.current, price: 0.5 } })).toEqual([0.5, 1.6]);
  });
});

describe("intervalBand", () => {
  it("spans the interval for the optimal price", () => {
    const band = intervalBand(decisionOf(), [0.66, 1.6]);
    expect(band).toMatchObject({ low: 1.22, high: 1.3, level: 0.9 });
    expect(band?.x1).toBeCloseTo(1.22, 9);
    expect(band?.x2).toBeCloseTo(1.3, 9);
  });

  it("widens an interval of one price about it, so the band still shows", () => {
    const decision = decisionOf();
    const narrow = { ...decision, interval: { ...decision.interval!, price: [0.99, 0.99] as [number, number] } };
    const band = intervalBand(narrow, [0.5, 1.5]);
    expect(band).toMatchObject({ low: 0.99, high: 0.99 });
    expect(band!.x2 - band!.x1).toBeCloseTo(MIN_BAND_SHARE * 1, 9);
    expect((band!.x1 + band!.x2) / 2).toBeCloseTo(0.99, 9);
  });

  it("keeps a narrow interval at an end of the axis on it, widened inwards", () => {
    const decision = decisionOf();
    const atLow = { ...decision, interval: { ...decision.interval!, price: [0.66, 0.66] as [number, number] } };
    expect(intervalBand(atLow, [0.66, 1.66])).toMatchObject({ low: 0.66, high: 0.66, x1: 0.66 });
    expect(intervalBand(atLow, [0.66, 1.66])!.x2).toBeCloseTo(0.67, 9);
    const atHigh = { ...decision, interval: { ...decision.interval!, price: [1.66, 1.66] as [number, number] } };
    expect(intervalBand(atHigh, [0.66, 1.66])).toMatchObject({ x2: 1.66 });
    expect(intervalBand(atHigh, [0.66, 1.66])!.x1).toBeCloseTo(1.65, 9);
  });

  it("is null for a bundle without an uncertainty estimate", () => {
    expect(intervalBand(decisionOf({ interval: null }), [0.66, 1.6])).toBeNull();
  });
});

describe("markersOf", () => {
  it("marks the recommended and the current price at their objective, the current one with the gain", () => {
    expect(markersOf(decisionOf())).toEqual({
      recommended: { price: 1.3, value: 712 },
      current: {
        price: 1.18,
        value: 680,
        gain: 32,
        relative: 0.0471,
        label: "Current £1.18 · gain +£32.00 a week (+4.7%)",
      },
    });
  });

  it("labels a loss, a gain without a relative figure, and no gain", () => {
    const change = decisionOf().expected_change;
    const loss = decisionOf({ expected_change: { ...change, objective: -64.8154, objective_relative: -0.0721 } });
    expect(markersOf(loss).current.label).toBe("Current £1.18 · gain -£64.82 a week (-7.2%)");
    const noBase = decisionOf({ expected_change: { ...change, objective_relative: null } });
    expect(markersOf(noBase).current.label).toBe("Current £1.18 · gain +£32.00 a week");
    const none = decisionOf({ expected_change: { ...change, objective: null, objective_relative: null } });
    expect(markersOf(none).current.label).toBe("Current £1.18");
  });
});

describe("observedPoints", () => {
  it("gives the observed weeks as weekly profit, (price - unit cost) x units per week, for profit", () => {
    const { points, hidden } = observedPoints(decisionOf(), [0.66, 1.6]);
    expect(hidden).toBe(0);
    expect(points.map((p) => p.price)).toEqual([0.68, 1.18]);
    expect(points[0].value).toBeCloseTo((0.68 - 0.5) * 892.8, 9);
    expect(points[1].value).toBeCloseTo((1.18 - 0.5) * 816.2, 9);
    expect(points[1]).toMatchObject({ unitsPerWeek: 816.2, weeks: 26 });
  });

  it("gives weekly sales under the revenue objective", () => {
    const { points } = observedPoints(decisionOf({ objective: "revenue" }), [0.66, 1.6]);
    expect(points.map((p) => p.value)).toEqual([607.1, 963.2]);
  });

  it("leaves out the levels outside the price axis and counts them", () => {
    expect(observedPoints(decisionOf(), [1, 2])).toMatchObject({ points: [{ price: 1.18 }], hidden: 1 });
  });

  it("draws none per order line, where weekly history does not compare", () => {
    expect(observedPoints(decisionOf({ per: "order_line" }), [0.66, 1.6])).toEqual({ points: [], hidden: 0 });
  });
});

describe("observedTitle", () => {
  it("says where, over how many weeks and what was observed", () => {
    const { points } = observedPoints(decisionOf({ objective: "revenue" }), [0.66, 1.6]);
    const view = objectiveView(decisionOf({ objective: "revenue" }));
    expect(observedTitle(points[1], view, "objective")).toBe("Observed at 1.18 over 26 weeks: 963.20 sales per week");
    expect(observedTitle(points[0], view, "units")).toBe("Observed at 0.68 over 6 weeks: 892.8 units per week");
    const once = { ...points[0], weeks: 1, value: 160.7 };
    expect(observedTitle(once, objectiveView(decisionOf()), "objective")).toBe(
      "Observed at 0.68 over 1 week: 160.70 profit per week",
    );
  });
});

describe("labelSide", () => {
  it("puts a marker's label towards the middle of the axis", () => {
    expect(labelSide(0.7, [0.66, 1.6])).toBe("right");
    expect(labelSide(1.5, [0.66, 1.6])).toBe("left");
  });
});

describe("money and percentages", () => {
  it("shows money with the pound sign, gains with their sign, fractions as percentages", () => {
    expect(formatMoney(1.18)).toBe("£1.18");
    expect(formatMoney(1234.5)).toBe("£1,234.50");
    expect(formatSignedMoney(32)).toBe("+£32.00");
    expect(formatSignedMoney(-5)).toBe("-£5.00");
    expect(formatSignedMoney(0)).toBe("£0.00");
    expect(formatSignedPercent(0.0471)).toBe("+4.7%");
    expect(formatSignedPercent(-0.0721)).toBe("-7.2%");
    expect(formatSignedPercent(0)).toBe("0%");
    expect(formatPercent(0.2)).toBe("20%");
    expect(formatPercent(0.145)).toBe("14.5%");
  });
});
