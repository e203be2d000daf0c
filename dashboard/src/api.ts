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
}

export interface SweepQuery {
  unitpriceMin?: number;
  unitpriceMax?: number;
  numPriceBins?: number;
}

export interface Recommendation {
  bins: PriceBin[];
  /** Response headers; null when absent (a cross-origin API that does not expose them). */
  model: string | null;
  modelVersion: string | null;
  cache: string | null;
}

export type FailureKind = "client" | "server" | "network" | "invalid";

export class ApiError extends Error {
  readonly kind: FailureKind;
  readonly status: number | null;

  constructor(kind: FailureKind, message: string, status: number | null = null) {
    super(message);
    this.name = "ApiError";
    this.kind = kind;
    this.status = status;
  }
}

export type FetchLike = (url: string, init?: RequestInit) => Promise<Response>;

export interface ApiClient {
  searchProducts(query: string, pageSize: number, signal?: AbortSignal): Promise<ProductPage>;
  predictPrice(stockcode: string, sweep: SweepQuery, signal?: AbortSignal): Promise<Recommendation>;
}

/** VITE_API_BASE when the dashboard is hosted on its own; else "." (the API beside the page, same origin). */
export function apiBaseFromEnv(value: string | undefined): string {
  return value && value.trim() ? value.trim() : ".";
}

export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, "")}/${path.replace(/^\/+/, "")}`;
}

export function predictPath(stockcode: string, sweep: SweepQuery): string {
  const params = new URLSearchParams();
  if (sweep.unitpriceMin !== undefined) params.set("unitprice_min", String(sweep.unitpriceMin));
  if (sweep.unitpriceMax !== undefined) params.set("unitprice_max", String(sweep.unitpriceMax));
  if (sweep.numPriceBins !== undefined) params.set("num_price_bins", String(sweep.numPriceBins));
  const query = params.toString();
  return `v1/predict-price/${encodeURIComponent(stockcode)}${query ? `?${query}` : ""}`;
}

export function createApiClient(base: string, fetchImpl: FetchLike = (url, init) => fetch(url, init)): ApiClient {
  async function getJson(path: string, signal?: AbortSignal): Promise<{ body: unknown; headers: Headers }> {
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

  return {
    async searchProducts(query, pageSize, signal) {
      const params = new URLSearchParams({ q: query, page_size: String(pageSize) });
      const { body } = await getJson(`v1/products?${params}`, signal);
      if (!isProductPage(body)) throw new ApiError("invalid", "The product list from the pricing service is malformed.");
      return body;
    },

    async predictPrice(stockcode, sweep, signal) {
      const { body, headers } = await getJson(predictPath(stockcode, sweep), signal);
      // The contract says an answer always has bins; an empty list would be the reference code's
      // "200 with []" defect, so it is reported rather than drawn as an empty chart.
      if (!Array.isArray(body) || body.length === 0 || !body.every(isPriceBin)) {
        throw new ApiError("invalid", "The pricing service returned no usable price bins for this product.");
      }
      return {
        bins: body,
        model: headers.get("X-Model"),
        modelVersion: headers.get("X-Model-Version"),
        cache: headers.get("X-Cache"),
      };
    },
  };
}

function httpError(status: number, body: unknown): ApiError {
  const detail = errorText(body);
  if (status >= 500) {
    const why = detail ? `: ${detail}` : "";
    return new ApiError("server", `The pricing service failed (HTTP ${status})${why}. Try again later.`, status);
  }
  const lead = status === 404 ? "Not found" : "Request refused";
  return new ApiError("client", `${lead}: ${detail ?? `HTTP ${status}`}.`, status);
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

const WEEKLY_NUMBERS = ["orders_per_week", "units_per_week", "sales_per_week"] as const;

function isPriceBin(value: unknown): value is PriceBin {
  if (typeof value !== "object" || value === null) return false;
  const row = value as Record<string, unknown>;
  return (
    typeof row.stockcode === "string" &&
    PRICE_BIN_NUMBERS.every((key) => isNumber(row[key])) &&
    // null from a bundle without an incidence model; absent from a server older than the weekly fields
    WEEKLY_NUMBERS.every((key) => row[key] === undefined || row[key] === null || isNumber(row[key]))
  );
}

function isProductPage(value: unknown): value is ProductPage {
  if (typeof value !== "object" || value === null) return false;
  const page = value as Record<string, unknown>;
  return Array.isArray(page.items) && isNumber(page.total);
}
