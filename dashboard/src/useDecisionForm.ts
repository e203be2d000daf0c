import { useEffect, useReducer } from "react";
import type { ApiClient, Objective } from "./api";
import type { DecisionForm } from "./decision";
import { type TextField, decisionFormReducer, initialDecisionForm } from "./decisionFormState";
import { type Load, type PriceRequest, useRecommendation } from "./useRecommendation";

/** `?stockcode=…` opens a product directly, so a view can be shared or reloaded. */
function stockcodeInUrl(): string | null {
  return new URLSearchParams(window.location.search).get("stockcode")?.trim() || null;
}

export interface DecisionFormControls {
  form: DecisionForm;
  /** the request asked last (null until a product is open) */
  request: PriceRequest | null;
  /** its answer */
  load: Load;
  edit: (field: TextField, value: string) => void;
  pick: (stockcode: string) => void;
  submit: () => void;
  historyRange: () => void;
  switchObjective: (objective: Objective) => void;
}

/**
 * The request form's inputs, the request they make (see decisionFormReducer) and its answer, whose range swept
 * and cost-file unit cost the inputs then show.
 */
export function useDecisionForm(client: ApiClient): DecisionFormControls {
  const [state, dispatch] = useReducer(decisionFormReducer, null, () => initialDecisionForm(stockcodeInUrl()));
  const load = useRecommendation(client, state.request);

  // Reacts to an answer only (not to a newer request while the older answer is still shown).
  useEffect(() => {
    if (load.status !== "done") return;
    dispatch({ type: "answered", decision: load.result.decision, asked: load.request.query });
  }, [load]);

  return {
    form: state.form,
    request: state.request,
    load,
    edit: (field, value) => dispatch({ type: "edit", field, value }),
    pick: (stockcode) => {
      dispatch({ type: "pick", stockcode });
      window.history.replaceState(null, "", `?stockcode=${encodeURIComponent(stockcode)}`);
    },
    submit: () => dispatch({ type: "submit" }),
    historyRange: () => dispatch({ type: "historyRange" }),
    switchObjective: (objective) => dispatch({ type: "objective", objective }),
  };
}
