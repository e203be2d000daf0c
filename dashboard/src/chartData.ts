// Shapes the API's price bins into what the chart and the figures show. Pure functions, so they are tested
// without a browser.
import type { Objective, PriceBin, PriceDecision } from "./api";

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

// ---- the price decision (GET /v1/price-decision) -----------------------------------------------------

/** What the top panel plots: the objective the API actually used, per week or per order line. */
export interface ObjectiveView {
  kind: Objective;
  weekly: boolean;
  /** "Sales per week", "Profit per week", "Sales per order line", "Profit per order line" */
  label: string;
  /** "weekly sales", "weekly profit", "sales per order line", "profit per order line": for sentences */
  phrase: string;
  /** "a week" or "per order line": after an amount of money */
  per: string;
}

export function objectiveView(decision: Pick<PriceDecision, "objective" | "per">): ObjectiveView {
  const weekly = decision.per === "week";
  const noun = decision.objective === "profit" ? "profit" : "sales";
  const Noun = noun === "profit" ? "Profit" : "Sales";
  return {
    kind: decision.objective,
    weekly,
    label: weekly ? `${Noun} per week` : `${Noun} per order line`,
    phrase: weekly ? `weekly ${noun}` : `${noun} per order line`,
    per: weekly ? "a week" : "per order line",
  };
}

export interface DecisionPoint {
  price: number;
  /** The objective at this price: sales or profit, per week (or per order line without weekly figures). */
  value: number | null;
  /** `value` where the price is within the prices the product sold at, else null: drawn solid. */
  valueInSupport: number | null;
  /**
   * `value` below those prices and above them (two series, so neither joins across the middle), each with the
   * in-support price next to it, so the pieces meet: drawn dashed and grey, since there the model extrapolates.
   */
  valueOutsideLow: number | null;
  valueOutsideHigh: number | null;
  /** Units per week (per order line without weekly figures), split the same way. */
  units: number | null;
  unitsInSupport: number | null;
  unitsOutsideLow: number | null;
  unitsOutsideHigh: number | null;
  inSupport: boolean;
}

/** The objective at one bin: the API's weekly sales or profit; (price − cost) × units when it gave no profit. */
function binObjective(bin: PriceBin, view: ObjectiveView, unitCost: number | null): number | null {
  const units = view.weekly ? (bin.units_per_week ?? null) : bin.quantity;
  if (view.kind === "profit") {
    if (view.weekly && typeof bin.profit_per_week === "number") return bin.profit_per_week;
    return unitCost === null || units === null ? null : (bin.unit_price - unitCost) * units;
  }
  return view.weekly ? (bin.sales_per_week ?? null) : bin.predicted_sales;
}

/**
 * Values in price order split at the support (an interval of prices, so the in-support ones are contiguous): those
 * inside it, those below it with the first inside, those above it with the last inside (see DecisionPoint). With no
 * price inside, every value is `low`.
 */
export function splitBySupport(
  values: readonly (number | null)[],
  inSupport: readonly boolean[],
): { inside: (number | null)[]; low: (number | null)[]; high: (number | null)[] } {
  const first = inSupport.indexOf(true);
  const last = inSupport.lastIndexOf(true);
  const inside = values.map((value, i) => (inSupport[i] ? value : null));
  if (first === -1) return { inside, low: [...values], high: values.map(() => null) };
  const low = values.map((value, i) => (first > 0 && i <= first ? value : null));
  const high = values.map((value, i) => (last < values.length - 1 && i >= last ? value : null));
  return { inside, low, high };
}

/** The decision's curve as chart points in ascending price order (a copy: the response is never reordered). */
export function decisionPoints(decision: PriceDecision): DecisionPoint[] {
  const view = objectiveView(decision);
  const bins = [...decision.curve].sort((a, b) => a.unit_price - b.unit_price);
  // a server older than the support flag: every bin counts as seen
  const support = bins.map((bin) => bin.in_support !== false);
  const values = bins.map((bin) => binObjective(bin, view, decision.unit_cost));
  const units = bins.map((bin) => (view.weekly ? (bin.units_per_week ?? null) : bin.quantity));
  const value = splitBySupport(values, support);
  const unit = splitBySupport(units, support);
  return bins.map((bin, i) => ({
    price: bin.unit_price,
    value: values[i],
    valueInSupport: value.inside[i],
    valueOutsideLow: value.low[i],
    valueOutsideHigh: value.high[i],
    units: units[i],
    unitsInSupport: unit.inside[i],
    unitsOutsideLow: unit.low[i],
    unitsOutsideHigh: unit.high[i],
    inSupport: support[i],
  }));
}

