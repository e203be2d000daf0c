import { type FormEvent, useEffect, useMemo, useState } from "react";
import { type Product, type Recommendation, apiBaseFromEnv, createApiClient } from "./api";
import { formatPrice, formatQuantity, isWeekly, leavesHistory, optimumOf, sweptRange, toChartPoints } from "./chartData";
import { PriceChart } from "./PriceChart";
import { ProductPicker } from "./ProductPicker";
import { type PriceRequest, useRecommendation } from "./useRecommendation";

const client = createApiClient(apiBaseFromEnv(import.meta.env.VITE_API_BASE));
const DEFAULT_BINS = 100; // the API's own default
const CACHE_WORDS: Record<string, string> = {
  HIT: "from the cache",
  MISS: "computed now",
  BYPASS: "computed now (cache unavailable)",
};

/** `?stockcode=…` opens a product directly, so a view can be shared or reloaded. */
function stockcodeInUrl(): string | null {
  return new URLSearchParams(window.location.search).get("stockcode")?.trim() || null;
}

export function App() {
  const [product, setProduct] = useState<Product | null>(null);
  const [request, setRequest] = useState<PriceRequest | null>(() => {
    const stockcode = stockcodeInUrl();
    return stockcode ? { stockcode, sweep: { numPriceBins: DEFAULT_BINS } } : null;
  });
  const [low, setLow] = useState("");
  const [high, setHigh] = useState("");
  const [bins, setBins] = useState(String(DEFAULT_BINS));
  const load = useRecommendation(client, request);

  // A request without a range swept the product's history (the API's default): show that range in the
  // inputs, so the next change starts from it.
  useEffect(() => {
    if (load.status !== "done" || request?.sweep.unitpriceMin !== undefined) return;
    const range = sweptRange(load.result.bins);
    if (range) {
      setLow(String(range.min));
      setHigh(String(range.max));
    }
  }, [load, request]);

  // Opened from a link: find the product's description and history, which the picker had not given.
  const stockcode = request?.stockcode ?? null;
  useEffect(() => {
    if (stockcode === null || product?.stockcode === stockcode) return;
    const controller = new AbortController();
    client
      .searchProducts(stockcode, 20, controller.signal)
      .then((page) => {
        const match = page.items.find((item) => item.stockcode === stockcode);
        if (match) setProduct(match);
      })
      .catch(() => undefined); // only a nicer heading is lost; the price request reports failures itself
    return () => controller.abort();
  }, [stockcode, product]);

  function pick(picked: Product) {
    setProduct(picked);
    setLow("");
    setHigh("");
    setRequest({ stockcode: picked.stockcode, sweep: { numPriceBins: Number(bins) || DEFAULT_BINS } });
    window.history.replaceState(null, "", `?stockcode=${encodeURIComponent(picked.stockcode)}`);
  }

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (!request) return;
    setRequest({
      stockcode: request.stockcode,
      sweep: { unitpriceMin: Number(low), unitpriceMax: Number(high), numPriceBins: Number(bins) },
    });
  }

  function sweepHistoryRange() {
    if (!request) return;
    setRequest({ stockcode: request.stockcode, sweep: { numPriceBins: Number(bins) || DEFAULT_BINS } });
  }

  const productOf = (code: string | null) => (product && product.stockcode === code ? product : null);
  const title = product && product.stockcode === stockcode ? `${product.description} (${stockcode})` : stockcode;

  return (
    <div className="page">
      <header>
        <h1>Price recommendation</h1>
        <p>The unit price that maximises predicted sales, swept through the learned demand model.</p>
      </header>
      <div className="layout">
        <ProductPicker client={client} selected={stockcode} onPick={pick} />
        <main className="result" aria-busy={load.status === "loading"}>
          <h2>{title ?? "Pick a product"}</h2>
          {product && product.stockcode === stockcode && (
            <p className="hint">
              Sold between {formatPrice(product.price_min)} and {formatPrice(product.price_max)} (median{" "}
              {formatPrice(product.price_median)}) in the training window.
            </p>
          )}
          <form className="sweep" onSubmit={submit} aria-label="Price sweep">
            <PriceInput label="Lowest price" value={low} onChange={setLow} />
            <PriceInput label="Highest price" value={high} onChange={setHigh} />
            <label>
              Price bins
              <input
                type="number"
                min="2"
                max="500"
                step="1"
                required
                value={bins}
                onChange={(e) => setBins(e.target.value)}
              />
            </label>
            <button type="submit" disabled={!request}>
              Update
            </button>
            <button type="button" disabled={!request} onClick={sweepHistoryRange}>
              History range
            </button>
          </form>
          <p className="status" role="status">
            {load.status === "loading" ? `Pricing ${stockcode}…` : ""}
          </p>
          {load.status === "failed" && (
            <p className="error" role="alert">
              {load.message}
            </p>
          )}
          {load.status === "done" && <Result result={load.result} history={productOf(stockcode)} />}
          {load.status === "loading" && load.previous && (
            <div className="stale" aria-hidden="true">
              <Result result={load.previous} history={null} />
            </div>
          )}
        </main>
      </div>
    </div>
  );
}

