import { useEffect, useState } from "react";
import { type LaunchClient, type LaunchFailure, type LaunchQuery, type LaunchResult, launchFailure } from "./launch";

export type LaunchLoad =
  | { status: "idle" }
  | { status: "loading"; previous: LaunchResult | null }
  /** `query`: the one this answers (the form may have been edited since) */
  | { status: "done"; result: LaunchResult; query: LaunchQuery }
  | { status: "failed"; failure: LaunchFailure };

export interface LaunchControls {
  /** the form's values as typed */
  form: LaunchQuery;
  edit: (field: keyof LaunchQuery, value: string) => void;
  /** asks for the form's values as they stand (again, when unchanged) */
  submit: () => void;
  load: LaunchLoad;
}

const EMPTY: LaunchQuery = { description: "", unitCost: "", referencePrice: "" };

/**
 * The new-product form and its launch decision. Held by the page, so switching views keeps both. A newer request
 * aborts the older one, so a slow answer never overwrites a newer one.
 */
export function useLaunch(client: LaunchClient): LaunchControls {
  const [form, setForm] = useState<LaunchQuery>(EMPTY);
  const [asked, setAsked] = useState<LaunchQuery | null>(null); // a new object each submit: "Price it" asks again
  const [load, setLoad] = useState<LaunchLoad>({ status: "idle" });

  useEffect(() => {
    if (asked === null) return;
    const controller = new AbortController();
    setLoad((before) => ({
      status: "loading",
      previous: before.status === "done" ? before.result : before.status === "loading" ? before.previous : null,
    }));
    client
      .launchDecision(asked, controller.signal)
      .then((result) => setLoad({ status: "done", result, query: asked }))
      .catch((error: unknown) => {
        if (!controller.signal.aborted) setLoad({ status: "failed", failure: launchFailure(error) });
      });
    return () => controller.abort();
  }, [client, asked]);

  return {
    form,
    edit: (field, value) => setForm((before) => ({ ...before, [field]: value })),
    submit: () => setAsked({ ...form }),
    load,
  };
}
