// Accessibility audit of the search, results and reading pages in headless
// Chromium: axe-core at three screens (1920x1080, a 1080x1920 touch
// terminal, a 390x844 phone) and Lighthouse's accessibility category.
// Run by a11y.sh, which starts the server; fails unless axe finds no
// serious or critical violation and every Lighthouse score is 100.
//
//   node audit.mjs <base URL> <chromium path>
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import puppeteer from 'puppeteer-core';
import lighthouse from 'lighthouse';

const [base, chrome] = process.argv.slice(2);
const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

const screens = [
  { name: 'pc 1920x1080', width: 1920, height: 1080, touch: false },
  { name: 'terminal 1080x1920', width: 1080, height: 1920, touch: true },
  { name: 'phone 390x844', width: 390, height: 844, touch: true },
];

const browser = await puppeteer.launch({
  executablePath: chrome,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--lang=zh-CN', '--remote-debugging-port=9333'],
});

// The reading page of the first hit of a budget search (a Markdown table).
const page0 = await browser.newPage();
await page0.goto(`${base}/api/search?q=${encodeURIComponent('部门预算')}`);
const found = JSON.parse(await page0.evaluate(() => document.body.innerText));
const budget = found.hits.find((hit) => hit.path.endsWith('.md')) || found.hits[0];
await page0.close();

const pages = [
  { name: 'start', url: `${base}/` },
  { name: 'kiosk start', url: `${base}/?kiosk=1&idle=600` },
  { name: 'results', url: `${base}/?q=${encodeURIComponent('政府工作报告')}` },
  { name: 'no results', url: `${base}/?q=${encodeURIComponent('龘靐 zzqxv')}` },
  { name: 'reading', url: `${base}/documents/${encodeURIComponent(budget.id)}?q=${encodeURIComponent('预算')}` },
];

let failed = false;
for (const screen of screens) {
  for (const target of pages) {
    const page = await browser.newPage();
    // axe is injected as a script: the page's own CSP would refuse it.
    await page.setBypassCSP(true);
    await page.setViewport({ width: screen.width, height: screen.height, hasTouch: screen.touch, isMobile: screen.touch });
    await page.goto(target.url, { waitUntil: 'networkidle0' });
    await page.addScriptTag({ content: axeSource });
    const result = await page.evaluate(async () => {
      const r = await window.axe.run(document, { resultTypes: ['violations'] });
      return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' ')) }));
    });
    const grave = result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    const others = result.filter((v) => !grave.includes(v));
    console.log(`axe ${screen.name} ${target.name}: ${grave.length} serious/critical, ${others.length} minor/moderate`);
    for (const v of result) console.log(`  ${v.impact} ${v.id}: ${v.nodes.slice(0, 3).join(', ')}`);
    if (grave.length) failed = true;
    await page.close();
  }
}

for (const target of pages.filter((p) => p.name !== 'no results')) {
  for (const formFactor of ['desktop', 'mobile']) {
    const screenEmulation = formFactor === 'desktop'
      ? { mobile: false, width: 1920, height: 1080, deviceScaleFactor: 1, disabled: false }
      : { mobile: true, width: 390, height: 844, deviceScaleFactor: 2, disabled: false };
    const run = await lighthouse(target.url, { port: 9333, output: 'json', logLevel: 'error', onlyCategories: ['accessibility'] },
      { extends: 'lighthouse:default', settings: { formFactor, screenEmulation, onlyCategories: ['accessibility'] } });
    const category = run.lhr.categories.accessibility;
    const score = Math.round(category.score * 100);
    const failing = category.auditRefs
      .map((ref) => run.lhr.audits[ref.id])
      .filter((audit) => audit.score !== null && audit.score < 1 && audit.scoreDisplayMode === 'binary');
    console.log(`lighthouse ${formFactor} ${target.name}: accessibility ${score}` + (failing.length ? ` (failing: ${failing.map((a) => a.id).join(', ')})` : ''));
    if (score < 100) failed = true;
  }
}

await browser.close();
process.exit(failed ? 1 : 0);
