// The build: hashed files under dist/assets (served as immutable by errand
// serve), no inline script (the server's CSP allows scripts from 'self' only).
import { defineConfig } from 'vitest/config';
import react from '@vitejs/plugin-react';

export default defineConfig({
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    sourcemap: false,
  },
  // `npm run dev` against a running `errand serve` (ERRAND_URL, default :8080).
  server: {
    proxy: {
      '/api': process.env.ERRAND_URL ?? 'http://127.0.0.1:8080',
      '/ws': { target: process.env.ERRAND_URL ?? 'http://127.0.0.1:8080', ws: true },
    },
  },
  test: {
    environment: 'jsdom',
    globals: true,
    include: ['src/**/*.test.{ts,tsx}'],
  },
});
