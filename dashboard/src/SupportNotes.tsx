import type { PriceDecision, Product } from "./api";
import { formatPrice, leavesHistory } from "./chartData";

/**
 * The warnings that the model extrapolates: the range swept goes past the prices the product sold at (`history`,
 * when known), or the recommended price lies outside them.
 */
export function SupportNotes({
  decision,
  range,
  history,
}: {
  decision: PriceDecision;
  range: { min: number; max: number };
  history: Product | null;
}) {
  const support = decision.support;
  return (
    <>
      {history && leavesHistory(range, history) && (
        <p className="note" data-testid="extrapolation">
          This range goes past the prices the product sold at ({formatPrice(history.price_min)}–
          {formatPrice(history.price_max)}): there the model extrapolates, so treat the curve with care.
        </p>
      )}
      {support.recommendation_outside && (
        <p className="note" data-testid="outside-support">
          The recommended price lies outside the prices the product sold at ({formatPrice(support.low)}–
          {formatPrice(support.high)}, with a {Math.round(support.tolerance * 100)}% margin): the model extrapolates
          there.
        </p>
      )}
    </>
  );
}
