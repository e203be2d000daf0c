import type { FormEvent } from "react";
import { formatMoney, formatPercent, formatPrice, formatQuantity } from "./chartData";
import { Figure } from "./Figure";
import {
  type LaunchDecision,
  type LaunchField,
  type LaunchQuery,
  type LaunchResult,
  type NoSimilarProduct,
  launchText,
  measureLabel,
  neighbourRows,
  noSimilarText,
  objectivePhrase,
  probabilityText,
  reasonText,
  referenceText,
  testText,
} from "./launch";
import { LaunchChart } from "./LaunchChart";
import type { LaunchControls } from "./useLaunch";

const CACHE_WORDS: Record<string, string> = {
  HIT: "from the cache",
  MISS: "computed now",
  BYPASS: "computed now (cache unavailable)",
};

/** One of the form's inputs, with the API's 400 beside it when the 400 names it. */
function Field({
  label,
  name,
  field,
  value,
  onChange,
  error,
  hint,
  type,
}: {
  label: string;
  name: keyof LaunchQuery;
  field: LaunchField;
  value: string;
  onChange: (value: string) => void;
  error: string | null;
  hint: string;
  type: "text" | "price";
}) {
  const errorId = `launch-${field}-error`;
  const hintId = `launch-${field}-hint`;
  return (
    <div className={`launch-field launch-${name}`}>
      <label>
        {label}
        <input
          type={type === "text" ? "text" : "number"}
          inputMode={type === "text" ? undefined : "decimal"}
          min={type === "text" ? undefined : "0"}
          step={type === "text" ? undefined : "any"}
          value={value}
          onChange={(e) => onChange(e.target.value)}
          aria-invalid={error !== null}
          aria-describedby={error !== null ? `${errorId} ${hintId}` : hintId}
        />
      </label>
      <small id={hintId} className="meta">
        {hint}
      </small>
      {error !== null && (
        <p id={errorId} className="field-error" role="alert" data-testid={`launch-error-${field}`}>
          {error}
        </p>
      )}
    </div>
  );
}

/**
 * The "New product" entry: a description, a unit cost and an optional reference price, sent to
 * GET /v1/launch-decision as typed (the API checks them, and a 400 is shown beside the field it names); the answer
 * is the launch decision with its neighbours and their curves and the test it proposes, or that no similar product
 * was found.
 */
export function LaunchView({ launch }: { launch: LaunchControls }) {
  const { form, edit, submit, load } = launch;
  const fieldError = (field: LaunchField) =>
    load.status === "failed" && load.failure.field === field ? load.failure.message : null;

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    submit();
  }

  return (
    <section className="result launch" aria-label="New product" aria-busy={load.status === "loading"}>
      <h2>New product</h2>
      <p className="hint">
        A launch price for a product the model has never seen, borrowed from the products with the most similar
        descriptions, with how far to trust them and the price test to run after launch.
      </p>
      {/* noValidate: the API's checks are the rules, and its 400 says which field and why */}
      <form className="sweep launch-form" onSubmit={onSubmit} noValidate aria-label="New product" data-testid="launch-form">
        <Field
          label="Description"
          name="description"
          field="description"
          type="text"
          value={form.description}
          onChange={(value) => edit("description", value)}
          error={fieldError("description")}
          hint="As the shop would list it, 2 words at least (PINK HEART OF WICKER JUG)"
        />
        <Field
          label="Unit cost"
          name="unitCost"
          field="unit_cost"
          type="price"
          value={form.unitCost}
          onChange={(value) => edit("unitCost", value)}
          error={fieldError("unit_cost")}
          hint="Blank: the launch price maximises sales, not profit"
        />
        <Field
          label="Reference price (optional)"
          name="referencePrice"
          field="reference_price"
          type="price"
          value={form.referencePrice}
          onChange={(value) => edit("referencePrice", value)}
          error={fieldError("reference_price")}
          hint="Blank: from the neighbours"
        />
        <div className="actions">
          <button type="submit">Price it</button>
        </div>
      </form>
      <p className="status" role="status">
        {load.status === "loading" ? "Finding similar products and pricing…" : ""}
      </p>
      {load.status === "failed" && load.failure.field === null && (
        <p className="error" role="alert" data-testid="launch-error">
          {load.failure.message}
        </p>
      )}
      {load.status === "done" && <LaunchAnswerView result={load.result} />}
      {load.status === "loading" && load.previous && (
        <div className="stale" aria-hidden="true">
          <LaunchAnswerView result={load.previous} />
        </div>
      )}
    </section>
  );
}

