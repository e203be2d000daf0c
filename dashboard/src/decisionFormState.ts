// The request form's state and the price request it sends, as a reducer: pure, so it is tested without a browser.
import type { DecisionQuery, Objective, PriceDecision } from "./api";
import { sweptRange } from "./chartData";
import { type DecisionForm, decisionQuery } from "./decision";
import type { PriceRequest } from "./useRecommendation";

export const DEFAULT_BINS = 100; // the API's own default

export interface DecisionFormState {
  /** the inputs as typed */
  form: DecisionForm;
  /** the product's cost from the cost file published with the bundle (null: none), which the unit-cost input shows */
  fileCost: number | null;
  /** the request the page asks now (a new object each time, so "Update" with the same values asks again) */
  request: PriceRequest | null;
}

/** The inputs a field of the form holds: all but the objective, which the switch sets (and asks at once). */
export type TextField = Exclude<keyof DecisionForm, "objective">;

export type DecisionFormAction =
  | { type: "edit"; field: TextField; value: string }
  /** a product picked: its own range, cost, floor and ceiling cleared, the policy kept, and asked for */
  | { type: "pick"; stockcode: string }
  /** "Update": ask for the inputs as they stand */
  | { type: "submit" }
  /** "History range": ask over the product's history, whatever the range inputs hold */
  | { type: "historyRange" }
  | { type: "objective"; objective: Objective }
  /** an answer came for `asked`: the inputs show what it filled in */
  | { type: "answered"; decision: PriceDecision; asked: DecisionQuery };

export const BLANK_FORM: DecisionForm = {
  low: "",
  high: "",
  bins: String(DEFAULT_BINS),
  objective: "revenue",
  unitCost: "",
  floor: "",
  ceiling: "",
  maxChangePercent: "",
  priceEnding: "",
  minMarginPercent: "",
};

/** The state a page opens with: `stockcode` (from a shared link) is asked for at once with the API's defaults. */
export function initialDecisionForm(stockcode: string | null): DecisionFormState {
  return {
    form: BLANK_FORM,
    fileCost: null,
    request: stockcode ? { stockcode, query: decisionQuery(BLANK_FORM, null) } : null,
  };
}

/** The same product asked again for `form`; nothing when no product is open. */
function askAgain(state: DecisionFormState, form: DecisionForm): PriceRequest | null {
  return state.request && { stockcode: state.request.stockcode, query: decisionQuery(form, state.fileCost) };
}

export function decisionFormReducer(state: DecisionFormState, action: DecisionFormAction): DecisionFormState {
  switch (action.type) {
    case "edit":
      return { ...state, form: { ...state.form, [action.field]: action.value } };
    case "pick": {
      // the range, the cost and the floor and ceiling are the product's own; the objective and the percentage
      // rules are a policy, kept from one product to the next
      const form = { ...state.form, low: "", high: "", unitCost: "", floor: "", ceiling: "" };
      return { form, fileCost: null, request: { stockcode: action.stockcode, query: decisionQuery(form, null) } };
    }
    case "submit":
      return state.request ? { ...state, request: askAgain(state, state.form) } : state;
    case "historyRange":
      return state.request ? { ...state, request: askAgain(state, { ...state.form, low: "", high: "" }) } : state;
    case "objective": {
      const form = { ...state.form, objective: action.objective };
      return { ...state, form, request: askAgain(state, form) };
    }
    case "answered":
      return answered(state, action.decision, action.asked);
  }
}

function answered(state: DecisionFormState, decision: PriceDecision, asked: DecisionQuery): DecisionFormState {
  let { form, fileCost } = state;
  // An end not given is the product's history (the API's default): show the range swept in the inputs, so the
  // next change starts from it.
  const range = sweptRange(decision.curve);
  if (range && asked.unitpriceMin === undefined) form = { ...form, low: String(range.min) };
  if (range && asked.unitpriceMax === undefined) form = { ...form, high: String(range.max) };
  // The first request goes without a unit cost: the answer says whether a cost file gave one, and the input then
  // shows it (sent again only when changed).
  if (decision.unit_cost_source === "cost_file" && decision.unit_cost !== null) {
    fileCost = decision.unit_cost;
    if (!form.unitCost.trim()) form = { ...form, unitCost: String(fileCost) };
  } else if (decision.unit_cost_source === null) {
    fileCost = null;
  }
  return form === state.form && fileCost === state.fileCost ? state : { ...state, form, fileCost };
}
