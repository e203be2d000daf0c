import type { PriceDecision } from "./api";
import { ruleLines } from "./decision";

/** Each rule in force, whether it binds and what it costs; nothing when no rule is. */
export function RuleList({ decision }: { decision: PriceDecision }) {
  const rules = ruleLines(decision);
  if (rules.length === 0) return null;
  return (
    <ul className="rules" aria-label="Rules" data-testid="rules">
      {rules.map((rule) => (
        <li key={rule.rule} data-testid={`rule-${rule.rule}`} data-binding={rule.binding}>
          {rule.text}
        </li>
      ))}
    </ul>
  );
}