function LaunchAnswerView({ result }: { result: LaunchResult }) {
  const { answer } = result;
  return (
    <>
      {answer.decision === "no_similar_product" ? <NoSimilar answer={answer} /> : <Decision answer={answer} />}
      <p className="provenance" data-testid="launch-provenance">
        {answer.decision === "test" && (
          <>
            Model <strong data-testid="launch-model">{answer.model ?? result.model ?? "not reported"}</strong>
            {answer.incidence_model && <> with {answer.incidence_model}</>} ·{" "}
          </>
        )}
        {result.modelVersion && <>bundle {result.modelVersion} · </>}
        <span data-testid="launch-cache" data-cache={result.cache ?? ""}>
          {result.cache ? (CACHE_WORDS[result.cache] ?? result.cache) : "cache not reported"}
        </span>
      </p>
    </>
  );
}

function NoSimilar({ answer }: { answer: NoSimilarProduct }) {
  return (
    <section
      className="decision hold"
      aria-label="Launch decision"
      data-testid="launch-no-similar"
      data-closest={answer.closest?.stockcode ?? ""}
      data-similarity={answer.closest?.similarity ?? ""}
    >
      <p className="decision-text" data-testid="launch-no-similar-text">
        {noSimilarText(answer)}
      </p>
      <p className="hint">{reasonText(answer)}</p>
    </section>
  );
}

function Decision({ answer }: { answer: LaunchDecision }) {
  const { recommended, interval, reference } = answer;
  const [low, high] = interval.price;
  const objective = answer.objective === "profit" ? recommended.profit : recommended.sales;
  const per = answer.per === "week" ? "per week" : "per order line";
  const rows = neighbourRows(answer);
  const costs = rows.some((row) => row.unitCost !== null);
  return (
    <>
      <section className="decision test" aria-label="Launch decision" data-testid="launch-decision">
        <p className="decision-text" data-testid="launch-text">
          {launchText(answer)}
        </p>
        <dl className="figures">
          <Figure term="Launch price" testId="launch-price" value={recommended.price}>
            {formatPrice(recommended.price)}
          </Figure>
          <Figure
            term={`${Math.round(interval.level * 100)}% interval`}
            testId="launch-interval"
            data={{ "data-low": low, "data-high": high }}
          >
            {formatPrice(low)}–{formatPrice(high)}
          </Figure>
          <Figure
            term="Reference price"
            testId="launch-reference"
            value={reference.price}
            data={{ "data-source": reference.source }}
          >
            {formatPrice(reference.price)}
          </Figure>
          <Figure term="Beats the reference" testId="launch-probability" value={answer.probability_beats_reference}>
            {formatPercent(answer.probability_beats_reference)}
          </Figure>
          {objective !== undefined && (
            <Figure term={`${measureLabel(answer, "objective")} at launch`} testId="launch-objective" value={objective}>
              {formatPrice(objective)}
            </Figure>
          )}
          <Figure term={`Units ${per} at launch`} testId="launch-units" value={recommended.units}>
            {formatQuantity(recommended.units)}
          </Figure>
        </dl>
        <p className="hint" data-testid="launch-reference-text">
          {referenceText(answer)} {probabilityText(answer)}
        </p>
        <p className="hint" data-testid="launch-reason">
          {reasonText(answer)}
        </p>
      </section>
      <section className="launch-test" aria-label="Proposed test" data-testid="launch-test" data-arms={answer.test.arms.join(" ")}>
        <h3>The test it proposes</h3>
        <p>{testText(answer)}</p>
      </section>
      <section className="launch-neighbours" aria-label="Neighbours">
        <h3>
          Similar products ({rows.length}, similarity at least {answer.min_similarity})
        </h3>
        <table className="experiment-weeks" data-testid="launch-neighbours">
          <thead>
            <tr>
              <th scope="col">Stockcode</th>
              <th scope="col" className="text">
                Description
              </th>
              <th scope="col">Similarity</th>
              <th scope="col">Current price</th>
              {costs && <th scope="col">Unit cost</th>}
              <th scope="col">Weight</th>
              <th scope="col">Units {per} at {formatMoney(recommended.price)}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.stockcode} data-stockcode={row.stockcode}>
                <th scope="row" className="code">
                  {row.stockcode}
                </th>
                <td className="text">{row.description}</td>
                <td data-value={row.similarity}>{row.similarity}</td>
                <td data-value={row.currentPrice}>{formatMoney(row.currentPrice)}</td>
                {costs && <td>{row.unitCost === null ? "–" : formatMoney(row.unitCost)}</td>}
                <td data-value={row.weight}>{row.weight}</td>
                <td>{row.unitsAtLaunch === null ? "–" : formatQuantity(row.unitsAtLaunch)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <LaunchChart answer={answer} />
      <p className="hint">
        The launch price maximises {objectivePhrase(answer)} over the launch curve; the interval comes from{" "}
        {interval.draws} draws: {interval.method}.
      </p>
    </>
  );
}
