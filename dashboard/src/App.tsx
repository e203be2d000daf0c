import { type FormEvent, useEffect, useMemo, useState } from "react";
import { type DecisionResult, type Objective, type Product, apiBaseFromEnv, createApiClient } from "./api";
import {
  type Band,
  type ObjectiveView,
  chartRows,
  decisionPoints,
  formatMoney,
  formatPrice,
  formatQuantity,
  formatSignedMoney,
  formatSignedPercent,
  intervalBand,
  leavesHistory,
  markersOf,
  objectiveView,
  observedPoints,
  priceDomain,
  sweptRange,
} from "./chartData";
import { type DecisionForm, currentPriceOrigin, decisionQuery, decisionText, ruleLines } from "./decision";
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
const SOURCE_WORDS: Record<string, string> = {
  cost_file: "the cost file published with the model",
  query: "the cost entered here",
};

/** `?stockcode=…` opens a product directly, so a view can be shared or reloaded. */
function stockcodeInUrl(): string | null {
  return new URLSearchParams(window.location.search).get("stockcode")?.trim() || null;
}

export function App() {
  const [product, setProduct] = useState<Product | null>(null);
  const [request, setRequest] = useState<PriceRequest | null>(() => {
    const stockcode = stockcodeInUrl();
    return stockcode ? { stockcode, query: { numPriceBins: DEFAULT_BINS, objective: "revenue" } } : null;
  });
  const [low, setLow] = useState("");
  const [high, setHigh] = useState("");
  const [bins, setBins] = useState(String(DEFAULT_BINS));
  const [objective, setObjective] = useState<Objective>("revenue");
  const [unitCost, setUnitCost] = useState("");
  // the product's cost from the cost file published with the bundle (null: none), which the unit-cost input shows
  const [fileCost, setFileCost] = useState<number | null>(null);
  const [floor, setFloor] = useState("");
  const [ceiling, setCeiling] = useState("");
  const [maxChange, setMaxChange] = useState("");
  const [priceEnding, setPriceEnding] = useState("");
  const [minMargin, setMinMargin] = useState("");
  const load = useRecommendation(client, request);

  const form: DecisionForm = {
    low,
    high,
    bins,
    objective,
    unitCost,
    floor,
    ceiling,
    maxChangePercent: maxChange,
    priceEnding,
    minMarginPercent: minMargin,
  };

  // Reacts to an answer only (not to a newer request while the older answer is still shown).
  useEffect(() => {
    if (load.status !== "done") return;
    const decision = load.result.decision;
    const asked = load.request.query;
    // An end not given is the product's history (the API's default): show the range swept in the inputs, so
    // the next change starts from it.
    const range = sweptRange(decision.curve);
    if (range && asked.unitpriceMin === undefined) setLow(String(range.min));
    if (range && asked.unitpriceMax === undefined) setHigh(String(range.max));
    // The first request goes without a unit cost: the answer says whether a cost file gave one, and the input
    // then shows it (sent again only when changed).
    if (decision.unit_cost_source === "cost_file" && decision.unit_cost !== null) {
      const cost = decision.unit_cost;
      setFileCost(cost);
      setUnitCost((typed) => (typed.trim() ? typed : String(cost)));
    } else if (decision.unit_cost_source === null) {
      setFileCost(null);
    }
  }, [load]);

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
    // the range, the cost and the floor and ceiling are the product's own; the objective and the percentage
    // rules are a policy, kept from one product to the next
    setLow("");
    setHigh("");
    setUnitCost("");
    setFileCost(null);
    setFloor("");
    setCeiling("");
    const next = { ...form, low: "", high: "", unitCost: "", floor: "", ceiling: "" };
    setRequest({ stockcode: picked.stockcode, query: decisionQuery(next, null) });
    window.history.replaceState(null, "", `?stockcode=${encodeURIComponent(picked.stockcode)}`);
  }

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (!request) return;
    setRequest({ stockcode: request.stockcode, query: decisionQuery(form, fileCost) });
  }

  function sweepHistoryRange() {
    if (!request) return;
    setRequest({ stockcode: request.stockcode, query: decisionQuery({ ...form, low: "", high: "" }, fileCost) });
  }

  // The switch asks at once: the objective changes the answer, and nothing else needs typing first.
  function switchObjective(next: Objective) {
    setObjective(next);
    if (!request) return;
    setRequest({ stockcode: request.stockcode, query: decisionQuery({ ...form, objective: next }, fileCost) });
  }

  const productOf = (code: string | null) => (product && product.stockcode === code ? product : null);
  const title = product && product.stockcode === stockcode ? `${product.description} (${stockcode})` : stockcode;

  return (
    <div className="page">
      <header>
        <h1>Price decision</h1>
        <p>
          The price that maximises weekly sales or profit under your rules, swept through the learned demand model,
          against the current price, with how sure the model is.
        </p>
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
          <form className="sweep" onSubmit={submit} aria-label="Price decision">
            <fieldset>
              <legend>Prices swept</legend>
              <PriceInput label="Lowest price" value={low} onChange={setLow} optional />
              <PriceInput label="Highest price" value={high} onChange={setHigh} optional />
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
            </fieldset>
            <fieldset>
              <legend>Objective</legend>
              <div className="switch">
                {(["revenue", "profit"] as const).map((kind) => (
                  <label key={kind} className="switch-option">
                    <input
                      type="radio"
                      name="objective"
                      value={kind}
                      checked={objective === kind}
                      disabled={!request}
                      onChange={() => switchObjective(kind)}
                    />
                    {kind === "revenue" ? "Revenue" : "Profit"}
                  </label>
                ))}
              </div>
              <PriceInput label="Unit cost" value={unitCost} onChange={setUnitCost} optional />
            </fieldset>
            <fieldset>
              <legend>Rules (optional)</legend>
              <PriceInput label="Floor" value={floor} onChange={setFloor} optional />
              <PriceInput label="Ceiling" value={ceiling} onChange={setCeiling} optional />
              <NumberInput label="Largest change (%)" value={maxChange} onChange={setMaxChange} max="100" step="any" />
              <NumberInput label="Price ending" value={priceEnding} onChange={setPriceEnding} max="0.99" step="0.01" />
              <NumberInput label="Smallest margin (%)" value={minMargin} onChange={setMinMargin} max="99" step="any" />
            </fieldset>
            <div className="actions">
              <button type="submit" disabled={!request}>
                Update
              </button>
              <button type="button" disabled={!request} onClick={sweepHistoryRange}>
                History range
              </button>
            </div>
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

function Result({ result, history }: { result: DecisionResult; history: Product | null }) {
  const decision = result.decision;
  const view = objectiveView(decision);
  const points = useMemo(() => decisionPoints(decision), [decision]);
  const domain = useMemo(() => priceDomain(decision), [decision]);
  const observed = useMemo(() => observedPoints(decision, domain), [decision, domain]);
  const rows = useMemo(() => chartRows(points, observed.points), [points, observed]);
  const band = intervalBand(decision, domain);
  const markers = markersOf(decision);
  const rules = ruleLines(decision);
  const range = sweptRange(decision.curve);
  if (!range) return null;
  const { recommended, current, expected_change: change, interval } = decision;
  const cache = result.cache ? (CACHE_WORDS[result.cache] ?? result.cache) : "not reported";
  const extrapolated = points.some((point) => !point.inSupport);
  return (
    <>
      <section className={`decision ${decision.decision}`} aria-label="Decision" data-testid="decision">
        <p className="decision-text" data-testid="decision-text" data-decision={decision.decision}>
          {decisionText(decision)}
        </p>
        {interval && (
          <p className="hint" data-testid="interval" data-low={interval.price[0]} data-high={interval.price[1]}>
            {Math.round(interval.level * 100)}% interval for the best price: {formatMoney(interval.price[0])}–
            {formatMoney(interval.price[1])}; {view.phrase} at the recommended price{" "}
            {formatMoney(interval.objective[0])}–{formatMoney(interval.objective[1])} ({interval.draws} draws of the
            model).
          </p>
        )}
        {rules.length > 0 && (
          <ul className="rules" aria-label="Rules" data-testid="rules">
            {rules.map((rule) => (
              <li key={rule.rule} data-testid={`rule-${rule.rule}`} data-binding={rule.binding}>
                {rule.text}
              </li>
            ))}
          </ul>
        )}
        {decision.objective_note && (
          <p className="note" data-testid="objective-note">
            {decision.objective_note}
          </p>
        )}
        {decision.unit_cost !== null && decision.unit_cost_source && (
          <p className="hint" data-testid="unit-cost-source">
            Unit cost {formatMoney(decision.unit_cost)}, from{" "}
            {SOURCE_WORDS[decision.unit_cost_source] ?? decision.unit_cost_source}.
          </p>
        )}
      </section>
      <dl className="figures">
        <div>
          <dt>Price to set</dt>
          <dd data-testid="price-to-set" data-value={decision.price_to_set}>
            {formatPrice(decision.price_to_set)}
          </dd>
        </div>
        <div>
          <dt>Recommended price</dt>
          <dd data-testid="optimal-price" data-value={recommended.price}>
            {formatPrice(recommended.price)}
          </dd>
        </div>
        <div>
          <dt>Current price ({currentPriceOrigin(current)})</dt>
          <dd data-testid="current-price" data-value={current.price}>
            {formatPrice(current.price)}
          </dd>
        </div>
        {change.objective !== null && (
          <div>
            <dt>Expected change in {view.phrase}</dt>
            <dd
              data-testid="expected-gain"
              data-value={change.objective}
              data-relative={change.objective_relative ?? ""}
            >
              {formatSignedMoney(change.objective)}
              {change.objective_relative !== null && <small> ({formatSignedPercent(change.objective_relative)})</small>}
            </dd>
          </div>
        )}
        {view.weekly ? (
          <>
            <div>
              <dt>Sales per week</dt>
              <dd data-testid="sales-per-week" data-value={recommended.sales}>
                {formatPrice(recommended.sales)}
              </dd>
            </div>
            {recommended.profit !== null && (
              <div>
                <dt>Profit per week</dt>
                <dd data-testid="profit-per-week" data-value={recommended.profit}>
                  {formatPrice(recommended.profit)}
                </dd>
              </div>
            )}
            <div>
              <dt>Units per week</dt>
              <dd data-testid="units-per-week">{formatQuantity(recommended.units)}</dd>
            </div>
          </>
        ) : (
          <>
            <div>
              <dt>Expected quantity per order line</dt>
              <dd data-testid="expected-quantity">{formatQuantity(recommended.units)} units</dd>
            </div>
            <div>
              <dt>Expected sales per order line</dt>
              <dd data-testid="expected-sales">{formatPrice(recommended.sales)}</dd>
            </div>
          </>
        )}
      </dl>
      {history && leavesHistory(range, history) && (
        <p className="note" data-testid="extrapolation">
          This range goes past the prices the product sold at ({formatPrice(history.price_min)}–
          {formatPrice(history.price_max)}): there the model extrapolates, so treat the curve with care.
        </p>
      )}
      {decision.support.recommendation_outside && (
        <p className="note" data-testid="outside-support">
          The recommended price lies outside the prices the product sold at ({formatPrice(decision.support.low)}–
          {formatPrice(decision.support.high)}, with a {Math.round(decision.support.tolerance * 100)}% margin): the
          model extrapolates there.
        </p>
      )}
      <figure className="chart" data-testid="price-chart">
        <PriceChart rows={rows} domain={domain} view={view} band={band} markers={markers} />
        <figcaption className="hint" data-testid="chart-caption">
          {chartCaption(view, band, extrapolated, observed.hidden)}
        </figcaption>
      </figure>
      <p className="provenance" data-testid="provenance">
        Model <strong data-testid="model">{result.model ?? "not reported"}</strong>
        {decision.incidence_model && <> with {decision.incidence_model}</>}
        {result.modelVersion && <> · bundle {result.modelVersion}</>} · {decision.curve.length} prices ·{" "}
        <span data-testid="cache" data-cache={result.cache ?? ""}>
          {cache}
        </span>
      </p>
    </>
  );
}

function chartCaption(view: ObjectiveView, band: Band | null, extrapolated: boolean, hidden: number): string {
  const margin = view.kind === "profit" ? "(price − unit cost)" : "price";
  const interval = band ? `, in its ${Math.round(band.level * 100)}% interval (shaded)` : "";
  const parts = [
    view.weekly
      ? `Above: predicted ${view.phrase} (${margin} × order lines per week × units per line), which the ` +
        "recommended price maximises under the rules; the dots are the weeks observed at each list price " +
        "(larger: more weeks). Below: units per week."
      : `Above: predicted ${view.phrase}. Below: the median quantity per order line.`,
    `Red dashed line: the recommended price${interval}.`,
    "Black dotted line: the current price, labelled with the expected gain.",
  ];
  if (extrapolated) {
    parts.push("Grey dashed: prices outside the ones the product sold at, where the model extrapolates.");
  }
  if (hidden > 0) {
    parts.push(`${hidden} observed price level${hidden === 1 ? " lies" : "s lie"} outside the prices shown.`);
  }
  return parts.join(" ");
}

function PriceInput({
  label,
  value,
  onChange,
  optional = false,
}: {
  label: string;
  value: string;
  onChange: (value: string) => void;
  optional?: boolean;
}) {
  return (
    <label>
      {label}
      <input
        type="number"
        inputMode="decimal"
        min="0"
        step="any"
        required={!optional}
        value={value}
        onChange={(e) => onChange(e.target.value)}
      />
    </label>
  );
}

/** An optional number from 0 to `max`: a percentage, or the pence a price ends in. */
function NumberInput(props: {
  label: string;
  value: string;
  onChange: (value: string) => void;
  max: string;
  step: string;
}) {
  return (
    <label>
      {props.label}
      <input
        type="number"
        inputMode="decimal"
        min="0"
        max={props.max}
        step={props.step}
        value={props.value}
        onChange={(e) => props.onChange(e.target.value)}
      />
    </label>
  );
}
