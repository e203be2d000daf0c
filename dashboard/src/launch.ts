// A new product's launch price (GET /v1/launch-decision, src/pricing/serving/launch.py): the client, the checks
// on its answer, and the answer in words, rows and chart points. Pure functions apart from the client's fetch, so
// they are tested without a browser.
import { ApiError, type FetchLike, type Objective, type PriceTest, getJson } from "./api";
import { formatMoney, formatPercent } from "./chartData";

/** The figures at one price of the launch curve: per week, or per order line when `per` is "line". */
export interface LaunchFigures {
  price: number;
  units: number;
  /** price × units */
  sales: number;
  /** (price − unit cost) × units; absent without a unit cost */
  profit?: number;
}

export interface LaunchCurvePoint extends LaunchFigures {
  /** price / the reference price */
  relative_price: number;
}

/** One of the catalogue's products the launch borrows demand from. */
export interface LaunchNeighbour {
  stockcode: string;
  description: string;
  /** cosine similarity of the descriptions, 0..1 (at least min_similarity) */
  similarity: number;
  /** its current price, in the data's currency per unit */
  current_price: number;
  /** its share of the mix: similarity over the neighbours' total, summing to 1 */
  weight: number;
  /** its unit cost in the bundle's cost file; null without one (absent from servers before the markup) */
  unit_cost?: number | null;
  /** its price for a new-product price of 1 */
  price_scale?: number;
  /** its demand mapped onto the new product's prices: aligned with `curve`, in the same unit as curve[i].units
   * (per week when `per` is "week"); absent from servers before the field */
  units?: number[];
}

/** Where the price scale comes from: the price typed in, the neighbours' markup over cost applied to this unit
 * cost, or the neighbours' similarity-weighted median current price. */
export type ReferenceSource = "query" | "neighbours_markup" | "neighbours_median";

export interface LaunchInterval {
  level: number;
  /** the 90% interval of the best price over the draws */
  price: [number, number];
  draws: number;
  method: string;
  /** the objective at the launch price, under the objective's own name */
  profit?: [number, number];
  revenue?: [number, number];
}

/** GET /v1/launch-decision when similar products were found: always `test`. */
export interface LaunchDecision {
  description: string;
  per: "week" | "line";
  objective: Objective;
  unit_cost: number | null;
  reference: { price: number; source: ReferenceSource | string };
  recommended: LaunchFigures & { relative_to_reference: number };
  at_reference: LaunchFigures;
  interval: LaunchInterval;
  /** the share of draws in which the launch price earns more than the reference price (0 when they are one) */
  probability_beats_reference: number;
  decision: "test";
  decision_reason: string;
  test: PriceTest;
  min_similarity: number;
  neighbours: LaunchNeighbour[];
  model: string | null;
  incidence_model: string | null;
  curve: LaunchCurvePoint[];
}

/** GET /v1/launch-decision when no description is similar enough: no price, the closest product named. */
export interface NoSimilarProduct {
  description: string;
  decision: "no_similar_product";
  decision_reason: string;
  min_similarity: number;
  /** null for an empty catalogue */
  closest: { stockcode: string; description: string; similarity: number } | null;
  neighbours: [];
  recommended: null;
  interval: null;
  test: null;
}

export type LaunchAnswer = LaunchDecision | NoSimilarProduct;

export interface LaunchResult {
  answer: LaunchAnswer;
  /** response headers; null when absent (a cross-origin API that does not expose them) */
  model: string | null;
  modelVersion: string | null;
  cache: string | null;
}

/** The form's values as typed: the API reads and checks them (one set of rules, and its 400 names the field). */
export interface LaunchQuery {
  description: string;
  unitCost: string;
  referencePrice: string;
}

/** The form's fields, as the API names them in a 400 ("description: missing; ..."). */
export type LaunchField = "description" | "unit_cost" | "reference_price";
const FIELDS: [keyof LaunchQuery, LaunchField][] = [
  ["description", "description"],
  ["unitCost", "unit_cost"],
  ["referencePrice", "reference_price"],
];

/** `v1/launch-decision?description=…[&unit_cost=…&reference_price=…]`: the description always (a blank one is the
 * API's to refuse), a blank price left out (the API's default: revenue without a cost, the neighbours' scale). */
