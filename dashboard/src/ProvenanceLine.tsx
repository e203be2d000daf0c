import type { DecisionResult } from "./api";

const CACHE_WORDS: Record<string, string> = {
  HIT: "from the cache",
  MISS: "computed now",
  BYPASS: "computed now (cache unavailable)",
};

/** Which model answered (and its bundle), how many prices it swept, and whether the answer came from the cache. */
export function ProvenanceLine({ result }: { result: DecisionResult }) {
  const decision = result.decision;
  const cache = result.cache ? (CACHE_WORDS[result.cache] ?? result.cache) : "not reported";
  return (
    <p className="provenance" data-testid="provenance">
      Model <strong data-testid="model">{result.model ?? "not reported"}</strong>
      {decision.incidence_model && <> with {decision.incidence_model}</>}
      {result.modelVersion && <> · bundle {result.modelVersion}</>} · {decision.curve.length} prices ·{" "}
      <span data-testid="cache" data-cache={result.cache ?? ""}>
        {cache}
      </span>
    </p>
  );
}
