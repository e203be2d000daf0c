// The one typed client for the pricing-service API. Every failure becomes an ApiError whose message a
// person can read; an aborted request is rethrown untouched so callers can ignore it.

export interface Product {
  stockcode: string;
  description: string;
  price_min: number;
  price_median: number;
  price_max: number;
  lines: number;
  units: number;
}

export interface ProductPage {
  items: Product[];
  page: number;
  page_size: number;
  total: number;
}

/** One price bin of GET /v1/predict-price/<stockcode>, as the API contract names its fields. */
export interface PriceBin {
  stockcode: string;
  unit_price: number;
  quantity: number;
  quantity_min: number;
  quantity_max: number;
  predicted_sales: number;
  optimal_unit_price: number;
  max_predicted_sales: number;
  /** Expected order lines per week at this price; null when the bundle has no incidence model. */
  orders_per_week: number | null;
  /** Order lines per week × mean units per line. */
  units_per_week: number | null;
  /** Price × units per week: what the optimum maximises by default. */
  sales_per_week: number | null;
  /** Whether the price lies within the prices the product sold at (widened by the support's tolerance). */
  in_support?: boolean;
  /** (Price − unit cost) × units per week; null without a unit cost (or without weekly figures). */
  profit_per_week?: number | null;
}

export type Objective = "revenue" | "profit";

/** The figures at one price of GET /v1/price-decision: per week, or per order line when `per` is "order_line". */
export interface DecisionFigures {
  price: number;
  units: number;
  sales: number;
  /** null without a unit cost */
  profit: number | null;
  /** The objective actually used (sales or profit) at this price. */
  objective: number;
  in_support: boolean;
  /** Order lines per week; absent per order line. */
  orders?: number;
}

export interface CurrentPrice extends DecisionFigures {
  /** The day the price was last seen (ISO date); null for a bundle that only knows the median price. */
  date: string | null;
  /** "last_list_price" or "median_price" */
  source: string;
}

export interface RuleOutcome {
  /** floor, ceiling, max_change, price_ending, min_margin or support */
  rule: string;
  /** As given in the request; null for `support`, which the service applies itself. */
  value: number | null;
  binding: boolean;
  /** What the objective gains, per week, when this rule alone is lifted: 0 when it does not bind. */
  cost: number;
}

export interface DecisionInterval {
  level: number;
  price: [number, number];
  objective: [number, number];
  draws: number;
  method: string;
}

export interface ExpectedChange {
  units: number | null;
  sales: number | null;
  profit: number | null;
  objective: number | null;
  /** The objective's change over its value at the current price; null when that value is 0. */
  objective_relative: number | null;
}

/** The product's observed weekly history at one of its list-price levels. */
export interface ObservedLevel {
  price: number;
  weeks: number;
  orders_per_week: number;
  units_per_week: number;
  sales_per_week: number;
}

/** GET /v1/price-decision/<stockcode>: the curve and what a pricing manager decides from it. */
/** A `test` decision's price test: the arms (the current price among them), weeks, and the model's expected cost
 * against holding the current price (negative: an expected gain), a week on average and over the whole test. */
export interface PriceTest {
  arms: number[];
  weeks_per_arm: number;
  weeks: number;
  expected_weekly_cost: number;
  expected_cost: number;
}

export interface PriceDecision {
  stockcode: string;
  description: string;
  per: "week" | "order_line";
  /** The objective actually used: profit asked without a unit cost is answered as revenue (objective_note says so). */
  objective: Objective;
  objective_note: string | null;
  unit_cost: number | null;
  unit_cost_source: "query" | "cost_file" | null;
  current: CurrentPrice;
  recommended: DecisionFigures;
  unconstrained: DecisionFigures;
  rules: RuleOutcome[];
  interval: DecisionInterval | null;
  probability_beats_current: number | null;
  expected_change: ExpectedChange;
  decision: "change" | "hold" | "test";
  decision_reason: string;
  price_to_set: number;
  test: PriceTest | null;
  support: {
    low: number;
    high: number;
    tolerance: number;
    recommendation_outside: boolean;
    restricted_to_support: boolean;
  };
  model: string;
  incidence_model: string | null;
  observed: ObservedLevel[];
  /** The same bins GET /v1/predict-price returns. */
  curve: PriceBin[];
}

