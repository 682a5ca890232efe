// Builds the dashboard (web/) into web/dist, which src/api/dashboard.ts serves at `/`.
// No plugin: Preact + htm tagged templates need no JSX transform.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: '/',
  logLevel: 'warn',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    // Hashed names under /assets/ are cached for ever by the server; index.html never is.
    assetsDir: 'assets',
  },
  server: {
    // `npx vite --config web/vite.config.ts` during development: the API runs on :4000.
    proxy: { '/client/v4': 'http://127.0.0.1:4000', '/ssl/static': 'http://127.0.0.1:4000' },
  },
});
