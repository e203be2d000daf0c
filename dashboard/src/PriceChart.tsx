import {
  Area,
  CartesianGrid,
  ComposedChart,
  Legend,
  Line,
  ReferenceArea,
  ReferenceDot,
  ReferenceLine,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from "recharts";
import {
  type Band,
  type ChartRow,
  type Markers,
  type ObjectiveView,
  formatPrice,
  formatQuantity,
  labelSide,
  observedTitle,
} from "./chartData";

const SALES = "#2563eb";
const QUANTITY = "#b45309";
const OPTIMUM = "#b91c1c";
const CURRENT = "#111827";
const OUTSIDE = "#9ca3af"; // outside the prices the product sold at: grey and dashed
const OBSERVED = "#047857";
// room on the right for the recommended price's label when it is the highest price swept
const MARGIN = { top: 8, right: 48, bottom: 8, left: 8 };
const Y_AXIS_WIDTH = 64; // the same in both panels, so their price axes line up

function formatAxis(value: number): string {
  return value.toLocaleString("en-GB", { maximumSignificantDigits: 3 });
}

function formatTooltip(value: unknown, name: unknown): [string, string] {
  const label = String(name);
  const number = Number(value);
  return [/units|quantity/i.test(label) ? formatQuantity(number) : formatPrice(number), label];
}

function priceAxis(domain: [number, number], title?: string) {
  return (
    <XAxis
      dataKey="price"
      type="number"
      domain={domain}
      tickFormatter={formatAxis}
      label={title ? { value: title, position: "insideBottom", offset: -4 } : undefined}
      height={title ? 40 : 24}
    />
  );
}

/** Draws a row's observed level, where it has one: a circle sized by the weeks, its figures in an SVG title. */
function observedDot(view: ObjectiveView, panel: "objective" | "units") {
  return function ObservedDot(props: unknown) {
    const { cx, cy, index, payload } = props as { cx?: number; cy?: number | null; index: number; payload: ChartRow };
    const key = `observed-${panel}-${index}`;
    if (cx === undefined || cy === undefined || cy === null || payload.observed === null) return <g key={key} />;
    return (
      <circle
        key={key}
        className="observed-point"
        cx={cx}
        cy={cy}
        r={payload.observedRadius ?? 4}
        fill={OBSERVED}
        fillOpacity={0.75}
        stroke="#fff"
      >
        <title>{observedTitle(payload.observed, view, panel)}</title>
      </circle>
    );
  };
}

/** The observed weeks of one panel: points only (no line), drawn by observedDot. */
function observedLine(dataKey: keyof ChartRow, name: string, view: ObjectiveView, panel: "objective" | "units") {
  return (
    <Line
      className="observed"
      dataKey={dataKey}
      name={name}
      legendType="circle"
      stroke={OBSERVED}
      strokeWidth={0}
      dot={observedDot(view, panel)}
      activeDot={false}
      isAnimationActive={false}
    />
  );
}

/** A grey dashed piece of a curve outside the prices sold, when the rows have one. */
function outsideLine(rows: ChartRow[], dataKey: keyof ChartRow, name: string, legend: boolean) {
  if (!rows.some((row) => row[dataKey] !== null)) return null;
  return (
    <Line
      className="outside-support"
      dataKey={dataKey}
      name={name}
      legendType={legend ? "plainline" : "none"}
      type="monotone"
      stroke={OUTSIDE}
      strokeWidth={2}
      strokeDasharray="5 4"
      dot={false}
      connectNulls
      isAnimationActive={false}
    />
  );
}

interface Props {
  rows: ChartRow[];
  domain: [number, number];
  view: ObjectiveView;
  band: Band | null;
  markers: Markers;
}

/**
 * Two panels over one price axis. Above: the objective (sales or profit, per week; per order line without an
 * incidence model) with the interval for the optimal price as a band, the recommended and the current price
 * marked (the current one labelled with the expected gain) and the observed weeks as points, larger where more
 * weeks were seen at the price. Below: units per week (per order line without weekly figures). Prices outside the
 * ones the product sold at are drawn grey and dashed: there the model extrapolates. Animation is off: the figures
 * are final at once, and so is the chart.
 */
export function PriceChart({ rows, domain, view, band, markers }: Props) {
  const tooltip = (
    <Tooltip formatter={formatTooltip} labelFormatter={(price) => `Unit price ${formatPrice(Number(price))}`} />
  );
  const side = labelSide(markers.current.price, domain);
  const observed = rows.some((row) => row.observed !== null);
  const extrapolated = "Extrapolated: outside the prices sold";
  const recommendedLine = (label: boolean) => (
    <ReferenceLine
      className="marker-recommended"
      x={markers.recommended.price}
      stroke={OPTIMUM}
      strokeWidth={2}
      strokeDasharray="6 4"
      label={
        label
          ? {
              value: `Recommended ${formatPrice(markers.recommended.price)}`,
              position: "top",
              fill: OPTIMUM,
              fontSize: 13,
            }
          : undefined
      }
    />
  );
  const currentLine = (label: boolean) => (
    <ReferenceLine
      className="marker-current"
      x={markers.current.price}
      stroke={CURRENT}
      strokeWidth={1.5}
      strokeDasharray="2 3"
      label={
        label
          ? {
              value: markers.current.label,
              position: side === "right" ? "insideTopLeft" : "insideTopRight",
              fill: CURRENT,
              fontSize: 12,
            }
          : undefined
      }
    />
  );
  return (
    <>
      <ResponsiveContainer width="100%" height={320}>
        <ComposedChart data={rows} syncId="price-sweep" margin={{ ...MARGIN, top: 24 }}>
          <CartesianGrid strokeDasharray="3 3" strokeOpacity={0.5} />
          {priceAxis(domain)}
          <YAxis width={Y_AXIS_WIDTH} tickFormatter={formatAxis} />
          {tooltip}
          {/* below the plot (above it is the recommended price's label), as high as its entries need */}
          <Legend verticalAlign="bottom" />
          {band && (
            <ReferenceArea
              className="interval-band"
              x1={band.x1}
              x2={band.x2}
              ifOverflow="hidden"
              fill={OPTIMUM}
              fillOpacity={0.12}
              stroke={OPTIMUM}
              strokeOpacity={0.3}
              label={{
                value: `${Math.round(band.level * 100)}% interval`,
                position: "insideBottom",
                fill: OPTIMUM,
                fontSize: 11,
              }}
            />
          )}
          <Area
            dataKey="valueInSupport"
            name={view.label}
            type="monotone"
            stroke={SALES}
            strokeWidth={2}
            fill={SALES}
            fillOpacity={0.2}
            connectNulls
            isAnimationActive={false}
          />
          {outsideLine(rows, "valueOutsideLow", extrapolated, true)}
          {outsideLine(rows, "valueOutsideHigh", extrapolated, !rows.some((row) => row.valueOutsideLow !== null))}
          {observed &&
            observedLine(
              "observedValue",
              `Observed ${view.kind === "profit" ? "profit" : "sales"} per week`,
              view,
              "objective",
            )}
          {recommendedLine(true)}
          {currentLine(true)}
          <ReferenceDot
            className="marker-recommended-dot"
            x={markers.recommended.price}
            y={markers.recommended.value}
            r={5}
            fill={OPTIMUM}
            stroke="#fff"
            ifOverflow="extendDomain"
          />
          <ReferenceDot
            className="marker-current-dot"
            x={markers.current.price}
            y={markers.current.value}
            r={5}
            fill={CURRENT}
            stroke="#fff"
            ifOverflow="extendDomain"
          />
        </ComposedChart>
      </ResponsiveContainer>
      <ResponsiveContainer width="100%" height={190}>
        <ComposedChart data={rows} syncId="price-sweep" margin={MARGIN}>
          <CartesianGrid strokeDasharray="3 3" strokeOpacity={0.5} />
          {priceAxis(domain, "Unit price")}
          <YAxis width={Y_AXIS_WIDTH} tickFormatter={formatAxis} />
          {tooltip}
          <Legend verticalAlign="top" align="right" height={24} />
          <Line
            dataKey="unitsInSupport"
            name={view.weekly ? "Quantity per week (units)" : "Quantity per order line (median)"}
            stroke={QUANTITY}
            strokeWidth={2}
            dot={false}
            connectNulls
            isAnimationActive={false}
          />
          {outsideLine(rows, "unitsOutsideLow", "Quantity, extrapolated", false)}
          {outsideLine(rows, "unitsOutsideHigh", "Quantity, extrapolated", false)}
          {observed && observedLine("observedUnits", "Observed units per week", view, "units")}
          {recommendedLine(false)}
          {currentLine(false)}
        </ComposedChart>
      </ResponsiveContainer>
    </>
  );
}
