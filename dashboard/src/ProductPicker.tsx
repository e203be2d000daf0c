import { useEffect, useState } from "react";
import type { ApiClient, Product, ProductPage } from "./api";
import { formatPrice } from "./chartData";
import { messageOf } from "./useRecommendation";

const PAGE_SIZE = 20;
const TYPING_PAUSE_MS = 250;

interface Props {
  client: ApiClient;
  selected: string | null;
  onPick: (product: Product) => void;
}

/** Search over GET /v1/products; each match is a button, so Tab, Enter and Space pick one. */
export function ProductPicker({ client, selected, onPick }: Props) {
  const [query, setQuery] = useState("");
  const [page, setPage] = useState<ProductPage | null>(null);
  const [searching, setSearching] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    const controller = new AbortController();
    // wait for a pause in typing rather than asking the API on every keystroke
    const timer = setTimeout(
      () => {
        setSearching(true);
        client
          .searchProducts(query.trim(), PAGE_SIZE, controller.signal)
          .then((found) => {
            setPage(found);
            setError(null);
          })
          .catch((failure: unknown) => {
            if (!controller.signal.aborted) setError(messageOf(failure));
          })
          .finally(() => {
            if (!controller.signal.aborted) setSearching(false);
          });
      },
      query ? TYPING_PAUSE_MS : 0,
    );
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
  }, [client, query]);

  return (
    <section className="picker" aria-labelledby="picker-heading">
      <h2 id="picker-heading">Product</h2>
      <label htmlFor="product-search">Search by description or stockcode</label>
      <input
        id="product-search"
        type="search"
        value={query}
        autoComplete="off"
        spellCheck={false}
        onChange={(event) => setQuery(event.target.value)}
        aria-describedby="product-count"
      />
      <p id="product-count" className="hint" role="status">
        {searching ? "Searching…" : page ? matchCount(page) : ""}
      </p>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <ul className="product-list" aria-label="Matching products, most sold first">
        {page?.items.map((product) => (
          <li key={product.stockcode}>
            <button type="button" aria-pressed={product.stockcode === selected} onClick={() => onPick(product)}>
              <span className="code">{product.stockcode}</span>
              <span className="description">{product.description}</span>
              <span className="meta">
                {formatPrice(product.price_min)}–{formatPrice(product.price_max)} · {product.lines} order lines
              </span>
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}

function matchCount(page: ProductPage): string {
  if (page.total === 0) return "No product matches.";
  const shown = page.items.length < page.total ? `, the ${page.items.length} most sold shown` : "";
  return `${page.total} ${page.total === 1 ? "product matches" : "products match"}${shown}.`;
}
