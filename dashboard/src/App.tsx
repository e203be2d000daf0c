import { useState } from "react";
import { apiBaseFromEnv, createApiClient } from "./api";
import { formatPrice } from "./chartData";
import { DecisionFormPanel } from "./DecisionFormPanel";
import { ExperimentView } from "./ExperimentView";
import { createLaunchClient } from "./launch";
import { LaunchView } from "./LaunchView";
import { ProductPicker } from "./ProductPicker";
import { Result } from "./Result";
import { useDecisionForm } from "./useDecisionForm";
import { useExperiment } from "./useExperiment";
import { useLaunch } from "./useLaunch";
import { useProduct } from "./useProduct";

const client = createApiClient(apiBaseFromEnv(import.meta.env.VITE_API_BASE));
const launchClient = createLaunchClient(apiBaseFromEnv(import.meta.env.VITE_API_BASE));

export function App() {
  const { form, request, load, edit, pick, submit, historyRange, switchObjective } = useDecisionForm(client);
  const stockcode = request?.stockcode ?? null;
  const [product, setProduct] = useProduct(client, stockcode);
  const experiment = useExperiment(client, stockcode);
  const title = product ? `${product.description} (${stockcode})` : stockcode;
  // the known product's view stays mounted (hidden) while a new product is priced, keeping its search and answer;
  // the new product's form and answer live here (useLaunch), so switching views loses neither
  const [view, setView] = useState<"product" | "launch">("product");
  const launch = useLaunch(launchClient);

  return (
    <div className="page">
      <header>
        <h1>Price decision</h1>
        <p>
          The price that maximises weekly sales or profit under your rules, swept through the learned demand model,
          against the current price, with how sure the model is.
        </p>
      </header>
      <nav className="views" aria-label="Views">
        <button type="button" aria-pressed={view === "product"} onClick={() => setView("product")}>
          Known product
        </button>
        <button type="button" aria-pressed={view === "launch"} onClick={() => setView("launch")}>
          New product
        </button>
      </nav>
      {view === "launch" && <LaunchView launch={launch} />}
      <div className="layout" hidden={view !== "product"}>
        <ProductPicker
          client={client}
          selected={stockcode}
          onPick={(picked) => {
            setProduct(picked);
            pick(picked.stockcode);
          }}
        />
        <main className="result" aria-busy={load.status === "loading"}>
          <h2>{title ?? "Pick a product"}</h2>
          {product && (
            <p className="hint">
              Sold between {formatPrice(product.price_min)} and {formatPrice(product.price_max)} (median{" "}
              {formatPrice(product.price_median)}) in the training window.
            </p>
          )}
          <DecisionFormPanel
            form={form}
            canAsk={request !== null}
            edit={edit}
            submit={submit}
            historyRange={historyRange}
            switchObjective={switchObjective}
          />
          <p className="status" role="status">
            {load.status === "loading" ? `Pricing ${stockcode}…` : ""}
          </p>
          {load.status === "failed" && (
            <p className="error" role="alert">
              {load.message}
            </p>
          )}
          {load.status === "done" && <Result result={load.result} history={product} />}
          {load.status === "loading" && load.previous && (
            <div className="stale" aria-hidden="true">
              <Result result={load.previous} history={null} />
            </div>
          )}
          {experiment.status === "done" && experiment.lookup.kind === "experiment" && (
            <ExperimentView answer={experiment.lookup.answer} />
          )}
          {experiment.status === "failed" && (
            <p className="error" role="alert" data-testid="experiment-error">
              {experiment.message}
            </p>
          )}
        </main>
      </div>
    </div>
  );
}
