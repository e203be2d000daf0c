import { describe, expect, it } from "vitest";
import type { PriceBin } from "./api";
import {
  formatPrice,
  formatQuantity,
  isWeekly,
  leavesHistory,
  optimumOf,
  sweptRange,
  toChartPoints,
} from "./chartData";

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
