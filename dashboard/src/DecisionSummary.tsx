import type { PriceDecision } from "./api";
import { type ObjectiveView, formatMoney } from "./chartData";
import { decisionText } from "./decision";
import { RuleList } from "./RuleList";

const SOURCE_WORDS: Record<string, string> = {
  cost_file: "the cost file published with the model",
  query: "the cost entered here",
};

/** The decision in words: change or hold, the interval, the rules, and the objective's and unit cost's notes. */
export function DecisionSummary({ decision, view }: { decision: PriceDecision; view: ObjectiveView }) {
  const interval = decision.interval;
  return (
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
      <RuleList decision={decision} />
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
  );
}