export function launchPath(query: LaunchQuery): string {
  const params = new URLSearchParams();
  for (const [field, name] of FIELDS) {
    const value = query[field].trim();
    if (value || name === "description") params.set(name, value);
  }
  return `v1/launch-decision?${params}`;
}

export interface LaunchClient {
  launchDecision(query: LaunchQuery, signal?: AbortSignal): Promise<LaunchResult>;
}

/** The launch route's client over `base` (as createApiClient's): an answer checked before it is drawn, else an
 * ApiError of kind "invalid"; HTTP errors as ApiError with the API's own text in `detail`. */
export function createLaunchClient(base: string, fetchImpl: FetchLike = (url, init) => fetch(url, init)): LaunchClient {
  return {
    async launchDecision(query, signal) {
      const { body, headers } = await getJson(base, fetchImpl, launchPath(query), signal);
      if (!isLaunchDecision(body) && !isNoSimilar(body)) {
        throw new ApiError("invalid", "The pricing service returned no usable launch decision for this description.");
      }
      return {
        answer: body,
        model: headers.get("X-Model"),
        modelVersion: headers.get("X-Model-Version"),
        cache: headers.get("X-Cache"),
      };
    },
  };
}

/** How a failed request is shown: a 400 naming one of the form's fields next to that field, with the API's words;
 * anything else (another 400, a 5xx, the network) above the form. */
export type LaunchFailure = { field: LaunchField; message: string } | { field: null; message: string };

export function launchFailure(error: unknown): LaunchFailure {
  if (error instanceof ApiError && error.status === 400 && error.detail) {
    const named = /^([a-z_]+):/.exec(error.detail)?.[1];
    const field = FIELDS.find(([, name]) => name === named)?.[1];
    if (field) return { field, message: error.detail };
  }
  if (error instanceof ApiError) return { field: null, message: error.message };
  return { field: null, message: "Something went wrong in the dashboard; reload the page." };
}

// ---- the answer in words -------------------------------------------------------------------------------------

/** The objective the API used, in words: "weekly profit", "sales per order line". */
export function objectivePhrase(answer: LaunchDecision): string {
  const noun = answer.objective === "profit" ? "profit" : "sales";
  return answer.per === "week" ? `weekly ${noun}` : `${noun} per order line`;
}

/** The API's reason as a sentence of its own: capitalised, one full stop. */
function sentence(text: string): string {
  const bare = text.trim().replace(/\.$/, "");
  return bare ? `${bare[0].toUpperCase()}${bare.slice(1)}.` : "";
}

/** "Launch at £3.25 (90% interval for the best price £2.80–£3.90), then test the prices around it." */
export function launchText(answer: LaunchDecision): string {
  const { interval } = answer;
  const [low, high] = interval.price;
  return (
    `Launch at ${formatMoney(answer.recommended.price)} (${Math.round(interval.level * 100)}% interval for the best ` +
    `price ${formatMoney(low)}–${formatMoney(high)}), then test the prices around it.`
  );
}

/** The decision's reason as the API gives it, as a sentence. */
export function reasonText(answer: LaunchAnswer): string {
  return sentence(answer.decision_reason);
}

const SOURCE_WORDS: Record<string, (answer: LaunchDecision) => string> = {
  query: () => "the reference price entered here",
  neighbours_markup: (answer) =>
    `the neighbours' markup over their cost applied to this unit cost` +
    (answer.unit_cost === null ? "" : ` of ${formatMoney(answer.unit_cost)}`),
  neighbours_median: () => "the neighbours' median current price, weighted by similarity",
};

/** "Reference price £3.00: the neighbours' markup over their cost applied to this unit cost of £1.20." An unknown
 * source (a newer server) is named as the API names it. */
export function referenceText(answer: LaunchDecision): string {
  const { price, source } = answer.reference;
  const words = SOURCE_WORDS[source]?.(answer) ?? `source: ${source}`;
  return `Reference price ${formatMoney(price)}: ${words}.`;
}

/** "The launch price beats the reference price in 73.3% of 400 draws.", or that they are one price. */
export function probabilityText(answer: LaunchDecision): string {
  if (samePrice(answer.recommended.price, answer.reference.price)) {
    return "The launch price is the reference price itself.";
  }
  return (
    `The launch price beats the reference price in ${formatPercent(answer.probability_beats_reference)} of ` +
    `${answer.interval.draws} draws.`
  );
}