/** The price axis: the prices swept, widened to the current price when that lies outside them. */
export function priceDomain(decision: PriceDecision): [number, number] {
  const prices = [...decision.curve.map((bin) => bin.unit_price), decision.current.price];
  return [Math.min(...prices), Math.max(...prices)];
}

export interface Band {
  /** The interval's ends as the API gave them. */
  low: number;
  high: number;
  level: number;
  /**
   * The ends drawn: the interval, widened about its middle to MIN_BAND_SHARE of the axis so a narrow one shows, and
   * kept on the axis (recharts drops a band that leaves it), so one at an end of the axis widens inwards.
   */
  x1: number;
  x2: number;
}

export const MIN_BAND_SHARE = 0.01;

/** The interval for the optimal price as a band on the price axis; null when the bundle gives no interval. */
export function intervalBand(decision: PriceDecision, domain: [number, number]): Band | null {
  const interval = decision.interval;
  if (!interval) return null;
  const [low, high] = interval.price;
  const least = (domain[1] - domain[0]) * MIN_BAND_SHARE;
  const middle = (low + high) / 2;
  const half = Math.max(high - low, least) / 2;
  let x1 = Math.max(domain[0], middle - half);
  let x2 = Math.min(domain[1], middle + half);
  if (x2 - x1 < least) {
    if (x1 <= domain[0]) x2 = Math.min(domain[1], x1 + least);
    else x1 = Math.max(domain[0], x2 - least);
  }
  return { low, high, level: interval.level, x1, x2 };
}

export interface Markers {
  recommended: { price: number; value: number };
  current: {
    price: number;
    value: number;
    /** What the recommended price is expected to gain over the current one (objective units). */
    gain: number | null;
    relative: number | null;
    /** "Current £1.18 · gain +£32.80 a week (+4.2%)" */
    label: string;
  };
}

/** The recommended and the current price with the objective at each, and the gain the current one is labelled with. */
export function markersOf(decision: PriceDecision): Markers {
  const view = objectiveView(decision);
  const { objective: gain, objective_relative: relative } = decision.expected_change;
  const current = decision.current;
  const share = relative === null ? "" : ` (${formatSignedPercent(relative)})`;
  const gainText = gain === null ? "" : ` · gain ${formatSignedMoney(gain)} ${view.per}${share}`;
  return {
    recommended: { price: decision.recommended.price, value: decision.recommended.objective },
    current: {
      price: current.price,
      value: current.objective,
      gain,
      relative,
      label: `Current ${formatMoney(current.price)}${gainText}`,
    },
  };
}

export interface ObservedPoint {
  price: number;
  /** Sales per week at this list price, or profit per week: (price − unit cost) × units per week. */
  value: number | null;
  unitsPerWeek: number;
  weeks: number;
}

/**
 * The observed weekly history, one point per list-price level, in the objective the chart plots; only with weekly
 * figures (per order line the two do not compare), and only within the price axis: `hidden` counts the others.
 */
export function observedPoints(
  decision: PriceDecision,
  domain: [number, number],
): { points: ObservedPoint[]; hidden: number } {
  const view = objectiveView(decision);
  if (!view.weekly) return { points: [], hidden: 0 };
  const cost = decision.unit_cost;
  const all = decision.observed.map((level) => ({
    price: level.price,
    value:
      view.kind === "profit"
        ? cost === null
          ? null
          : (level.price - cost) * level.units_per_week
        : level.sales_per_week,
    unitsPerWeek: level.units_per_week,
    weeks: level.weeks,
  }));
  const shown = (price: number) => price >= domain[0] - PRICE_ROUNDING && price <= domain[1] + PRICE_ROUNDING;
  const points = all.filter((point) => shown(point.price));
  return { points, hidden: all.length - points.length };
}

