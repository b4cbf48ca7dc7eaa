// The web view in headless chromium (Debian's /usr/bin/chromium, driven by playwright-core),
// against a fundflowd that test_browser.sh started and loaded with a small known ledger. Every
// figure on a page is compared with the API's own answer and, where worked by hand in
// test_browser.sh, with that figure. Waits for the page's data-route marker, never for time.
//
// Usage: node test_browser.mjs BASE_URL NODE_MODULES SHOT_DIR, with FF_BROWSER_PHASE=open (no
// principals) or scoped (FF_READER_TOKEN, a reader scoped to the provider RGT).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { formatPounds, pence, plainPounds } from '../../tools/web/src/js/money.js';
import { csvLine, neutralise } from '../../tools/web/src/js/csv.js';

const [base, nodeModules, shotDir] = process.argv.slice(2);
const phase = process.env.FF_BROWSER_PHASE || 'open';
const { chromium } = await import(pathToFileURL(path.join(nodeModules, 'playwright-core', 'index.mjs')).href);
const axeSource = fs.readFileSync(path.join(nodeModules, 'axe-core', 'axe.min.js'), 'utf8');
fs.mkdirSync(shotDir, { recursive: true });

let checks = 0;
async function check(name, body) {
  checks++;
  console.log(`check ${phase} ${checks}: ${name}`);
  await body();
}

async function api(method, request = {}, token = '') {
  const headers = { 'Content-Type': 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(`${base}/twirp/fundflow.v1.Ledger/${method}`, { method: 'POST', headers, body: JSON.stringify(request) });
  const body = await response.json();
  return { status: response.status, body };
}

async function apiOk(method, request = {}, token = '') {
  const { status, body } = await api(method, request, token);
  assert.equal(status, 200, `${method} answered ${status}: ${JSON.stringify(body)}`);
  return body;
}

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
const page = await context.newPage();
const problems = [];
// CSP violations, seen both as the page's event and as console lines; and uncaught page errors.
await page.addInitScript(() => {
  window.ffCspViolations = [];
  document.addEventListener('securitypolicyviolation', (event) => {
    window.ffCspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
  });
});
page.on('console', (message) => {
  if (/Content[- ]Security[- ]Policy/i.test(message.text())) problems.push(`console: ${message.text()}`);
});
page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));

// Opens a route and waits until the page says it has drawn that route.
async function open(route) {
  const hash = route.startsWith('#') ? route : `#/${route}`;
  const current = page.url();
  if (!current.startsWith(`${base}/ui/`)) await page.goto(`${base}/ui/${hash}`);
  else await page.evaluate((h) => { location.hash = h; }, hash);
  await page.waitForFunction((h) => document.getElementById('page').dataset.route === h, hash, { timeout: 60000 });
  const violations = await page.evaluate(() => window.ffCspViolations);
  assert.deepEqual(violations, [], `CSP violations on ${hash}`);
  assert.deepEqual(problems, [], `problems on ${hash}`);
}

async function errorsText() {
  return page.locator('#errors').innerText();
}

// axe-core on the drawn page: no serious or critical violation.
async function accessible(name) {
  await page.evaluate(axeSource);
  const results = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join('; ')}`), [], `axe on ${name}`);
}

async function screenshot(name) {
  await page.screenshot({ path: path.join(shotDir, `${name}.png`), fullPage: true });
}

// The money cells of a table row whose first cell is `first`: column key -> pence (BigInt).
async function rowPence(tableId, first) {
  return page.evaluate(([id, text]) => {
    for (const row of document.querySelectorAll(`#${id} tbody tr`)) {
      const cells = row.querySelectorAll('th, td');
      if (!cells.length || cells[0].textContent.trim() !== text) continue;
      const out = {};
      for (const cell of row.querySelectorAll('[data-pence]')) out[cell.dataset.column] = { pence: cell.dataset.pence, text: cell.textContent };
      return out;
    }
    return null;
  }, [tableId, first]);
}

