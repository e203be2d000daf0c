// The product's price experiment in words and rows: pure functions over the API's experiment answer, so they are
// tested without a browser.
import type { ExperimentAnswer, ExperimentResults, ExperimentState } from "./api";
import { formatMoney, formatSignedMoney } from "./chartData";

const STATE_WORDS: Record<ExperimentState, string> = {
  planned: "planned: no test week has been read back yet",
  learning: "learning: the test cannot yet say which way to move the price",
  monetising: "monetising: the test has settled which way to move; priced at what it learnt",
  stopped: "stopped: the stop-loss returned it to its status-quo price",
  holdout: "holdout: kept at its status-quo price, the comparison for the tested products",
};

/** The product's state in a sentence (the states of `pricing experiment update`, docs/EXPERIMENTS.md). */
export function stateText(state: ExperimentState): string {
  return STATE_WORDS[state];
}

/**
 * This week's experiment price as a pricing manager reads it: "Week 3 of 10 (2026-W12): set £3.25, arm 4 of 5
 * (propensity 20%); binding guardrail: step. <the API's reason>." (the propensity: the probability that the
 * design put the product at this arm this week) For a holdout product or a week outside the
 * experiment, the status-quo price and why.
 */
export function experimentText(answer: ExperimentAnswer): string {
  const { experiment, week, week_index: index } = answer;
  const price = `set ${formatMoney(answer.price)}`;
  // outside its weeks, the API's reason says which weeks the experiment runs
  if (index === null) return `Week ${week}: ${price}. ${sentence(answer.reason)}`;
  const when = `Week ${index + 1} of ${experiment.weeks} (${week})`;
  if (answer.holdout) return `${when}: ${price}, its status-quo price: it is in the holdout.`;
  const arm =
    answer.arm === null
      ? ""
      : `, arm ${answer.arm + 1} of ${answer.arms.length}` +
        (answer.propensity === null ? "" : ` (propensity ${Math.round(answer.propensity * 100)}%)`);
  const guardrail = answer.binding_guardrail ? `; binding guardrail: ${answer.binding_guardrail}` : "";
  return `${when}: ${price}${arm}${guardrail}. ${sentence(answer.reason)}`;
}

/** The API's reason as a sentence of its own: capitalised, one full stop (it comes with or without one). */
function sentence(text: string): string {
  const bare = text.replace(/\.$/, "");
  return bare ? `${bare[0].toUpperCase()}${bare.slice(1)}.` : "";
}

/** One row of the experiment's week table: the plan, and what the shop's lines showed once read back. */
export interface ExperimentRow {
  week: string;
  /** the arm's number as people count (1 = the lowest price) */
  arm: number;
  planned: number;
  binding: string | null;
  current: boolean;
  /** the list price the lines showed; null before the week was read back */
  charged: number | null;
  realised: number | null;
  expected: number | null;
}

/** The schedule's weeks, each with its read-back results where the update had them (joined on the ISO week). */
export function experimentRows(answer: ExperimentAnswer): ExperimentRow[] {
  const seen = new Map((answer.results?.weeks ?? []).map((week) => [week.week, week]));
  return answer.schedule.map((planned) => {
    const read = seen.get(planned.week);
    return {
      week: planned.week,
      arm: planned.arm + 1,
      planned: planned.price,
      binding: planned.binding,
      current: planned.week === answer.week,
      charged: read?.price ?? null,
      realised: read?.realised ?? null,
      expected: read?.expected ?? null,
    };
  });
}

/** The chart's points: every week read back (pre-period weeks included), in week order. */
export function realisedSeries(results: ExperimentResults): { week: string; realised: number; expected: number }[] {
  return [...results.weeks]
    .sort((a, b) => a.week.localeCompare(b.week))
    .map(({ week, realised, expected }) => ({ week, realised, expected }));
}

/**
 * The holdout comparison in words: "Tested products against the holdout: +£6.40 weekly profit per product
 * (90% interval −£22.70 to +£35.50): not distinguishable from no change." or null when there is none yet.
 */
export function holdoutText(results: ExperimentResults | null, profit: boolean): string | null {
  const did = results?.did;
  if (!did) return null;
  const figure = profit ? "weekly profit" : "weekly sales";
  const verdict =
    did.low > 0 ? "the tested prices earned more" : did.high < 0 ? "the tested prices earned less" : "not distinguishable from no change";
  return (
    `Tested products against the holdout: ${formatSignedMoney(did.estimate)} ${figure} per product ` +
    `(90% interval ${formatSignedMoney(did.low)} to ${formatSignedMoney(did.high)}): ${verdict}.`
  );
}

/** The elasticity the test learnt: "Elasticity of weekly units: model 1.40 (1.10–1.70), after the test 1.95
 * (1.80–2.10)." */
export function slopeText(results: ExperimentResults | null): string | null {
  if (!results) return null;
  const [p, pl, ph] = results.slope.prior;
  const [q, ql, qh] = results.slope.posterior;
  const f = (value: number) => value.toFixed(2);
  return (
    `Elasticity of weekly units (90% intervals): the model's ${f(p)} (${f(pl)}–${f(ph)}), ` +
    `after the test weeks ${f(q)} (${f(ql)}–${f(qh)}).`
  );
}
