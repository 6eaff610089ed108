#!/usr/bin/env node
// esbuild bundles: the extension (dist/extension.js, vscode external) and, with --tests, the
// layer-1 node tests (out/unit/*.test.cjs), the layer-2 extension-host suite (out/e2e/) and
// the layer-2/3 drivers (out/driver/).
// --production minifies the extension (what `npm run package` ships).
import { build } from 'esbuild';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const production = process.argv.includes('--production');
const common = { bundle: true, platform: 'node', format: 'cjs', target: 'node20', logLevel: 'warning', sourcemap: !production };
const testsIn = (dir) => readdirSync(join(root, dir)).filter((f) => f.endsWith('.test.ts')).map((f) => join(root, dir, f));

await build({
  ...common,
  entryPoints: [join(root, 'src/extension.ts')],
  outfile: join(root, 'dist/extension.js'),
  external: ['vscode'],
  minify: production,
});
if (process.argv.includes('--tests')) {
  await build({ ...common, entryPoints: testsIn('test/unit'), outdir: join(root, 'out/unit'), outExtension: { '.js': '.cjs' } });
  await build({
    ...common,
    entryPoints: [join(root, 'test/e2e/index.ts'), ...testsIn('test/e2e')],
    outdir: join(root, 'out/e2e'),
    external: ['vscode', 'mocha'],
  });
  await build({
    ...common,
    entryPoints: [join(root, 'test/driver/extensionHost.ts'), join(root, 'test/driver/ui.ts')],
    outdir: join(root, 'out/driver'),
    outExtension: { '.js': '.cjs' },
    external: ['playwright-core'],
  });
}
