import { useMemo } from "react";
import type { PriceDecision } from "./api";
import {
  type ObjectiveView,
  chartRows,
  decisionPoints,
  intervalBand,
  markersOf,
  observedPoints,
  priceDomain,
} from "./chartData";
import { chartCaption } from "./chartCaption";
import { PriceChart } from "./PriceChart";

/** The decision's curves (the objective above, units below) with the markers and observed weeks, and a caption. */
export function ChartFigure({ decision, view }: { decision: PriceDecision; view: ObjectiveView }) {
  const points = useMemo(() => decisionPoints(decision), [decision]);
  const domain = useMemo(() => priceDomain(decision), [decision]);
  const observed = useMemo(() => observedPoints(decision, domain), [decision, domain]);
  const rows = useMemo(() => chartRows(points, observed.points), [points, observed]);
  const band = intervalBand(decision, domain);
  const extrapolated = points.some((point) => !point.inSupport);
  return (
    <figure className="chart" data-testid="price-chart">
      <PriceChart rows={rows} domain={domain} view={view} band={band} markers={markersOf(decision)} />
      <figcaption className="hint" data-testid="chart-caption">
        {chartCaption(view, band, extrapolated, observed.hidden)}
      </figcaption>
    </figure>
  );
}
