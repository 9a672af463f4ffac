// make-app-icons.mjs - draw the installable app's PNG icons (www/icons/
// icon-192.png, icon-512.png, icon-maskable-512.png, apple-touch-icon.png)
// from the SVG logos with Debian's Chromium (playwright-core, as the browser
// tests use). The PNGs are committed; run this again after changing
// www/icons/logo.svg or logo-maskable.svg:
//   node scripts/make-app-icons.mjs   (from the repository, after make deps)

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'tests', 'package.json'));
const { chromium } = require('playwright-core');
const icons = join(root, 'www', 'icons');
const OUTPUTS = [
  { svg: 'logo.svg', png: 'icon-192.png', size: 192 },
  { svg: 'logo.svg', png: 'icon-512.png', size: 512 },
  { svg: 'logo-maskable.svg', png: 'icon-maskable-512.png', size: 512 },
  { svg: 'logo-maskable.svg', png: 'apple-touch-icon.png', size: 180 },
];

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox'] });
try {
  const page = await browser.newPage();
  for (const { svg, png, size } of OUTPUTS) {
    const source = readFileSync(join(icons, svg), 'utf8').replace(/<!--[\s\S]*?-->/, '');
    const url = `data:image/svg+xml;base64,${Buffer.from(source).toString('base64')}`;
    await page.setViewportSize({ width: size, height: size });
    await page.setContent(`<style>html,body{margin:0;background:transparent}img{display:block}</style><img src="${url}" width="${size}" height="${size}">`);
    await page.locator('img').evaluate((img) => img.decode());
    await page.screenshot({ path: join(icons, png), omitBackground: true, clip: { x: 0, y: 0, width: size, height: size } });
    console.log(`${png} (${size}x${size})`);
  }
} finally {
  await browser.close();
}
