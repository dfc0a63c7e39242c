// Build of the map app: `npm run build` writes dist/ (served by twin/api/web.py).
// Everything is bundled from npm packages: nothing is loaded from another host at run time.
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { defineConfig } from 'vite';

const COMPRESSIBLE = /\.(js|mjs|css|svg|json|html)$/;

// Pre-compress the assets once at build time, so the server only picks a file.
function precompress() {
  return {
    name: 'twin-precompress',
    apply: 'build',
    closeBundle() {
      const dir = join(import.meta.dirname, 'dist', 'assets');
      if (!existsSync(dir)) return; // the build failed: nothing to compress
      for (const name of readdirSync(dir)) {
        const file = join(dir, name);
        if (!COMPRESSIBLE.test(name) || statSync(file).size < 1024) continue;
        const data = readFileSync(file);
        writeFileSync(`${file}.gz`, gzipSync(data, { level: 9 }));
        writeFileSync(
          `${file}.br`,
          brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }),
        );
      }
    },
  };
}

// Redoc's standalone bundle draws the 'API docs by Redocly' logo from cdn.redoc.ly, the one
// request it makes to another host (the CSP would block it and log a violation): pointed at an
// empty data: URL, the image fails to load and Redoc leaves it out (its onError).
const REDOC_LOGO = 'https://cdn.redoc.ly/redoc/logo-mini.svg';
function localRedoc() {
  return {
    name: 'twin-local-redoc',
    apply: 'build',
    generateBundle(_options, bundle) {
      for (const file of Object.values(bundle)) {
        if (file.type !== 'asset' || !file.fileName.includes('redoc.standalone')) continue;
        const text = Buffer.from(file.source).toString('utf8');
        if (!text.includes(REDOC_LOGO)) throw new Error('redoc: the logo URL to replace is gone');
        file.source = text.replaceAll(REDOC_LOGO, 'data:,');
      }
    },
  };
}

export default defineConfig({
  base: '/',
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    target: 'es2022',
    sourcemap: false,
    chunkSizeWarningLimit: 1500,
    rollupOptions: {
      // the map, and the API viewers served at /docs and /redoc (twin/api/web.py)
      input: {
        main: join(import.meta.dirname, 'index.html'),
        docs: join(import.meta.dirname, 'docs.html'),
        redoc: join(import.meta.dirname, 'redoc.html'),
      },
    },
  },
  plugins: [localRedoc(), precompress()],
  server: {
    // `npm run dev` against a running `twin serve` on :8000.
    proxy: Object.fromEntries(
      ['/catalog', '/style.json', '/tiles', '/collections', '/api', '/healthz'].map((p) => [
        p,
        'http://127.0.0.1:8000',
      ]),
    ),
  },
});
