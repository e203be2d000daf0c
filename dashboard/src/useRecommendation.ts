import { useEffect, useState } from "react";
import { ApiError, type ApiClient, type Recommendation, type SweepQuery } from "./api";

export interface PriceRequest {
  stockcode: string;
  sweep: SweepQuery;
}

export type Load =
  | { status: "idle" }
  | { status: "loading"; previous: Recommendation | null }
  | { status: "done"; result: Recommendation }
  | { status: "failed"; message: string };

export function messageOf(error: unknown): string {
  return error instanceof ApiError ? error.message : "Something went wrong in the dashboard; reload the page.";
}

/**
 * Fetches whenever `request` changes (a new object each time, so "Update" with the same values asks
 * again). A newer request aborts the older one, so a slow answer never overwrites a newer one.
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
      .predictPrice(request.stockcode, request.sweep, controller.signal)
      .then((result) => setLoad({ status: "done", result }))
      .catch((error: unknown) => {
        if (!controller.signal.aborted) setLoad({ status: "failed", message: messageOf(error) });
      });
    return () => controller.abort();
  }, [client, request]);

  return load;
}
