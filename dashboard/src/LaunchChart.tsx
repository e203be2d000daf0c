import { useMemo, useState } from "react";
import {
  CartesianGrid,
  ComposedChart,
  Legend,
  Line,
  ReferenceArea,
  ReferenceLine,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from "recharts";
import { formatPrice, formatQuantity } from "./chartData";
import { type LaunchDecision, type LaunchMeasure, launchChart, measureLabel } from "./launch";

const LAUNCH = "#2563eb";
const OPTIMUM = "#b91c1c";
const REFERENCE = "#111827";
// the neighbours: muted and dashed, so the launch curve (their weighted mean) stands out
const NEIGHBOURS = ["#b45309", "#047857", "#7c3aed", "#be185d", "#0e7490", "#4d7c0f"];

function formatAxis(value: number): string {
  return value.toLocaleString("en-GB", { maximumSignificantDigits: 3 });
}

/**
 * The launch curve (units, or the objective the API used, against the new product's price) with each neighbour's
 * curve at the same prices, the 90% interval for the launch price as a band, the launch and the reference price
 * marked. The neighbours' curves are their own demand read at the new product's prices (`neighbours[k].units`):
 * the launch curve is their similarity-weighted mean.
 */
export function LaunchChart({ answer }: { answer: LaunchDecision }) {
  const [measure, setMeasure] = useState<LaunchMeasure>("objective");
  const { rows, series } = useMemo(() => launchChart(answer, measure), [answer, measure]);
  const prices = answer.curve.map((point) => point.price);
  const domain: [number, number] = [Math.min(...prices), Math.max(...prices)];
  const [low, high] = answer.interval.price;
  const label = measureLabel(answer, measure);
  const units = measure === "units";
  const format = (value: unknown) => (units ? formatQuantity(Number(value)) : formatPrice(Number(value)));
  return (
    <figure className="chart" data-testid="launch-chart" data-measure={measure}>
      <div className="switch launch-measure" role="radiogroup" aria-label="Plot against the price">
        {(["objective", "units"] as const).map((kind) => (
          <label key={kind} className="switch-option">
            <input
              type="radio"
              name="launch-measure"
              value={kind}
              checked={measure === kind}
              onChange={() => setMeasure(kind)}
            />
            {measureLabel(answer, kind)}
          </label>
        ))}
      </div>
      <ResponsiveContainer width="100%" height={340}>
        <ComposedChart data={rows} margin={{ top: 24, right: 48, bottom: 8, left: 8 }}>
          <CartesianGrid strokeDasharray="3 3" strokeOpacity={0.5} />
          <XAxis
            dataKey="price"
            type="number"
            domain={domain}
            tickFormatter={formatAxis}
            label={{ value: "New product's unit price", position: "insideBottom", offset: -4 }}
            height={40}
          />
          <YAxis width={64} tickFormatter={formatAxis} />
          <Tooltip
            formatter={(value: unknown, name: unknown) => [format(value), String(name)]}
            labelFormatter={(price) => `Unit price ${formatPrice(Number(price))}`}
          />
          {/* by dataKey: the launch curve first, then the neighbours in the API's order (n0, n1, …) */}
          <Legend verticalAlign="bottom" itemSorter="dataKey" />
          <ReferenceArea
            className="interval-band"
            x1={low}
            x2={high}
            ifOverflow="hidden"
            fill={OPTIMUM}
            fillOpacity={0.1}
            stroke={OPTIMUM}
            strokeOpacity={0.3}
            label={{
              value: `${Math.round(answer.interval.level * 100)}% interval`,
              position: "insideBottom",
              fill: OPTIMUM,
              fontSize: 11,
            }}
          />
          {series.slice(1).map((line, i) => (
            <Line
              key={line.key}
              className="launch-neighbour"
              dataKey={line.key}
              name={line.name}
              type="monotone"
              stroke={NEIGHBOURS[i % NEIGHBOURS.length]}
              strokeWidth={1.5}
              strokeDasharray="5 4"
              dot={false}
              isAnimationActive={false}
            />
          ))}
          <Line
            className="launch-curve"
            dataKey="launch"
            name={`${series[0].name}: ${label.toLowerCase()}`}
            type="monotone"
            stroke={LAUNCH}
            strokeWidth={3}
            dot={false}
            isAnimationActive={false}
          />
          <ReferenceLine
            className="marker-launch"
            x={answer.recommended.price}
            stroke={OPTIMUM}
            strokeWidth={2}
            strokeDasharray="6 4"
            label={{ value: `Launch ${formatPrice(answer.recommended.price)}`, position: "top", fill: OPTIMUM, fontSize: 13 }}
          />
          <ReferenceLine
            className="marker-reference"
            x={answer.reference.price}
            stroke={REFERENCE}
            strokeWidth={1.5}
            strokeDasharray="2 3"
            label={{
              value: `Reference ${formatPrice(answer.reference.price)}`,
              position: answer.reference.price <= answer.recommended.price ? "insideTopLeft" : "insideTopRight",
              fill: REFERENCE,
              fontSize: 12,
            }}
          />
        </ComposedChart>
      </ResponsiveContainer>
      <figcaption className="hint">
        {label} against the new product's price: the launch curve (blue) is the neighbours' curves (dashed, each one's
        demand mapped onto the new product's prices) weighted by similarity. The band is the{" "}
        {Math.round(answer.interval.level * 100)}% interval for the launch price ({formatPrice(low)}–
        {formatPrice(high)}).
      </figcaption>
    </figure>
  );
}
