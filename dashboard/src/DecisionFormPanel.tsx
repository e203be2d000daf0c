import type { FormEvent } from "react";
import type { Objective } from "./api";
import type { DecisionForm } from "./decision";
import type { TextField } from "./decisionFormState";
import { NumberInput, PriceInput } from "./inputs";

/** The request form: the prices swept, the objective and its unit cost, and the rules. */
export function DecisionFormPanel({
  form,
  canAsk,
  edit,
  submit,
  historyRange,
  switchObjective,
}: {
  form: DecisionForm;
  /** whether a product is open, so there is something to ask */
  canAsk: boolean;
  edit: (field: TextField, value: string) => void;
  submit: () => void;
  historyRange: () => void;
  switchObjective: (objective: Objective) => void;
}) {
  const field = (name: TextField) => ({ value: form[name], onChange: (value: string) => edit(name, value) });

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    submit();
  }

  return (
    <form className="sweep" onSubmit={onSubmit} aria-label="Price decision">
      <fieldset>
        <legend>Prices swept</legend>
        <PriceInput label="Lowest price" {...field("low")} optional />
        <PriceInput label="Highest price" {...field("high")} optional />
        <label>
          Price bins
          <input
            type="number"
            min="2"
            max="500"
            step="1"
            required
            value={form.bins}
            onChange={(e) => edit("bins", e.target.value)}
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
                checked={form.objective === kind}
                disabled={!canAsk}
                onChange={() => switchObjective(kind)}
              />
              {kind === "revenue" ? "Revenue" : "Profit"}
            </label>
          ))}
        </div>
        <PriceInput label="Unit cost" {...field("unitCost")} optional />
      </fieldset>
      <fieldset>
        <legend>Rules (optional)</legend>
        <PriceInput label="Floor" {...field("floor")} optional />
        <PriceInput label="Ceiling" {...field("ceiling")} optional />
        <NumberInput label="Largest change (%)" {...field("maxChangePercent")} max="100" step="any" />
        <NumberInput label="Price ending" {...field("priceEnding")} max="0.99" step="0.01" />
        <NumberInput label="Smallest margin (%)" {...field("minMarginPercent")} max="99" step="any" />
      </fieldset>
      <div className="actions">
        <button type="submit" disabled={!canAsk}>
          Update
        </button>
        <button type="button" disabled={!canAsk} onClick={historyRange}>
          History range
        </button>
      </div>
    </form>
  );
}