/** The running experiment a bundle carries (experiment.json), as GET /v1/price-decision?mode=experiment names it. */
export interface ExperimentSummary {
  id: string;
  start_week: string;
  weeks: number;
  end_week: string;
  objective: Objective;
  holdout_share: number;
  band: number;
  step: number;
  status: "planned" | "running" | "ended";
}

/** One week of a product's planned schedule: the arm (an index into `arms`) and the price after the step cap. */
export interface ScheduledWeek {
  week: string;
  arm: number;
  price: number;
  binding: string | null;
}

/** One ISO week of the product's test as `pricing experiment update` read it from the shop's lines: realised and
 * expected are profit per week (revenue without a unit cost), expected from the model the test started from. */
export interface ExperimentWeek {
  week: string;
  price: number;
  units: number;
  realised: number;
  expected: number;
}

/** [mean, low, high] of a 90% interval. */
export type Interval3 = [number, number, number];

export interface ExperimentResults {
  updated: string;
  weeks: ExperimentWeek[];
  slope: { prior: Interval3; posterior: Interval3 };
  /** The difference in differences of weekly profit, tested products against the holdout, with its 90% interval. */
  did: { estimate: number; low: number; high: number; unit: string; scope: string } | null;
}

export type ExperimentState = "planned" | "learning" | "monetising" | "stopped" | "holdout";

/** GET /v1/price-decision/<stockcode>?mode=experiment for a product in the experiment: this week's price. */
export interface ExperimentAnswer {
  stockcode: string;
  mode: "experiment";
  experiment: ExperimentSummary;
  week: string;
  /** 0-based within the experiment; null outside its weeks. */
  week_index: number | null;
  price: number;
  status_quo_price: number;
  in_experiment: boolean;
  holdout: boolean;
  arm: number | null;
  arms: number[];
  /** The probability that the design put this product at this arm this week. */
  propensity: number | null;
  binding_guardrail: string | null;
  reason: string;
  state: ExperimentState;
  schedule: ScheduledWeek[];
  results: ExperimentResults | null;
}

/** The experiment view's answer: the product's experiment, or why there is none to show. */
export type ExperimentLookup = { kind: "experiment"; answer: ExperimentAnswer } | { kind: "none"; note: string };

export interface SweepQuery {
  unitpriceMin?: number;
  unitpriceMax?: number;
  numPriceBins?: number;
}

/** The sweep, the objective and the business rules of a price decision; an absent field is the API's default. */
export interface DecisionQuery extends SweepQuery {
  objective?: Objective;
  unitCost?: number;
  floor?: number;
  ceiling?: number;
  /** A fraction of the current price (0.2: within 20%). */
  maxChange?: number;
  /** The pence a price ends in (0.99). */
  priceEnding?: number;
  /** A fraction: (price − unit cost) / price at least this. */
  minMargin?: number;
}

/** Response headers; null when absent (a cross-origin API that does not expose them). */
interface Provenance {
  model: string | null;
  modelVersion: string | null;
  cache: string | null;
}

export interface Recommendation extends Provenance {
  bins: PriceBin[];
}

export interface DecisionResult extends Provenance {
  decision: PriceDecision;
}

export type FailureKind = "client" | "server" | "network" | "invalid";

export class ApiError extends Error {
  readonly kind: FailureKind;
  readonly status: number | null;
  /** The API's own `error` text, when it gave one (a 400's starts with the parameter it names). */
  readonly detail: string | null;

  constructor(kind: FailureKind, message: string, status: number | null = null, detail: string | null = null) {
    super(message);
    this.name = "ApiError";
    this.kind = kind;
    this.status = status;
    this.detail = detail;
  }
}

export type FetchLike = (url: string, init?: RequestInit) => Promise<Response>;

