// The price decision in words, and the form's inputs as a request. Pure functions, so they are tested without a
// browser.
import type { DecisionQuery, Objective, PriceDecision, RuleOutcome } from "./api";
import {
  formatMoney,
  formatPercent,
  formatPrice,
  formatSignedMoney,
  formatSignedPercent,
  objectiveView,
} from "./chartData";

const HALF_PENNY = 0.005; // prices closer than this are the same price, as the API judges them

/** A date of the API's (YYYY-MM-DD) as people write it: 9 Dec 2011. */
export function formatDate(iso: string): string {
  const date = new Date(`${iso}T00:00:00Z`);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleDateString("en-GB", { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" });
}

/** Where the current price comes from: "set on 9 Dec 2011", or the median when the bundle knows no list price. */
export function currentPriceOrigin(current: PriceDecision["current"]): string {
  if (current.date) return `set on ${formatDate(current.date)}`;
  return current.source === "median_price" ? "the median price in the training window" : current.source;
}

/** "+4.2% weekly profit (+£32.80 a week)", or "+£32.80 weekly profit" when the current figure is 0. */
function gainWords(decision: PriceDecision): string {
  const view = objectiveView(decision);
  const { objective: gain, objective_relative: relative } = decision.expected_change;
  if (gain === null) return view.phrase;
  const money = formatSignedMoney(gain);
  if (relative === null) return `${money} ${view.phrase}`;
  return `${formatSignedPercent(relative)} ${view.phrase} (${money} ${view.per})`;
}

/**
 * The decision as a pricing manager reads it:
 * "Change the price to £1.35 (from £1.18, set on 9 Dec 2011): +4.2% weekly profit (+£32.80 a week); 93% of the
 * model's draws agree.", "Test before changing: keep £1.18 ... and try £0.95, ..., 2 weeks each ..." or
 * "Hold at £1.18: <the API's reason>.", then the best price under the rules when a hold
 * leaves one unused.
 */
export function decisionText(decision: PriceDecision): string {
  const current = decision.current;
  if (decision.decision === "change") {
    const probability = decision.probability_beats_current;
    const confidence =
      probability === null
        ? "judged on the expected gain alone: this bundle carries no uncertainty estimate"
        : `${formatPercent(Math.round(probability * 100) / 100)} of the model's draws agree`;
    return (
      `Change the price to ${formatMoney(decision.price_to_set)} (from ${formatMoney(current.price)}, ` +
      `${currentPriceOrigin(current)}): ${gainWords(decision)}; ${confidence}.`
    );
  }
  const origin = currentPriceOrigin(current);
  if (decision.decision === "test" && decision.test !== null) {
    const test = decision.test;
    const arms = test.arms.map(formatMoney).join(", ");
    const cost = test.expected_weekly_cost;
    const costWords =
      cost >= 0
        ? `expected to cost ${formatMoney(cost)} a week against holding`
        : `expected to earn ${formatMoney(-cost)} a week more than holding`;
    return (
      `Test before changing: keep ${formatMoney(decision.price_to_set)} (${origin}) and try ${arms}, ` +
      `${test.weeks_per_arm} weeks each (${test.weeks} weeks; ${costWords}): ${decision.decision_reason}. ` +
      `The model's best price under these rules, ${formatMoney(decision.recommended.price)}, would give ` +
      `${gainWords(decision)}.`
    );
  }
  const hold = `Hold at ${formatMoney(decision.price_to_set)} (${origin}): ${decision.decision_reason}.`;
  const best = decision.recommended.price;
  if (Math.abs(best - current.price) < HALF_PENNY) return hold;
  return `${hold} The model's best price under these rules, ${formatMoney(best)}, would give ${gainWords(decision)}.`;
}

const RULE_NAMES: Record<string, string> = {
  floor: "Floor",
  ceiling: "Ceiling",
  max_change: "Largest change",
  price_ending: "Price ending",
  min_margin: "Smallest margin",
};

function ruleName(rule: RuleOutcome, decision: PriceDecision): string {
  const value = rule.value;
  if (rule.rule === "support") {
    return `Within the prices sold (${formatMoney(decision.support.low)}–${formatMoney(decision.support.high)})`;
  }
  const name = RULE_NAMES[rule.rule] ?? rule.rule;
  if (value === null) return name;
  if (rule.rule === "floor" || rule.rule === "ceiling") return `${name} ${formatMoney(value)}`;
  if (rule.rule === "price_ending") return `${name} .${formatPrice(value).split(".")[1] ?? "00"}`;
  if (rule.rule === "max_change" || rule.rule === "min_margin") return `${name} ${formatPercent(value)}`;
  return `${name} ${value}`;
}

export interface RuleLine {
  rule: string;
  binding: boolean;
  /** "Floor £1.50: binds, costs £12.30 a week" or "Largest change 20%: does not bind" */
  text: string;
}

/** Each rule in force, whether it binds and what it costs (what lifting it alone would gain). */
export function ruleLines(decision: PriceDecision): RuleLine[] {
  const view = objectiveView(decision);
  return decision.rules.map((rule) => ({
    rule: rule.rule,
    binding: rule.binding,
    text: `${ruleName(rule, decision)}: ${
      rule.binding ? `binds, costs ${formatMoney(rule.cost)} ${view.per}` : "does not bind"
    }`,
  }));
}

/** The form's inputs as typed (numbers as text: a blank input is "not set"). */
export interface DecisionForm {
  low: string;
  high: string;
  bins: string;
  objective: Objective;
  unitCost: string;
  floor: string;
  ceiling: string;
  /** Percent of the current price: "20" is 0.2. */
  maxChangePercent: string;
  /** Pence: "0.99" */
  priceEnding: string;
  /** Percent: "30" is 0.3. */
  minMarginPercent: string;
}

function numberOf(text: string): number | undefined {
  if (!text.trim()) return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

/** A percentage as the fraction the API takes, without binary noise (7 % is 0.07, not 0.07000000000000001). */
function fractionOf(text: string): number | undefined {
  const value = numberOf(text);
  return value === undefined ? undefined : Math.round(value * 1e4) / 1e6;
}

/**
 * The request for a form. Blank inputs are left to the API's defaults (the range: the product's history). The
 * unit cost goes only when it differs from the cost file's (`fileCost`, null when none was published): the input
 * shows that cost, and sending it would turn "the published cost" into a typed one.
 */
export function decisionQuery(form: DecisionForm, fileCost: number | null): DecisionQuery {
  const unitCost = numberOf(form.unitCost);
  const query: DecisionQuery = {
    unitpriceMin: numberOf(form.low),
    unitpriceMax: numberOf(form.high),
    numPriceBins: numberOf(form.bins),
    objective: form.objective,
    unitCost: unitCost !== undefined && unitCost !== fileCost ? unitCost : undefined,
    floor: numberOf(form.floor),
    ceiling: numberOf(form.ceiling),
    maxChange: fractionOf(form.maxChangePercent),
    priceEnding: numberOf(form.priceEnding),
    minMargin: fractionOf(form.minMarginPercent),
  };
  // only the fields set, so a request compares (and reads in a test) as what goes in the URL
  return Object.fromEntries(Object.entries(query).filter(([, value]) => value !== undefined)) as DecisionQuery;
}
