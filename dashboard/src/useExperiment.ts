import { useEffect, useState } from "react";
import type { ApiClient, ExperimentLookup } from "./api";
import { messageOf } from "./useRecommendation";

export type ExperimentLoad =
  | { status: "idle" }
  | { status: "done"; lookup: ExperimentLookup; stockcode: string }
  | { status: "failed"; message: string };

/** The open product's experiment (this week's price, its plan, the results read back), asked once per product;
 * a newer product aborts the older request. */
export function useExperiment(client: ApiClient, stockcode: string | null): ExperimentLoad {
  const [load, setLoad] = useState<ExperimentLoad>({ status: "idle" });
  useEffect(() => {
    if (stockcode === null) return;
    const controller = new AbortController();
    setLoad({ status: "idle" });
    client
      .experiment(stockcode, controller.signal)
      .then((lookup) => setLoad({ status: "done", lookup, stockcode }))
      .catch((error: unknown) => {
        if (!controller.signal.aborted) setLoad({ status: "failed", message: messageOf(error) });
      });
    return () => controller.abort();
  }, [client, stockcode]);
  return load;
}
