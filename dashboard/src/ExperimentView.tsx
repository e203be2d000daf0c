import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { ExperimentAnswer } from "./api";
import { formatMoney } from "./chartData";
import { experimentRows, experimentText, holdoutText, realisedSeries, slopeText, stateText } from "./experiment";

const REALISED = "#2563eb";
const EXPECTED = "#9ca3af";

function money(value: number | null): string {
  return value === null ? "–" : formatMoney(value);
}

/**
 * The product's price experiment: this week's price and why, its state, the arms and weeks planned beside what the
 * shop's lines showed, realised against expected profit per week, and the tested products against the holdout.
 */
export function ExperimentView({ answer }: { answer: ExperimentAnswer }) {
  const results = answer.results;
  const profit = answer.experiment.objective === "profit";
  const figure = profit ? "profit" : "sales";
  const rows = experimentRows(answer);
  const holdout = holdoutText(results, profit);
  const slope = slopeText(results);
  return (
    <section className="experiment" aria-label="Price experiment" data-testid="experiment">
      <h3>
        Price experiment {answer.experiment.id} ({answer.experiment.status}, {answer.experiment.start_week} to{" "}
        {answer.experiment.end_week})
      </h3>
      <p className="decision-text" data-testid="experiment-text" data-price={answer.price} data-arm={answer.arm ?? ""}>
        {experimentText(answer)}
      </p>
      <p className="hint" data-testid="experiment-state" data-state={answer.state}>
        State: {stateText(answer.state)}. Arms: {answer.arms.map(formatMoney).join(", ")} (status quo{" "}
        {formatMoney(answer.status_quo_price)}); at most {Math.round(answer.experiment.step * 100)}% a week, within{" "}
        {Math.round(answer.experiment.band * 100)}% of the status quo; {Math.round(answer.experiment.holdout_share * 100)}%
        of the products held out.
      </p>
      {holdout && (
        <p className="hint" data-testid="experiment-holdout" data-low={results!.did!.low} data-high={results!.did!.high}>
          {holdout}
        </p>
      )}
      {slope && <p className="hint" data-testid="experiment-slope">{slope}</p>}
      {results && results.weeks.length > 0 && (
        <figure className="chart" data-testid="experiment-chart">
          <ResponsiveContainer width="100%" height={220}>
            <LineChart data={realisedSeries(results)} margin={{ top: 8, right: 24, bottom: 8, left: 8 }}>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis dataKey="week" />
              <YAxis width={64} tickFormatter={(value: number) => formatMoney(value)} />
              <Tooltip formatter={(value: unknown) => formatMoney(Number(value))} />
              <Legend />
              <Line dataKey="realised" name={`realised ${figure} a week`} stroke={REALISED} isAnimationActive={false} />
              <Line
                dataKey="expected"
                name={`expected ${figure} a week (the model before the test)`}
                stroke={EXPECTED}
                strokeDasharray="5 4"
                isAnimationActive={false}
              />
            </LineChart>
          </ResponsiveContainer>
          <figcaption className="hint">
            Weekly {figure} the shop's lines showed against what the model expected at each week's price, read back by
            `pricing experiment update` on {results.updated}.
          </figcaption>
        </figure>
      )}
      <table className="experiment-weeks" data-testid="experiment-weeks">
        <thead>
          <tr>
            <th scope="col">Week</th>
            <th scope="col">Arm</th>
            <th scope="col">Planned price</th>
            <th scope="col">Charged</th>
            <th scope="col">Realised {figure}</th>
            <th scope="col">Expected {figure}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.week} className={row.current ? "current" : undefined} data-week={row.week} data-price={row.planned}>
              <th scope="row">
                {row.week}
                {row.current ? " (this week)" : ""}
              </th>
              <td>
                {answer.holdout ? "holdout" : `${row.arm} of ${answer.arms.length}`}
                {row.binding ? ` (${row.binding})` : ""}
              </td>
              <td>{formatMoney(row.planned)}</td>
              <td>{money(row.charged)}</td>
              <td>{money(row.realised)}</td>
              <td>{money(row.expected)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
