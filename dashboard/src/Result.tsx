import type { DecisionResult, Product } from "./api";
import { objectiveView, sweptRange } from "./chartData";
import { ChartFigure } from "./ChartFigure";
import { DecisionFigures } from "./DecisionFigures";
import { DecisionSummary } from "./DecisionSummary";
import { ProvenanceLine } from "./ProvenanceLine";
import { SupportNotes } from "./SupportNotes";

/**
 * An answer of the API's, in full: the decision in words, its figures, the warnings, the chart and where it came
 * from. `history`: the product's own prices, when known, to warn of a range past them.
 */
export function Result({ result, history }: { result: DecisionResult; history: Product | null }) {
  const decision = result.decision;
  const range = sweptRange(decision.curve);
  if (!range) return null;
  const view = objectiveView(decision);
  return (
    <>
      <DecisionSummary decision={decision} view={view} />
      <DecisionFigures decision={decision} view={view} />
      <SupportNotes decision={decision} range={range} history={history} />
      <ChartFigure decision={decision} view={view} />
      <ProvenanceLine result={result} />
    </>
  );
}