/** What hovering an observed point says: "Observed at 1.18 over 26 weeks: 997.83 sales per week". */
export function observedTitle(point: ObservedPoint, view: ObjectiveView, panel: "objective" | "units"): string {
  const weeks = `${point.weeks} week${point.weeks === 1 ? "" : "s"}`;
  const value = point.value === null ? "unknown" : formatPrice(point.value);
  const figure =
    panel === "units"
      ? `${formatQuantity(point.unitsPerWeek)} units per week`
      : `${value} ${view.kind === "profit" ? "profit" : "sales"} per week`;
  return `Observed at ${formatPrice(point.price)} over ${weeks}: ${figure}`;
}

export const OBSERVED_RADIUS: [number, number] = [3, 8];

/** An observed point's radius in pixels: its area grows with the weeks seen at the price (the most: the largest). */
export function observedRadius(weeks: number, mostWeeks: number): number {
  const [least, most] = OBSERVED_RADIUS;
  return least + (most - least) * Math.sqrt(Math.max(weeks, 0) / Math.max(mostWeeks, 1));
}

/** One row of the chart's data: a swept price's curve, an observed level, or both at the same price. */
export interface ChartRow extends Omit<DecisionPoint, "value" | "units" | "inSupport"> {
  /** The observed level at this price, if any: in the plotted objective, in units, and what it rests on. */
  observed: ObservedPoint | null;
  observedValue: number | null;
  observedUnits: number | null;
  observedRadius: number | null;
}

const NO_CURVE = {
  valueInSupport: null,
  valueOutsideLow: null,
  valueOutsideHigh: null,
  unitsInSupport: null,
  unitsOutsideLow: null,
  unitsOutsideHigh: null,
};

/**
 * The curve and the observed levels as one data array in price order: recharts' shared tooltip pairs series by
 * row, so the observed points live in the rows (at a swept price when one matches, else in a row of their own, which
 * the curve's series skip: they connect over empty values).
 */
export function chartRows(points: readonly DecisionPoint[], observed: readonly ObservedPoint[]): ChartRow[] {
  const mostWeeks = Math.max(1, ...observed.map((point) => point.weeks));
  const rows: ChartRow[] = points.map(({ value: _value, units: _units, inSupport: _inSupport, ...curve }) => ({
    ...curve,
    observed: null,
    observedValue: null,
    observedUnits: null,
    observedRadius: null,
  }));
  for (const point of observed) {
    const level = {
      observed: point,
      observedValue: point.value,
      observedUnits: point.unitsPerWeek,
      observedRadius: observedRadius(point.weeks, mostWeeks),
    };
    const same = rows.findIndex((row) => row.observed === null && Math.abs(row.price - point.price) < PRICE_ROUNDING);
    if (same >= 0) rows[same] = { ...rows[same], ...level };
    else rows.push({ price: point.price, ...NO_CURVE, ...level });
  }
  return rows.sort((a, b) => a.price - b.price);
}

/** Which side of a vertical marker its label goes: towards the middle of the axis, so it is never clipped. */
export function labelSide(price: number, domain: [number, number]): "right" | "left" {
  return price <= (domain[0] + domain[1]) / 2 ? "right" : "left";
}

/** A price with the pound sign: £1.18. */
export function formatMoney(value: number): string {
  return `£${formatPrice(value)}`;
}

/** An amount of money with its sign: +£32.80, -£5.00, £0.00. */
export function formatSignedMoney(value: number): string {
  return value.toLocaleString("en-GB", { style: "currency", currency: "GBP", signDisplay: "exceptZero" });
}

/** A fraction as a percentage with its sign: +4.2%, -0.5%, 0%. */
export function formatSignedPercent(value: number): string {
  return value.toLocaleString("en-GB", { style: "percent", maximumFractionDigits: 1, signDisplay: "exceptZero" });
}

/** A fraction as a percentage: 20%, 14.5%. */
export function formatPercent(value: number): string {
  return value.toLocaleString("en-GB", { style: "percent", maximumFractionDigits: 1 });
}
