import type { Band, ObjectiveView } from "./chartData";

/**
 * The chart's caption: what each panel plots, the markers, and, when there are any, the prices where the model
 * extrapolates and the observed price levels left out of the prices shown.
 */
export function chartCaption(view: ObjectiveView, band: Band | null, extrapolated: boolean, hidden: number): string {
  const margin = view.kind === "profit" ? "(price − unit cost)" : "price";
  const interval = band ? `, in its ${Math.round(band.level * 100)}% interval (shaded)` : "";
  const parts = [
    view.weekly
      ? `Above: predicted ${view.phrase} (${margin} × order lines per week × units per line), which the ` +
        "recommended price maximises under the rules; the dots are the weeks observed at each list price " +
        "(larger: more weeks). Below: units per week."
      : `Above: predicted ${view.phrase}. Below: the median quantity per order line.`,
    `Red dashed line: the recommended price${interval}.`,
    "Black dotted line: the current price, labelled with the expected gain.",
  ];
  if (extrapolated) {
    parts.push("Grey dashed: prices outside the ones the product sold at, where the model extrapolates.");
  }
  if (hidden > 0) {
    parts.push(`${hidden} observed price level${hidden === 1 ? " lies" : "s lie"} outside the prices shown.`);
  }
  return parts.join(" ");
}