export interface ApiClient {
  searchProducts(query: string, pageSize: number, signal?: AbortSignal): Promise<ProductPage>;
  /** The bare curve (the seed article's contract); the dashboard reads priceDecision, which carries it too. */
  predictPrice(stockcode: string, sweep: SweepQuery, signal?: AbortSignal): Promise<Recommendation>;
  priceDecision(stockcode: string, query: DecisionQuery, signal?: AbortSignal): Promise<DecisionResult>;
  /** This week's experiment price of the bundle's running experiment; `none` when the bundle runs none (HTTP 404)
   * or the product is not in it (the API's decision with its experiment_note). */
  experiment(stockcode: string, signal?: AbortSignal): Promise<ExperimentLookup>;
}

/** VITE_API_BASE when the dashboard is hosted on its own; else "." (the API beside the page, same origin). */
export function apiBaseFromEnv(value: string | undefined): string {
  return value && value.trim() ? value.trim() : ".";
}

export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, "")}/${path.replace(/^\/+/, "")}`;
}

// The query parameter each field is sent as, in the order they appear in a URL.
const QUERY_NAMES: [keyof DecisionQuery, string][] = [
  ["unitpriceMin", "unitprice_min"],
  ["unitpriceMax", "unitprice_max"],
  ["numPriceBins", "num_price_bins"],
  ["objective", "objective"],
  ["unitCost", "unit_cost"],
  ["floor", "floor"],
  ["ceiling", "ceiling"],
  ["maxChange", "max_change"],
  ["priceEnding", "price_ending"],
  ["minMargin", "min_margin"],
];

function pathWithQuery(route: string, stockcode: string, query: DecisionQuery): string {
  const params = new URLSearchParams();
  for (const [field, name] of QUERY_NAMES) {
    const value = query[field];
    if (value !== undefined) params.set(name, String(value));
  }
  const text = params.toString();
  return `v1/${route}/${encodeURIComponent(stockcode)}${text ? `?${text}` : ""}`;
}

export function predictPath(stockcode: string, sweep: SweepQuery): string {
  const { unitpriceMin, unitpriceMax, numPriceBins } = sweep;
  return pathWithQuery("predict-price", stockcode, { unitpriceMin, unitpriceMax, numPriceBins });
}

export function decisionPath(stockcode: string, query: DecisionQuery): string {
  return pathWithQuery("price-decision", stockcode, query);
}

export function experimentPath(stockcode: string): string {
  return `v1/price-decision/${encodeURIComponent(stockcode)}?mode=experiment`;
}

/** GET `path` under `base` as JSON: the body and the headers, or an ApiError a person can read (an abort is
 * rethrown untouched). Shared by every client of the API (this one, launch.ts's). */
export async function getJson(
  base: string,
  fetchImpl: FetchLike,
  path: string,
  signal?: AbortSignal,
): Promise<{ body: unknown; headers: Headers }> {
  const url = joinUrl(base, path);
  let response: Response;
  try {
    response = await fetchImpl(url, { headers: { Accept: "application/json" }, signal });
  } catch (error) {
    if (isAbort(error)) throw error;
    throw new ApiError(
      "network",
      `Cannot reach the pricing service at ${url}. Check that it is running and reachable, then try again.`,
    );
  }
  const text = await response.text();
  const body = parseJson(text);
  if (!response.ok) throw httpError(response.status, body);
  if (body === undefined) {
    throw new ApiError("invalid", `The pricing service answered HTTP ${response.status} without the JSON expected.`);
  }
  return { body, headers: response.headers };
}

export function createApiClient(base: string, fetchImpl: FetchLike = (url, init) => fetch(url, init)): ApiClient {
  const get = (path: string, signal?: AbortSignal) => getJson(base, fetchImpl, path, signal);

  return {
    async searchProducts(query, pageSize, signal) {
      const params = new URLSearchParams({ q: query, page_size: String(pageSize) });
      const { body } = await get(`v1/products?${params}`, signal);
      if (!isProductPage(body)) throw new ApiError("invalid", "The product list from the pricing service is malformed.");
      return body;
    },

    async predictPrice(stockcode, sweep, signal) {
      const { body, headers } = await get(predictPath(stockcode, sweep), signal);
      // The contract says an answer always has bins; an empty list would be the reference code's
      // "200 with []" defect, so it is reported rather than drawn as an empty chart.
      if (!Array.isArray(body) || body.length === 0 || !body.every(isPriceBin)) {
        throw new ApiError("invalid", "The pricing service returned no usable price bins for this product.");
      }
      return { bins: body, ...provenance(headers) };
    },

    async priceDecision(stockcode, query, signal) {
      const { body, headers } = await get(decisionPath(stockcode, query), signal);
      if (!isDecision(body)) {
        throw new ApiError("invalid", "The pricing service returned no usable price decision for this product.");
      }
      return { decision: body, ...provenance(headers) };
    },

    async experiment(stockcode, signal) {
      let body: unknown;
      try {
        ({ body } = await get(experimentPath(stockcode), signal));
      } catch (error) {
        // 404: the bundle runs no experiment (an unknown product is the decision request's to report)
        if (error instanceof ApiError && error.status === 404) return { kind: "none", note: error.message };
        throw error;
      }
      if (isRecord(body) && typeof body.experiment_note === "string") return { kind: "none", note: body.experiment_note };
      if (!isExperimentAnswer(body)) {
        throw new ApiError("invalid", "The pricing service returned no usable experiment answer for this product.");
      }
      return { kind: "experiment", answer: body };
    },
  };
}

function provenance(headers: Headers): Provenance {
  return { model: headers.get("X-Model"), modelVersion: headers.get("X-Model-Version"), cache: headers.get("X-Cache") };
}

function httpError(status: number, body: unknown): ApiError {
  const detail = errorText(body);
  if (status >= 500) {
    const why = detail ? `: ${detail}` : "";
    return new ApiError("server", `The pricing service failed (HTTP ${status})${why}. Try again later.`, status, detail);
  }
  const lead = status === 404 ? "Not found" : "Request refused";
  return new ApiError("client", `${lead}: ${detail ?? `HTTP ${status}`}.`, status, detail);
}

function errorText(body: unknown): string | null {
  if (typeof body === "object" && body !== null && "error" in body) {
    const { error } = body as { error: unknown };
    if (typeof error === "string" && error) return error;
  }
  return null;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined; // a proxy's HTML error page, an empty body: handled by the caller
  }
}

function isAbort(error: unknown): boolean {
  return error instanceof DOMException && error.name === "AbortError";
}

function isNumber(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value);
}

const PRICE_BIN_NUMBERS = [
  "unit_price",
  "quantity",
  "quantity_min",
  "quantity_max",
  "predicted_sales",
  "optimal_unit_price",
  "max_predicted_sales",
] as const;

const WEEKLY_NUMBERS = ["orders_per_week", "units_per_week", "sales_per_week", "profit_per_week"] as const;

function isPriceBin(value: unknown): value is PriceBin {
  if (typeof value !== "object" || value === null) return false;
  const row = value as Record<string, unknown>;
  return (
    typeof row.stockcode === "string" &&
    PRICE_BIN_NUMBERS.every((key) => isNumber(row[key])) &&
    // null from a bundle without an incidence model; absent from a server older than the weekly fields
    WEEKLY_NUMBERS.every((key) => row[key] === undefined || row[key] === null || isNumber(row[key])) &&
    (row.in_support === undefined || typeof row.in_support === "boolean")
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isFigures(value: unknown): value is DecisionFigures {
  return (
    isRecord(value) &&
    ["price", "units", "sales", "objective"].every((key) => isNumber(value[key])) &&
    (value.profit === null || isNumber(value.profit))
  );
}

function isPricePair(value: unknown): value is [number, number] {
  return Array.isArray(value) && value.length === 2 && value.every(isNumber);
}

function isObserved(value: unknown): value is ObservedLevel {
  return (
    isRecord(value) &&
    ["price", "weeks", "orders_per_week", "units_per_week", "sales_per_week"].every((key) => isNumber(value[key]))
  );
}

/**
 * What the page draws from a decision, checked before it is drawn: the figures at the current, recommended and
 * unconstrained prices, the rules, the interval, the observed history and a curve of usable bins (never empty:
 * an empty curve would be the reference code's "200 with []" defect, drawn as an empty chart).
 */
function isDecision(value: unknown): value is PriceDecision {
  if (!isRecord(value)) return false;
  const interval = value.interval;
  const change = value.expected_change;
  return (
    (value.objective === "revenue" || value.objective === "profit") &&
    (value.per === "week" || value.per === "order_line") &&
    (value.decision === "change" || value.decision === "hold" || value.decision === "test") &&
    (value.test === null || isPriceTest(value.test)) &&
    (value.decision === "test") === (value.test !== null) &&
    typeof value.decision_reason === "string" &&
    isNumber(value.price_to_set) &&
    (value.unit_cost === null || isNumber(value.unit_cost)) &&
    isFigures(value.current) &&
    isFigures(value.recommended) &&
    isFigures(value.unconstrained) &&
    Array.isArray(value.rules) &&
    value.rules.every((rule) => isRecord(rule) && typeof rule.rule === "string" && isNumber(rule.cost)) &&
    (interval === null || (isRecord(interval) && isPricePair(interval.price) && isPricePair(interval.objective))) &&
    (value.probability_beats_current === null || isNumber(value.probability_beats_current)) &&
    isRecord(change) &&
    isRecord(value.support) &&
    isNumber(value.support.low) &&
    isNumber(value.support.high) &&
    Array.isArray(value.observed) &&
    value.observed.every(isObserved) &&
    Array.isArray(value.curve) &&
    value.curve.length > 0 &&
    value.curve.every(isPriceBin)
  );
}

function isPriceTest(value: unknown): value is PriceTest {
  return (
    isRecord(value) &&
    Array.isArray(value.arms) &&
    value.arms.length > 0 &&
    value.arms.every(isNumber) &&
    isNumber(value.weeks) &&
    isNumber(value.expected_weekly_cost) &&
    isNumber(value.expected_cost)
  );
}

function isProductPage(value: unknown): value is ProductPage {
  if (typeof value !== "object" || value === null) return false;
  const page = value as Record<string, unknown>;
  return Array.isArray(page.items) && isNumber(page.total);
}

const EXPERIMENT_STATES = ["planned", "learning", "monetising", "stopped", "holdout"];

function isInterval3(value: unknown): value is Interval3 {
  return Array.isArray(value) && value.length === 3 && value.every(isNumber);
}

function isExperimentResults(value: unknown): value is ExperimentResults {
  if (!isRecord(value) || !Array.isArray(value.weeks) || !isRecord(value.slope)) return false;
  const did = value.did;
  return (
    value.weeks.every(
      (week) =>
        isRecord(week) &&
        typeof week.week === "string" &&
        ["price", "units", "realised", "expected"].every((key) => isNumber(week[key])),
    ) &&
    isInterval3(value.slope.prior) &&
    isInterval3(value.slope.posterior) &&
    (did === null || (isRecord(did) && ["estimate", "low", "high"].every((key) => isNumber(did[key]))))
  );
}

/** What the experiment view draws, checked before it is drawn: the week's price, the arms, the schedule, the
 * state and, once the shop's weeks were read, the results. */
function isExperimentAnswer(value: unknown): value is ExperimentAnswer {
  if (!isRecord(value) || !isRecord(value.experiment)) return false;
  return (
    value.mode === "experiment" &&
    typeof value.experiment.id === "string" &&
    isNumber(value.experiment.weeks) &&
    typeof value.week === "string" &&
    (value.week_index === null || isNumber(value.week_index)) &&
    isNumber(value.price) &&
    isNumber(value.status_quo_price) &&
    typeof value.holdout === "boolean" &&
    (value.arm === null || isNumber(value.arm)) &&
    Array.isArray(value.arms) &&
    value.arms.length > 0 &&
    value.arms.every(isNumber) &&
    (value.propensity === null || isNumber(value.propensity)) &&
    typeof value.reason === "string" &&
    typeof value.state === "string" &&
    EXPERIMENT_STATES.includes(value.state) &&
    Array.isArray(value.schedule) &&
    value.schedule.every(
      (week) => isRecord(week) && typeof week.week === "string" && isNumber(week.arm) && isNumber(week.price),
    ) &&
    (value.results === null || isExperimentResults(value.results))
  );
}
