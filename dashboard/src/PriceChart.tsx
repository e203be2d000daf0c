import {
  Area,
  CartesianGrid,
  ComposedChart,
  Legend,
  Line,
  ReferenceLine,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from "recharts";
import { type ChartPoint, type Optimum, formatPrice, formatQuantity } from "./chartData";

const SALES = "#2563eb";
const QUANTITY = "#b45309";
const OPTIMUM = "#b91c1c";
// room on the right for the optimum's label when the optimum is the highest price swept
const MARGIN = { top: 8, right: 48, bottom: 8, left: 8 };
const Y_AXIS_WIDTH = 56; // the same in both panels, so their price axes line up

function formatAxis(value: number): string {
  return value.toLocaleString("en-GB", { maximumSignificantDigits: 3 });
}

function formatTooltip(value: unknown, name: unknown): [string, string] {
  const label = String(name);
  if (Array.isArray(value)) return [`${formatQuantity(value[0])} – ${formatQuantity(value[1])}`, label];
  const number = Number(value);
  return [label.startsWith("Quantity") ? formatQuantity(number) : formatPrice(number), label];
}

function priceAxis(title?: string) {
  return (
    <XAxis
      dataKey="price"
      type="number"
      domain={["dataMin", "dataMax"]}
      tickFormatter={formatAxis}
      label={title ? { value: title, position: "insideBottom", offset: -4 } : undefined}
      height={title ? 40 : 24}
    />
  );
}

/**
 * Two panels over one price axis. Weekly (the bundle predicts order lines per week): sales per week with the
 * optimum marked, and below it units per week. Otherwise: predicted sales per order line, and below it the
 * quantity per line (median and min-max across the sampled contexts). One panel with two y axes let the wide
 * band bury the sales curve. Animation is off: the figures are final at once, and so is the chart.
 */
export function PriceChart({ points, optimum, weekly }: { points: ChartPoint[]; optimum: Optimum; weekly: boolean }) {
  const tooltip = (
    <Tooltip formatter={formatTooltip} labelFormatter={(price) => `Unit price ${formatPrice(Number(price))}`} />
  );
  return (
    <>
      <ResponsiveContainer width="100%" height={300}>
        <ComposedChart data={points} syncId="price-sweep" margin={{ ...MARGIN, top: 24 }}>
          <CartesianGrid strokeDasharray="3 3" strokeOpacity={0.5} />
          {priceAxis()}
          <YAxis width={Y_AXIS_WIDTH} tickFormatter={formatAxis} />
          {tooltip}
          {/* below the plot: above it is the optimum's label */}
          <Legend verticalAlign="bottom" height={24} />
          <Area
            dataKey={weekly ? "salesPerWeek" : "sales"}
            name={weekly ? "Sales per week" : "Predicted sales per order line"}
            type="monotone"
            stroke={SALES}
            strokeWidth={2}
            fill={SALES}
            fillOpacity={0.2}
            isAnimationActive={false}
          />
          <ReferenceLine
            x={optimum.price}
            stroke={OPTIMUM}
            strokeWidth={2}
            strokeDasharray="6 4"
            label={{ value: `Optimal ${formatPrice(optimum.price)}`, position: "top", fill: OPTIMUM, fontSize: 13 }}
          />
        </ComposedChart>
      </ResponsiveContainer>
      <ResponsiveContainer width="100%" height={190}>
        <ComposedChart data={points} syncId="price-sweep" margin={MARGIN}>
          <CartesianGrid strokeDasharray="3 3" strokeOpacity={0.5} />
          {priceAxis("Unit price")}
          <YAxis width={Y_AXIS_WIDTH} tickFormatter={formatAxis} />
          {tooltip}
          <Legend verticalAlign="top" align="right" height={24} />
          {!weekly && (
            <Area
              dataKey="quantityBand"
              name="Quantity min–max"
              stroke={QUANTITY}
              strokeOpacity={0.4}
              fill={QUANTITY}
              fillOpacity={0.15}
              isAnimationActive={false}
            />
          )}
          <Line
            dataKey={weekly ? "unitsPerWeek" : "quantity"}
            name={weekly ? "Quantity per week (units)" : "Quantity (median)"}
            stroke={QUANTITY}
            strokeWidth={2}
            dot={false}
            isAnimationActive={false}
          />
          <ReferenceLine x={optimum.price} stroke={OPTIMUM} strokeWidth={2} strokeDasharray="6 4" />
        </ComposedChart>
      </ResponsiveContainer>
    </>
  );
}
