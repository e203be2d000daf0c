// Shapes the API's price bins into what the chart and the figures show. Pure functions, so they are tested
// without a browser.
import type { PriceBin } from "./api";

export interface ChartPoint {
  price: number;
  sales: number;
  quantity: number;
  /** [min, max] of the predicted quantity across the sampled contexts: recharts draws it as a band. */
  quantityBand: [number, number];
  /** Price × order lines per week × units per line; null without an incidence model. */
  salesPerWeek: number | null;
  unitsPerWeek: number | null;
}

export interface Optimum {
  price: number;
  quantity: number;
  sales: number;
  salesPerWeek: number | null;
  unitsPerWeek: number | null;
}

/** Whether the bins carry weekly figures (the bundle has an incidence model): the chart then shows weekly sales. */
export function isWeekly(bins: readonly PriceBin[]): boolean {
  return bins.length > 0 && bins.every((bin) => typeof bin.sales_per_week === "number");
}

/** Points in ascending price order; a copy, so the response held in state is never reordered. */
export function toChartPoints(bins: readonly PriceBin[]): ChartPoint[] {
  return [...bins]
    .sort((a, b) => a.unit_price - b.unit_price)
    .map((bin) => ({
      price: bin.unit_price,
      sales: bin.predicted_sales,
      quantity: bin.quantity,
      quantityBand: [bin.quantity_min, bin.quantity_max],
      salesPerWeek: bin.sales_per_week ?? null,
      unitsPerWeek: bin.units_per_week ?? null,
    }));
}

/**
 * The bin the API chose as optimal. The API's own `optimal_unit_price` decides, not a re-sort here, so
 * the figures always agree with the API (on ties, too).
 */
export function optimumOf(bins: readonly PriceBin[]): Optimum | null {
  if (bins.length === 0) return null;
  const target = bins[0].optimal_unit_price;
  const best = bins.reduce((closest, bin) =>
    Math.abs(bin.unit_price - target) < Math.abs(closest.unit_price - target) ? bin : closest,
  );
  return {
    price: target,
    quantity: best.quantity,
    sales: best.predicted_sales,
    salesPerWeek: best.sales_per_week ?? null,
    unitsPerWeek: best.units_per_week ?? null,
  };
}

/** The price range actually swept, to show in the inputs after a request that used the API's default. */
export function sweptRange(bins: readonly PriceBin[]): { min: number; max: number } | null {
  if (bins.length === 0) return null;
  const prices = bins.map((bin) => bin.unit_price);
  return { min: Math.min(...prices), max: Math.max(...prices) };
}

const PRICE_ROUNDING = 1e-4; // the API rounds bin prices to four decimals

/** Whether a swept range leaves the prices the product sold at: the model extrapolates out there. */
export function leavesHistory(range: { min: number; max: number }, history: { price_min: number; price_max: number }) {
  return range.min < history.price_min - PRICE_ROUNDING || range.max > history.price_max + PRICE_ROUNDING;
}

/** Two decimals, as on a price tag; three significant digits for the rare price below 0.1. */
export function formatPrice(value: number): string {
  if (value > 0 && value < 0.1) return value.toLocaleString("en-GB", { maximumSignificantDigits: 3 });
  return value.toLocaleString("en-GB", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}

export function formatQuantity(value: number): string {
  return value.toLocaleString("en-GB", { minimumFractionDigits: 1, maximumFractionDigits: 1 });
}