/** "Test 5 prices (£2.80, …, £3.70), 2 weeks each, 10 weeks: expected to cost £12.30 over the test (£1.23 a week)
 * against selling at the launch price £3.25 throughout." A negative cost is an expected gain. */
export function testText(answer: LaunchDecision): string {
  const { test } = answer;
  const arms = test.arms.map(formatMoney).join(", ");
  const total = test.expected_cost;
  const weekly = test.expected_weekly_cost;
  const per = answer.per === "week" ? "a week" : "per order line";
  const cost =
    total >= 0
      ? `expected to cost ${formatMoney(total)} over the test (${formatMoney(weekly)} ${per})`
      : `expected to earn ${formatMoney(-total)} more over the test (${formatMoney(-weekly)} ${per})`;
  return (
    `Test ${test.arms.length} prices (${arms}), ${test.weeks_per_arm} weeks each, ${test.weeks} weeks: ${cost} ` +
    `in ${objectivePhrase(answer)} against selling at the launch price ${formatMoney(answer.recommended.price)} ` +
    `throughout.`
  );
}

/** "No similar product found: the closest, WHITE MUG (22222), has similarity 0.2700, below the 0.35 needed. No
 * launch price is given." */
export function noSimilarText(answer: NoSimilarProduct): string {
  const { closest } = answer;
  const near = closest
    ? `the closest, ${closest.description} (${closest.stockcode}), has similarity ${closest.similarity}, below the ` +
      `${answer.min_similarity} needed`
    : "the catalogue has no description to compare it with";
  return `No similar product found: ${near}. No launch price is given.`;
}

// ---- the neighbours' curves ----------------------------------------------------------------------------------

/** What the chart plots against the price: units, or the objective the API used (profit, else sales). */
export type LaunchMeasure = "units" | "objective";

/** The chart's y axis and a series' name: "Units per week", "Profit per week", "Sales per order line". */
export function measureLabel(answer: LaunchDecision, measure: LaunchMeasure): string {
  const noun = measure === "units" ? "Units" : answer.objective === "profit" ? "Profit" : "Sales";
  return answer.per === "week" ? `${noun} per week` : `${noun} per order line`;
}

export interface LaunchSeries {
  /** the row's key: "launch", or "n0", "n1", … in the neighbours' order */
  key: string;
  name: string;
}

export interface LaunchChartRow {
  price: number;
  [series: string]: number;
}

/**
 * One row per price of the launch curve: the launch curve's figure as the API gives it (curve[i].units, .profit or
 * .sales), and each neighbour's from its `units` (its demand at the new product's prices): units as given, the
 * objective as (price − unit cost) × units, or price × units without a cost, the launch curve's own arithmetic. A
 * neighbour without `units` (an older server) has no series.
 */
export function launchChart(
  answer: LaunchDecision,
  measure: LaunchMeasure,
): { rows: LaunchChartRow[]; series: LaunchSeries[] } {
  const cost = answer.objective === "profit" ? answer.unit_cost : null;
  const drawn = answer.neighbours.flatMap((neighbour, k) => (neighbour.units ? [{ neighbour, k }] : []));
  const series: LaunchSeries[] = [
    { key: "launch", name: `New product (launch curve)` },
    ...drawn.map(({ neighbour, k }) => ({ key: `n${k}`, name: `${neighbour.stockcode} ${neighbour.description}` })),
  ];
  const rows = answer.curve.map((point, i) => {
    const row: LaunchChartRow = { price: point.price, launch: launchFigure(point, measure, cost) };
    for (const { neighbour, k } of drawn) {
      const units = neighbour.units![i];
      row[`n${k}`] = measure === "units" ? units : cost === null ? point.price * units : (point.price - cost) * units;
    }
    return row;
  });
  return { rows, series };
}

function launchFigure(point: LaunchFigures, measure: LaunchMeasure, cost: number | null): number {
  if (measure === "units") return point.units;
  return cost === null ? point.sales : (point.profit ?? (point.price - cost) * point.units);
}