function samePosition(cells, position, what) {
  assert.ok(cells, `${what}: no row`);
  for (const key of ['received_pence', 'passed_on_pence', 'held_pence', 'contract_value_pence', 'paid_pence', 'headroom_pence']) {
    assert.equal(cells[key].pence, pence(position[key]).toString(), `${what} ${key}`);
    assert.equal(cells[key].text, formatPounds(position[key]), `${what} ${key} as shown`);
  }
}

async function openPhase() {
  const icbs = ['QUE', 'QJG', 'QMJ'];

  await check('CSV text a spreadsheet would run is written behind a quote; numbers stay numbers', async () => {
    for (const start of ['=', '+', '-', '@', '\t', '\r']) assert.equal(neutralise(`${start}1`), `'${start}1`);
    assert.equal(neutralise('QUE'), 'QUE');
    assert.equal(csvLine([{ text: '=SUM(A1)' }, { text: '-12.50', number: true }, { text: 'a,"b"' }]), `'=SUM(A1),-12.50,"a,""b"""`);
    // £3,450.00 and -£12.05: pence exactly, thousands separated.
    assert.equal(formatPounds('345000'), '£3,450.00');
    assert.equal(formatPounds('-1205'), '-£12.05');
    assert.equal(plainPounds('922337203685477580'), '9223372036854775.80');
  });

  await check('national view: each ICB and the total exactly as GetPosition gives them', async () => {
    await open('#/national?year=2024');
    assert.equal(await errorsText(), '');
    let received = 0n;
    for (const code of icbs) {
      const position = await apiOk('GetPosition', { org_code: code, stream: 'CORE_SERVICES', financial_year: 2024 });
      samePosition(await rowPence('national-table', code), position, code);
      received += pence(position.received_pence);
    }
    // QUE received £3,450.00 and holds £2,000.00 - contract value £1,150.00 = £850.00 headroom.
    const que = await rowPence('national-table', 'QUE');
    assert.equal(que.received_pence.text, '£3,450.00');
    assert.equal(que.headroom_pence.text, '£850.00');
    // TOTAL received: £3,450.00 + £1,000.00 + £0.00 = £4,450.00; East of England's £4,450.00 too.
    const total = await rowPence('national-table', 'TOTAL');
    assert.equal(total.received_pence.pence, received.toString());
    assert.equal(total.received_pence.text, '£4,450.00');
    assert.equal((await rowPence('national-table', 'East of England (Y61) total')).received_pence.text, '£4,450.00');
    // Grouped by region: the London group holds QMJ alone.
    const groups = await page.locator('#national-table tr.ff-group').allInnerTexts();
    assert.deepEqual(groups.map((g) => g.trim()), ['East of England (Y61)', 'London (Y62)']);
    await accessible('national');
    await screenshot('national');
  });

  await check('national view sorts by a column and its rows link to the organisation', async () => {
    await page.click('#national-table button[data-sort="received_pence"]');
    const order = await page.locator('#national-table tbody tr:not(.ff-group):not([data-summary]) th').allInnerTexts();
    // Within East of England largest received first: QUE £3,450.00, QJG £1,000.00; then QMJ.
    assert.deepEqual(order, ['QUE', 'QJG', 'QMJ']);
    assert.equal(await page.getAttribute('#national-table th[aria-sort="descending"] button', 'data-sort'), 'received_pence');
    assert.equal(await page.getAttribute('#national-table a:text-is("QJG")', 'href'), '#/org/QJG?year=2024');
  });

  await check('national view downloads the table as CSV', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#national-table button[data-csv]')]);
    const text = fs.readFileSync(await download.path(), 'utf8');
    assert.ok(text.startsWith('\ufeffICB,Name,Received,Passed on,Held,Contract value,Paid,Uncommitted headroom\r\n'), text.slice(0, 120));
    // QUE: received 3450.00, passed on 1450.00, held 2000.00, contract value 1150.00, paid 550.00,
    // headroom 850.00.
    assert.ok(text.includes('\r\nQUE,ICB one,3450.00,1450.00,2000.00,1150.00,550.00,850.00\r\n'), text);
    assert.ok(text.includes('\r\nTOTAL,,4450.00,'), text);
  });

  await check('an as-at date changes the figures to the earlier ones', async () => {
    await open('#/national?year=2024&asat=2024-07-01');
    const earlier = await apiOk('GetPosition', { org_code: 'QUE', stream: 'CORE_SERVICES', financial_year: 2024, as_at_date: 20240701 });
    const que = await rowPence('national-table', 'QUE');
    samePosition(que, earlier, 'QUE as at 2024-07-01');
    // Before the outcome report of 2024-08-01 the £100.00 pot is still withheld: contract value
    // £550.00 unpaid + £550.00 paid + £100.00 withheld = £1,200.00, headroom £800.00 (not £850.00).
    assert.equal(que.headroom_pence.text, '£800.00');
    assert.equal(que.contract_value_pence.text, '£1,200.00');
    assert.equal(await page.inputValue('#control-asat'), '2024-07-01');
    // The controls move the view: back to now through the form.
    await page.fill('#control-asat', '');
    await page.click('#control-apply');
    await page.waitForFunction(() => document.getElementById('page').dataset.route === '#/national?year=2024');
    assert.equal((await rowPence('national-table', 'QUE')).headroom_pence.text, '£850.00');
  });

  await check('as at a date, the outturn and a report show the earlier figures too', async () => {
    // As at 2024-05-15 the outturn's actuals run to M2 (the date's month): QUE-C1's M1 £300.00
    // (paid 2024-04-30) is there, its M2 £250.00 (paid 2024-05-31) not yet.
    await open('#/org/QUE?year=2024&asat=2024-05-15');
    assert.equal(await errorsText(), '');
    const early = await apiOk('GetOutturn', { org_code: 'QUE', financial_year: 2024, to_month: 2, as_at_date: 20240515 });
    for (const month of early.months) {
      const row = await rowPence('outturn-table', `M${month.month}`);
      assert.equal(row.actual_pence.pence, pence(month.actual_pence).toString(), `M${month.month} actual as at 2024-05-15`);
    }
    assert.equal((await rowPence('outturn-table', 'M1')).actual_pence.text, '£300.00');
    assert.equal((await rowPence('outturn-table', 'M2')).actual_pence.text, '£0.00');
    assert.doesNotMatch(await page.locator('#page').innerText(), /has no as-at date/);
    // The outcomes report before MA's outcome report of 2024-08-01 differs from now's, and the
    // page shows the earlier one's money, cell for cell.
    const now = await apiOk('RunReport', { plugin: 'outcomes', financial_year: 2024 });
    const then = await apiOk('RunReport', { plugin: 'outcomes', financial_year: 2024, as_at_date: 20240701 });
    assert.notDeepEqual(then.tables, now.tables, 'the outcomes report is the same as at 2024-07-01');
    await open('#/reports?year=2024&plugin=outcomes&asat=2024-07-01');
    assert.equal(await errorsText(), '');
    for (const [index, table] of (then.tables || []).entries()) {
      const money = (table.columns || []).map((c, i) => [c, i]).filter(([c]) => c.type === 'MONEY').map(([, i]) => i);
      const expected = (table.rows || []).flatMap((row) => money.map((i) => pence(row.cells[i].number || '0').toString()));
      const shown = await page.locator(`#report-table-${index} tbody tr:not([data-summary]) [data-pence]`).evaluateAll((cells) => cells.map((c) => c.dataset.pence));
      assert.deepEqual(shown, expected, `table ${table.name} as at 2024-07-01`);
    }
    assert.doesNotMatch(await page.locator('#page').innerText(), /no as-at date/);
  });

  await check('funding flows: one Sankey node per organisation, each link the API\'s amount', async () => {
    await open('#/flows?year=2024&root=X24&depth=2');
    const reply = await apiOk('GetFundingFlows', { financial_year: 2024, root_code: 'X24', depth: 2 });
    const expected = new Map();
    const codes = new Set();
    for (const flow of reply.flows) {
      const key = `${flow.from_code}>${flow.to_code}`;
      expected.set(key, (expected.get(key) || 0n) + pence(flow.amount_pence));
      codes.add(flow.from_code); codes.add(flow.to_code);
    }
    const option = await page.evaluate(() => {
      const chart = window.echarts.getInstanceByDom(document.getElementById('flows-chart'));
      const series = chart.getOption().series[0];
      return { nodes: series.data.map((n) => n.name), links: series.links.map((l) => ({ source: l.source, target: l.target, value: l.value, pence: l.pence })), label: series.label };
    });
    // Long names are cut to the room beside the nodes, never past the chart's right edge.
    assert.equal(option.label.overflow, 'truncate');
    assert.ok(option.label.width > 0 && option.label.width < 1280 * 0.25, `label width ${option.label.width}`);
    assert.deepEqual([...option.nodes].sort(), [...codes].sort());
    assert.equal(option.links.length, expected.size);
    for (const link of option.links) {
      const want = expected.get(`${link.source}>${link.target}`);
      assert.equal(BigInt(link.value), want, `${link.source} -> ${link.target}`);
      assert.equal(link.pence, want.toString());
    }
    // X24 -> QUE: core £3,450.00 + primary care £500.00 + running costs £100.00 = £4,050.00;
    // QUE -> 06H £1,350.00.
    assert.equal(option.links.find((l) => l.source === 'X24' && l.target === 'QUE').pence, '405000');
    assert.equal(option.links.find((l) => l.source === 'QUE' && l.target === '06H').pence, '135000');
    for (const code of ['X24', 'Y61', 'QUE', 'QJG', '06H', '07K', 'PCEAST'].filter((c) => codes.has(c))) assert.ok(option.nodes.includes(code));
    await accessible('flows');
    await screenshot('flows');
  });

  await check('funding flows as at a date: the earlier amounts on the links', async () => {
    await open('#/flows?year=2024&root=X24&depth=2&asat=2024-07-01');
    const reply = await apiOk('GetFundingFlows', { financial_year: 2024, root_code: 'X24', depth: 2, as_at_date: 20240701 });
    const links = await page.evaluate(() => window.echarts.getInstanceByDom(document.getElementById('flows-chart')).getOption().series[0].links.map((l) => [l.source, l.target, l.pence]));
    const expected = new Map();
    for (const flow of reply.flows) {
      const key = `${flow.from_code}>${flow.to_code}`;
      expected.set(key, (expected.get(key) || 0n) + pence(flow.amount_pence));
    }
    assert.deepEqual(links.map(([from, to, p]) => [`${from}>${to}`, p]).sort(), [...expected.entries()].map(([k, v]) => [k, v.toString()]).sort());
    // QUE -> RGT: by 2024-07-01 QUE-C1's £300.00 and £250.00 only; now also the £50.00 earned
    // on 2024-08-01, £600.00.
    const que = links.find(([from, to]) => from === 'QUE' && to === 'RGT');
    assert.equal(que[2], '55000');
    const now = await apiOk('GetFundingFlows', { financial_year: 2024, root_code: 'X24', depth: 2 });
    assert.equal(now.flows.filter((f) => f.from_code === 'QUE' && f.to_code === 'RGT').reduce((sum, f) => sum + pence(f.amount_pence), 0n), 60000n);
    await open('#/flows?year=2024&root=X24&depth=2');
  });

  await check('funding flows: clicking a node opens that organisation', async () => {
    const point = await page.evaluate(() => {
      const element = document.getElementById('flows-chart');
      element.scrollIntoView();
      const chart = window.echarts.getInstanceByDom(element);
      const series = chart.getModel().getSeriesByIndex(0);
      const data = series.getData();
      const layout = data.getItemLayout(data.indexOfName('QJG'));
      // Node layouts are relative to the series' own box within the chart.
      const offset = series.layoutInfo || { x: 0, y: 0 };
      const box = element.getBoundingClientRect();
      return { x: box.left + offset.x + layout.x + layout.dx / 2, y: box.top + offset.y + layout.y + layout.dy / 2 };
    });
    await page.mouse.click(point.x, point.y);
    await page.waitForFunction(() => (document.getElementById('page').dataset.route || '').startsWith('#/org/QJG'));
    assert.match(await page.locator('h1').innerText(), /ICB two/);
  });

  await check('organisation: position across streams, outturn by month, contracts and events', async () => {
    await open('#/org/QUE?year=2024');
    assert.equal(await errorsText(), '');
    const position = await apiOk('GetPosition', { org_code: 'QUE', financial_year: 2024 });
    // Every stream: received £3,450.00 + £500.00 + £100.00 = £4,050.00.
    const total = await rowPence('org-position', 'TOTAL');
    assert.equal(total.received_pence.pence, pence(position.received_pence).toString());
    assert.equal(total.received_pence.text, '£4,050.00');
    const outturn = await apiOk('GetOutturn', { org_code: 'QUE', financial_year: 2024, to_month: 12 });
    for (const month of outturn.months) {
      const row = await rowPence('outturn-table', `M${month.month}`);
      assert.equal(row.actual_pence.pence, pence(month.actual_pence).toString(), `M${month.month} actual`);
      assert.equal(row.plan_pence.pence, pence(month.plan_pence).toString(), `M${month.month} plan`);
    }
    // QUE's own payments: QUE-C1 M1 £300.00 and M2 £250.00.
    assert.equal((await rowPence('outturn-table', 'M2')).actual_pence.text, '£250.00');
    const contracts = await page.locator('#org-contracts tbody th').allInnerTexts();
    assert.deepEqual(contracts.filter((c) => c !== 'TOTAL').sort(), ['QUE-C1', 'QUE-C3']);
    assert.ok(await page.locator('#outturn-chart svg, #outturn-chart canvas').count() > 0);
    // The latest event about QUE first: the last of GetHistory's pages.
    const history = await apiOk('GetHistory', { name: 'QUE', page_size: 1000 });
    const latest = history.events[history.events.length - 1];
    assert.equal(await page.locator('#org-events tbody tr').first().locator('th').innerText(), String(latest.sequence));
    await accessible('org');
    await screenshot('org');
    // The rollup adds 06H: received from outside stays £4,050.00, internal £1,350.00.
    await open('#/org/QUE?year=2024&rollup=1');
    const rolled = await rowPence('org-position', 'TOTAL');
    assert.equal(rolled.received_pence.text, '£4,050.00');
    assert.equal(rolled.internal_transfers_pence.text, '£1,350.00');
  });

  await check('contract: M1-M12 equal GetContractPosition, with value, pot and metrics', async () => {
    await open('#/contract/QUE-C1?year=2024');
    const position = await apiOk('GetContractPosition', { contract_id: 'QUE-C1' });
    const byMonth = position.contract.paid_by_month_pence;
    assert.equal(byMonth.length, 12);
    for (let m = 1; m <= 12; m++) {
      const row = await rowPence('contract-months', `M${m}`);
      assert.equal(row.paid_pence.pence, pence(byMonth[m - 1]).toString(), `M${m}`);
    }
    // M1 £300.00, M2 £250.00, the rest £0.00; the year £550.00.
    assert.equal((await rowPence('contract-months', 'M1')).paid_pence.text, '£300.00');
    assert.equal((await rowPence('contract-months', 'M2')).paid_pence.text, '£250.00');
    assert.equal((await rowPence('contract-months', 'M3')).paid_pence.text, '£0.00');
    assert.equal((await rowPence('contract-months', 'TOTAL')).paid_pence.text, '£550.00');
    const summary = await page.locator('#contract-summary').innerText();
    assert.match(summary, /Value\s+£1,200\.00/);
    assert.match(summary, /Withheld pot\s+£100\.00/);
    assert.match(summary, /Earned\s+£50\.00/);
    assert.match(summary, /Released\s+£50\.00/);
    assert.equal((await rowPence('contract-metrics', 'MA')).earned_pence.text, '£50.00');
    const series = await page.evaluate(() => window.echarts.getInstanceByDom(document.getElementById('contract-chart')).getOption().series.map((s) => [s.name, s.stack, s.data.map((d) => d.pence)]));
    assert.deepEqual(series.map((s) => s[0]), ['Paid', 'Earned', 'Released', 'Outstanding']);
    assert.deepEqual(series[0][2].slice(0, 3), ['30000', '25000', '0']);
    await accessible('contract');
    await screenshot('contract');
    // As at 2024-05-15 the M2 payment (2024-05-31) and the outcome (2024-08-01) had not happened.
    await open('#/contract/QUE-C1?year=2024&asat=2024-05-15');
    const earlier = await apiOk('GetContractPosition', { contract_id: 'QUE-C1', as_at_date: 20240515 });
    for (let m = 1; m <= 12; m++) {
      assert.equal((await rowPence('contract-months', `M${m}`)).paid_pence.pence, pence(earlier.contract.paid_by_month_pence[m - 1]).toString(), `M${m} as at 2024-05-15`);
    }
    assert.equal((await rowPence('contract-months', 'M2')).paid_pence.text, '£0.00');
    assert.equal((await rowPence('contract-months', 'TOTAL')).paid_pence.text, '£300.00');
    assert.match(await page.locator('#contract-summary').innerText(), /Earned\s+£0\.00/);
  });

  await check('reports: findings worst first, and the tables', async () => {
    const plugins = (await apiOk('ListPlugins')).plugins.map((p) => p.name);
    assert.ok(plugins.length > 0, 'no plugins loaded');
    let shown = false;
    for (const plugin of plugins) {
      await open(`#/reports?year=2024&plugin=${plugin}`);
      const report = await apiOk('RunReport', { plugin, financial_year: 2024 });
      const levels = await page.locator('#report-findings li').evaluateAll((items) => items.map((i) => i.dataset.level));
      const rank = { FAIL: 3, WARN: 2, PASS: 1 };
      assert.equal(levels.length, (report.findings || []).length, `${plugin}: ${await errorsText()}`);
      for (let i = 1; i < levels.length; i++) assert.ok(rank[levels[i - 1]] >= rank[levels[i]], `${plugin}: ${levels.join(' ')}`);
      assert.equal(await page.locator('[id^="report-table-"] table').count(), (report.tables || []).length);
      if (!shown && new Set(levels).size > 1) {
        shown = true;
        await accessible('reports');
        await screenshot('reports');
      }
    }
    assert.ok(shown, 'no plugin gave findings of two levels on this ledger');
  });

  await check('reports download whole as XLSX and CSV through ExportReport', async () => {
    await open('#/reports?year=2024&plugin=system_balance');
    const report = await apiOk('RunReport', { plugin: 'system_balance', financial_year: 2024 });
    const finding = report.findings[0].message;
    const [xlsx] = await Promise.all([page.waitForEvent('download'), page.click('#report-export button[data-export="xlsx"]')]);
    assert.equal(xlsx.suggestedFilename(), 'system_balance-2024-25.xlsx');
    const workbook = await xlsx.path();
    assert.equal(fs.readFileSync(workbook).subarray(0, 2).toString('latin1'), 'PK');
    // The finding is one of the workbook's strings, XML-escaped; its sheets are named.
    const strings = execFileSync('unzip', ['-p', workbook, 'xl/sharedStrings.xml']).toString('utf8');
    const escaped = finding.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
    assert.ok(strings.includes(escaped), `the workbook lacks the finding "${finding}"`);
    assert.match(execFileSync('unzip', ['-p', workbook, 'xl/workbook.xml']).toString('utf8'), /name="Findings"/);
    assert.match(await page.locator('#report-export-status').innerText(), /^Saved system_balance-2024-25\.xlsx, as at event \d+\.$/);
    const [csv] = await Promise.all([page.waitForEvent('download'), page.click('#report-export button[data-export="csv"]')]);
    assert.equal(csv.suggestedFilename(), 'system_balance-2024-25.csv');
    const text = fs.readFileSync(await csv.path(), 'utf8');
    assert.ok(text.startsWith('\ufeff# table '), text.slice(0, 60));
    assert.ok(text.includes('\r\n# findings\r\nlevel,org_code,message\r\n'), text);
    assert.ok(text.includes(finding.replaceAll('"', '""')), `the CSV lacks the finding "${finding}"`);
  });

  await check('delegation register, events with Verify, and sign-in', async () => {
    await open('#/delegation?year=2024&line=SPCARD&on=2024-06-01');
    await accessible('delegation');
    await screenshot('delegation');
    await open('#/events?year=2024&name=QUE-C1');
    const history = await apiOk('GetHistory', { name: 'QUE-C1', page_size: 50 });
    const sequences = await page.locator('#events-table tbody tr th').allInnerTexts();
    assert.deepEqual(sequences, history.events.map((e) => String(e.sequence)));
    const hash = Buffer.from(history.events[0].hash, 'base64').toString('hex');
    assert.ok((await page.locator('#events-table').innerText()).includes(hash));
    await page.click('#verify-button');
    await page.waitForSelector('#verify-result [data-ok]');
    assert.equal(await page.getAttribute('#verify-result [data-ok]', 'data-ok'), 'true');
    await accessible('events');
    await screenshot('events');
    await open('#/signin');
    await accessible('signin');
    await screenshot('signin');
  });

  await check('an API error is shown in words naming the field', async () => {
    await open('#/org/NOPE?year=2024');
    const text = await errorsText();
    assert.match(text, /GetOrg was refused \(not_found\)/);
    assert.match(text, /Field: code/);
  });
}

