import type { PriceDecision } from "./api";
import {
  type ObjectiveView,
  formatPrice,
  formatQuantity,
  formatSignedMoney,
  formatSignedPercent,
} from "./chartData";
import { currentPriceOrigin } from "./decision";
import { Figure } from "./Figure";

/**
 * The decision's figures: the price to set, the recommended and the current price, the expected change, and the
 * recommended price's weekly sales, profit and units (or, for a bundle without weekly figures, per order line).
 */
export function DecisionFigures({ decision, view }: { decision: PriceDecision; view: ObjectiveView }) {
  const { recommended, current, expected_change: change } = decision;
  return (
    <dl className="figures">
      <Figure term="Price to set" testId="price-to-set" value={decision.price_to_set}>
        {formatPrice(decision.price_to_set)}
      </Figure>
      <Figure term="Recommended price" testId="optimal-price" value={recommended.price}>
        {formatPrice(recommended.price)}
      </Figure>
      <Figure term={`Current price (${currentPriceOrigin(current)})`} testId="current-price" value={current.price}>
        {formatPrice(current.price)}
      </Figure>
      {change.objective !== null && (
        <Figure
          term={`Expected change in ${view.phrase}`}
          testId="expected-gain"
          value={change.objective}
          data={{ "data-relative": change.objective_relative ?? "" }}
        >
          {formatSignedMoney(change.objective)}
          {change.objective_relative !== null && <small> ({formatSignedPercent(change.objective_relative)})</small>}
        </Figure>
      )}
      {view.weekly ? (
        <>
          <Figure term="Sales per week" testId="sales-per-week" value={recommended.sales}>
            {formatPrice(recommended.sales)}
          </Figure>
          {recommended.profit !== null && (
            <Figure term="Profit per week" testId="profit-per-week" value={recommended.profit}>
              {formatPrice(recommended.profit)}
            </Figure>
          )}
          <Figure term="Units per week" testId="units-per-week">
            {formatQuantity(recommended.units)}
          </Figure>
        </>
      ) : (
        <>
          <Figure term="Expected quantity per order line" testId="expected-quantity">
            {formatQuantity(recommended.units)} units
          </Figure>
          <Figure term="Expected sales per order line" testId="expected-sales">
            {formatPrice(recommended.sales)}
          </Figure>
        </>
      )}
    </dl>
  );
}
