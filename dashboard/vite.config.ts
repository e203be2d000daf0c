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
  test: { environment: "node", include: ["src/**/*.test.ts"] },
});