async function scopedPhase() {
  const reader = process.env.FF_READER_TOKEN;
  await check('without a token, once principals exist, a page says so and offers the sign-in', async () => {
    await open('#/national?year=2024');
    assert.match(await errorsText(), /ListOrgs was refused \(unauthenticated\): a valid bearer token is required/);
    assert.equal(await page.getAttribute('#errors a', 'href'), '#/signin?year=2024');
  });

  await check('sign in with a token kept in sessionStorage', async () => {
    await open('#/signin');
    await page.fill('#signin-token', reader);
    await page.click('#signin-form button[type="submit"]');
    await page.waitForFunction(() => (document.getElementById('page').dataset.route || '').startsWith('#/national'));
    assert.equal(await page.evaluate(() => sessionStorage.getItem('fundflow.token')), reader);
    assert.equal(await page.evaluate(() => localStorage.length), 0);
  });

  await check('a reader scoped to RGT sees only its own contracts', async () => {
    await open('#/org/RGT?year=2024');
    assert.equal(await errorsText(), '');
    const listed = (await apiOk('ListContracts', { provider_code: 'RGT', financial_year: 2024 }, reader)).contracts.map((c) => c.contract_id).sort();
    assert.deepEqual(listed, ['06H-C2', 'QUE-C1', 'QUE-C3']);
    const shown = (await page.locator('#org-contracts tbody th').allInnerTexts()).filter((c) => c !== 'TOTAL').sort();
    assert.deepEqual(shown, listed);
    await accessible('org as a reader');
    await screenshot('scoped-org');
  });

  await check('a forbidden page shows the refusal', async () => {
    await open('#/contract/QJG-C4?year=2024');
    assert.equal((await api('GetContractPosition', { contract_id: 'QJG-C4' }, reader)).status, 403);
    const text = await errorsText();
    assert.match(text, /You may not see this page/);
    assert.match(text, /GetContractPosition was refused \(permission_denied\)/);
    await open('#/national?year=2024');
    assert.match(await errorsText(), /GetPosition was refused \(permission_denied\)/);
    await accessible('forbidden');
    await screenshot('forbidden');
  });
}

try {
  if (phase === 'scoped') await scopedPhase(); else await openPhase();
  assert.deepEqual(problems, []);
} finally {
  await browser.close();
}
console.log(`test_browser.mjs ${phase}: ${checks} checks passed`);
