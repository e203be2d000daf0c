import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

export default defineConfig({
  plugins: [react()],
  // Relative asset URLs: the same build works at `/` behind Flask, under an API Gateway stage prefix
  // (`/Prod/`), or from any static host.
  base: "./",
  // React and recharts are most of the one bundle (about 185 kB gzipped); the hashed file is cached for a
  // year, so splitting it would buy little.
  build: { outDir: "dist", emptyOutDir: true, chunkSizeWarningLimit: 800 },
  // `npm run dev` on :5173 forwards the API to `make run`'s server, so the dev page is same-origin too
  server: { proxy: { "/v1": "http://127.0.0.1:5002" } },
  test: { environment: "node", include: ["src/**/*.test.ts"] },
});
