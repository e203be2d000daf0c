import { useEffect, useState } from "react";
import type { ApiClient, Product } from "./api";

/**
 * The product open at `stockcode` (null until known): the one picked, or, when the page was opened from a link,
 * the one a search finds, for its description and the prices it sold at.
 */
export function useProduct(client: ApiClient, stockcode: string | null): [Product | null, (picked: Product) => void] {
  const [product, setProduct] = useState<Product | null>(null);

  // Opened from a link: find the product's description and history, which the picker had not given.
  useEffect(() => {
    if (stockcode === null || product?.stockcode === stockcode) return;
    const controller = new AbortController();
    client
      .searchProducts(stockcode, 20, controller.signal)
      .then((page) => {
        const match = page.items.find((item) => item.stockcode === stockcode);
        if (match) setProduct(match);
      })
      .catch(() => undefined); // only a nicer heading is lost; the price request reports failures itself
    return () => controller.abort();
  }, [client, stockcode, product]);

  return [product && product.stockcode === stockcode ? product : null, setProduct];
}