function Result({ result, history }: { result: Recommendation; history: Product | null }) {
  const points = useMemo(() => toChartPoints(result.bins), [result]);
  const optimum = useMemo(() => optimumOf(result.bins), [result]);
  const weekly = useMemo(() => isWeekly(result.bins), [result]);
  const range = sweptRange(result.bins);
  if (!optimum || !range) return null;
  const cache = result.cache ? (CACHE_WORDS[result.cache] ?? result.cache) : "not reported";
  return (
    <>
      <dl className="figures">
        <div>
          <dt>Optimal unit price</dt>
          <dd data-testid="optimal-price" data-value={optimum.price}>
            {formatPrice(optimum.price)}
          </dd>
        </div>
        <div>
          <dt>Expected quantity per order line</dt>
          <dd data-testid="expected-quantity">{formatQuantity(optimum.quantity)} units</dd>
        </div>
        <div>
          <dt>Expected sales per order line</dt>
          <dd data-testid="expected-sales">{formatPrice(optimum.sales)}</dd>
        </div>
        {weekly && optimum.salesPerWeek !== null && (
          <div>
            <dt>Expected sales per week</dt>
            <dd data-testid="sales-per-week" data-value={optimum.salesPerWeek}>
              {formatPrice(optimum.salesPerWeek)}
            </dd>
          </div>
        )}
      </dl>
      {history && leavesHistory(range, history) && (
        <p className="note" data-testid="extrapolation">
          This range goes past the prices the product sold at ({formatPrice(history.price_min)}–
          {formatPrice(history.price_max)}): there the model extrapolates, so treat the curve with care.
        </p>
      )}
      <figure className="chart">
        <PriceChart points={points} optimum={optimum} weekly={weekly} />
        <figcaption className="hint" data-testid="chart-caption">
          {weekly
            ? "Above: predicted sales per week (price × order lines per week × units per line), which the optimal " +
              "price maximises: a higher price loses orders as well as units per order. Below: units per week."
            : "Above: predicted sales per order line (price × median quantity). Below: quantity per order line, " +
              "the median and the min–max across the sampled customer contexts."}{" "}
          Dashed line: the optimal price.
        </figcaption>
      </figure>
      <p className="provenance" data-testid="provenance">
        Model <strong data-testid="model">{result.model ?? "not reported"}</strong>
        {result.modelVersion && <> · bundle {result.modelVersion}</>} · {result.bins.length} prices ·{" "}
        <span data-testid="cache" data-cache={result.cache ?? ""}>
          {cache}
        </span>
      </p>
    </>
  );
}

function PriceInput({ label, value, onChange }: { label: string; value: string; onChange: (value: string) => void }) {
  return (
    <label>
      {label}
      <input
        type="number"
        inputMode="decimal"
        min="0"
        step="any"
        required
        value={value}
        onChange={(e) => onChange(e.target.value)}
      />
    </label>
  );
}
