// Screenshots of every page of the web view for docs/WEB.md, taken against a running demo
// (bash tools/demo.sh) in headless chromium. Waits for each page's data-route marker.
//
// Usage: node tests/browser/screenshots.mjs BASE_URL NODE_MODULES OUT_DIR
//   e.g. node tests/browser/screenshots.mjs http://127.0.0.1:7460 tools/web/node_modules docs/web
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [base, nodeModules, outDir] = process.argv.slice(2);
if (!outDir) {
  console.error('usage: node screenshots.mjs BASE_URL NODE_MODULES OUT_DIR');
  process.exit(2);
}
const { chromium } = await import(pathToFileURL(path.join(nodeModules, 'playwright-core', 'index.mjs')).href);
const pages = [
  ['national', '#/national?year=2024'],
  ['flows', '#/flows?year=2024&root=X24&depth=1'],
  ['org', '#/org/QWE?year=2024&asat=2024-09-30'],
  ['contract', '#/contract/QJM-2024-PCMH?year=2024'],
  ['reports', '#/reports?year=2024&plugin=system_balance&asat=2024-09-30'],
  ['delegation', '#/delegation?year=2024&line=SPCARD&on=2024-06-01'],
  ['events', '#/events?year=2024&name=QWE'],
  ['signin', '#/signin?year=2024'],
];
fs.mkdirSync(outDir, { recursive: true });
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1400 } });
  for (const [name, hash] of pages) {
    await page.goto(`${base}/ui/${hash}`);
    await page.waitForFunction((h) => document.getElementById('page').dataset.route === h, hash, { timeout: 120000 });
    await page.screenshot({ path: path.join(outDir, `${name}.png`) });
    console.log(`${name}: ${path.join(outDir, `${name}.png`)}`);
  }
} finally {
  await browser.close();
}