/** One row of the neighbours' table: the API's figures, and the neighbour's units at the launch price (from its
 * `units`, at the launch curve's point of the launch price; null without `units`). */
export interface NeighbourRow {
  stockcode: string;
  description: string;
  similarity: number;
  currentPrice: number;
  unitCost: number | null;
  weight: number;
  unitsAtLaunch: number | null;
}

export function neighbourRows(answer: LaunchDecision): NeighbourRow[] {
  const launch = answer.curve.findIndex((point) => samePrice(point.price, answer.recommended.price));
  return answer.neighbours.map((neighbour) => ({
    stockcode: neighbour.stockcode,
    description: neighbour.description,
    similarity: neighbour.similarity,
    currentPrice: neighbour.current_price,
    unitCost: neighbour.unit_cost ?? null,
    weight: neighbour.weight,
    unitsAtLaunch: launch >= 0 && neighbour.units ? neighbour.units[launch] : null,
  }));
}

/** Whether two prices are the same whole-penny price (the API compares prices in pence). */
function samePrice(a: number, b: number): boolean {
  return Math.round(a * 100) === Math.round(b * 100);
}

// ---- checks on the answer ------------------------------------------------------------------------------------

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isNumber(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value);
}

function isPair(value: unknown): value is [number, number] {
  return Array.isArray(value) && value.length === 2 && value.every(isNumber);
}

function isFigures(value: unknown): value is LaunchFigures {
  return (
    isRecord(value) &&
    ["price", "units", "sales"].every((key) => isNumber(value[key])) &&
    (value.profit === undefined || isNumber(value.profit))
  );
}

function isNeighbour(value: unknown, points: number): value is LaunchNeighbour {
  return (
    isRecord(value) &&
    typeof value.stockcode === "string" &&
    typeof value.description === "string" &&
    ["similarity", "current_price", "weight"].every((key) => isNumber(value[key])) &&
    (value.unit_cost === undefined || value.unit_cost === null || isNumber(value.unit_cost)) &&
    // a curve that does not line up with the launch curve's prices would be drawn at the wrong prices
    (value.units === undefined ||
      (Array.isArray(value.units) && value.units.length === points && value.units.every(isNumber)))
  );
}

/** What the page draws from a launch decision, checked before it is drawn: the figures, the interval, the test,
 * the neighbours (each curve as long as the launch curve) and a curve that is not empty. */
export function isLaunchDecision(value: unknown): value is LaunchDecision {
  if (!isRecord(value) || value.decision !== "test") return false;
  const { interval, test, reference, curve } = value;
  return (
    (value.per === "week" || value.per === "line") &&
    (value.objective === "profit" || value.objective === "revenue") &&
    (value.unit_cost === null || isNumber(value.unit_cost)) &&
    isRecord(reference) &&
    isNumber(reference.price) &&
    typeof reference.source === "string" &&
    isFigures(value.recommended) &&
    isFigures(value.at_reference) &&
    isRecord(interval) &&
    isPair(interval.price) &&
    isNumber(interval.level) &&
    isNumber(interval.draws) &&
    isNumber(value.probability_beats_reference) &&
    typeof value.decision_reason === "string" &&
    isRecord(test) &&
    Array.isArray(test.arms) &&
    test.arms.length > 0 &&
    test.arms.every(isNumber) &&
    ["weeks_per_arm", "weeks", "expected_weekly_cost", "expected_cost"].every((key) => isNumber(test[key])) &&
    Array.isArray(curve) &&
    curve.length > 0 &&
    curve.every(isFigures) &&
    Array.isArray(value.neighbours) &&
    value.neighbours.length > 0 &&
    value.neighbours.every((neighbour) => isNeighbour(neighbour, curve.length))
  );
}

/** A no_similar_product answer: its reason, the similarity needed, the closest product or null. */
export function isNoSimilar(value: unknown): value is NoSimilarProduct {
  if (!isRecord(value) || value.decision !== "no_similar_product") return false;
  const closest = value.closest;
  return (
    typeof value.decision_reason === "string" &&
    isNumber(value.min_similarity) &&
    (closest === null ||
      (isRecord(closest) &&
        typeof closest.stockcode === "string" &&
        typeof closest.description === "string" &&
        isNumber(closest.similarity)))
  );
}
