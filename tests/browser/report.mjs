// Renders report.html in headless Chromium (playwright-core, Debian's /usr/bin/chromium) and
// checks that it is self-contained and complete: every request stays on file://, every figure
// image decodes, the primary-endpoint numbers are on the page and equal results.json, and the
// print stylesheet lays it out. Keeps a full-page screenshot (report.png) and the printed PDF
// in $IOHEME_ARTIFACTS.
//
// usage: node report.mjs REPORT_DIR
import { launchChromium } from './chromium.mjs';
import fs from 'node:fs';
import path from 'node:path';

const dir = path.resolve(process.argv[2]);
const artifacts = process.env.IOHEME_ARTIFACTS || path.resolve('tests/artifacts');
fs.mkdirSync(artifacts, { recursive: true });
const results = JSON.parse(fs.readFileSync(path.join(dir, 'results.json'), 'utf8'));

const browser = await launchChromium();
let failures = 0;
const fail = (msg) => { console.error('FAIL: ' + msg); failures++; };
try {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const external = [];
  await page.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith('file:') || url.startsWith('data:')) return route.continue();
    external.push(url);
    return route.abort();
  });
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto('file://' + path.join(dir, 'report.html'), { waitUntil: 'load' });

  if (external.length) fail('external requests: ' + external.join(', '));
  if (errors.length) fail('console errors: ' + errors.join('; '));

  const imgs = await page.$$eval('figure img', (els) =>
    els.map((e) => ({ src: e.src.slice(0, 26), w: e.naturalWidth, h: e.naturalHeight })));
  if (imgs.length < 5) fail(`expected at least 5 figures, found ${imgs.length}`);
  for (const i of imgs) {
    if (!i.src.startsWith('data:image/svg+xml')) fail('figure not inline: ' + i.src);
    if (!(i.w > 100 && i.h > 100)) fail(`figure did not decode (${i.w}x${i.h})`);
  }
  const text = await page.innerText('body');
  for (const h of ['Study status', 'Baseline characteristics', 'First-attempt puncture success',
                   'Therapeutic efficacy', 'Overall survival', 'Infusion speed',
                   'Time to access', 'Haemodynamic improvement', 'Complications', 'Subgroups',
                   'Data completeness']) {
    if (!text.includes(h)) fail('missing section: ' + h);
  }
  const fa = results.primary.first_attempt_success;
  const want = `First-attempt success: ${fa.x}/${fa.n} (${(100 * fa.estimate).toFixed(1)}%)`;
  if (!text.includes(want)) fail('primary endpoint sentence missing: ' + want);
  const lo = (100 * fa.ci_exact[0]).toFixed(1), hi = (100 * fa.ci_exact[1]).toFixed(1);
  if (!text.includes(`${lo}–${hi}%`)) fail(`exact CI ${lo}–${hi}% missing`);
  const saps = await page.$$eval('.sap', (els) => els.length);
  if (saps < 30) fail(`only ${saps} SAP citations`);
  if (results.study.audit.head_hash && !text.includes(results.study.audit.head_hash))
    fail('audit head hash not printed');

  await page.screenshot({ path: path.join(artifacts, 'report.png'), fullPage: true });
  await page.emulateMedia({ media: 'print' });
  // Printed, a heading stays with what follows it and a figure (with its caption) is never
  // split: the print styles as the browser computes them.
  const printed = await page.evaluate(() => {
    const style = (sel, prop) => [...document.querySelectorAll(sel)].map((e) => getComputedStyle(e)[prop]);
    return { h: style('h2, h3', 'breakAfter'), fig: style('figure, .keep', 'breakInside'),
             keptFigures: [...document.querySelectorAll('.keep')].filter((k) =>
               k.querySelector('h2, h3') && k.querySelector('figure')).length };
  });
  if (!printed.h.length || printed.h.some((v) => v !== 'avoid'))
    fail('printed headings may break from what follows: ' + printed.h.join(','));
  if (printed.fig.some((v) => v !== 'avoid')) fail('a printed figure may break: ' + printed.fig.join(','));
  if (printed.keptFigures < 2) fail(`only ${printed.keptFigures} heading+figure blocks kept together`);
  const numbers = await page.$$eval('h2', (els) => els.map((e) => parseInt(e.textContent, 10)));
  if (numbers.some((n, i) => n !== i + 1)) fail('section numbers do not run 1, 2, 3...: ' + numbers.join(','));
  await page.pdf({ path: path.join(artifacts, 'report.pdf'), format: 'A4' });
  const pdf = fs.readFileSync(path.join(artifacts, 'report.pdf'));
  if (pdf.subarray(0, 5).toString() !== '%PDF-') fail('printed PDF is not a PDF');
} finally {
  await browser.close();
}
if (failures) process.exit(1);
console.log('report renders: ok');
