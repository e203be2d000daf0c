import { useEffect, useState } from "react";
import { ApiError, type ApiClient, type DecisionQuery, type DecisionResult } from "./api";

export interface PriceRequest {
  stockcode: string;
  query: DecisionQuery;
}

export type Load =
  | { status: "idle" }
  | { status: "loading"; previous: DecisionResult | null }
  /** `request`: the one this answers, so a page reacting to an answer never pairs it with a newer request. */
  | { status: "done"; result: DecisionResult; request: PriceRequest }
  | { status: "failed"; message: string };

export function messageOf(error: unknown): string {
  return error instanceof ApiError ? error.message : "Something went wrong in the dashboard; reload the page.";
}

/**
 * Fetches the price decision whenever `request` changes (a new object each time, so "Update" with the same values
 * asks again). A newer request aborts the older one, so a slow answer never overwrites a newer one.
 */
export function useRecommendation(client: ApiClient, request: PriceRequest | null): Load {
  const [load, setLoad] = useState<Load>({ status: "idle" });

  useEffect(() => {
    if (request === null) return;
    const controller = new AbortController();
    setLoad((before) => ({
      status: "loading",
      previous: before.status === "done" ? before.result : before.status === "loading" ? before.previous : null,
    }));
    client
      .priceDecision(request.stockcode, request.query, controller.signal)
      .then((result) => setLoad({ status: "done", result, request }))
      .catch((error: unknown) => {
        if (!controller.signal.aborted) setLoad({ status: "failed", message: messageOf(error) });
      });
    return () => controller.abort();
  }, [client, request]);

  return load;
}
