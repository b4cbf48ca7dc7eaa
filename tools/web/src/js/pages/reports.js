// Reports: choose a plugin, a year and an organisation; RunReport's findings (FAIL, WARN, PASS,
// worst first) and its tables, each downloadable as CSV.
import { call } from '../api.js';
import { dataTable, h, heading, inset } from '../dom.js';
import { dateText, yearLabel } from '../dates.js';
import { inputField, pageForm, selectField } from './controls.js';

const LEVEL_RANK = { FAIL: 3, WARN: 2, PASS: 1 };
const LEVEL_TAG = { FAIL: 'nhsuk-tag--red', WARN: 'nhsuk-tag--orange', PASS: 'nhsuk-tag--green' };

// Findings worst first; the server's order kept within a level.
export function worstFirst(findings) {
  return findings.map((f, i) => [f, i])
    .sort(([a, i], [b, j]) => (LEVEL_RANK[b.level] || 0) - (LEVEL_RANK[a.level] || 0) || i - j)
    .map(([f]) => f);
}

function reportColumn(column, index) {
  const key = `c${index}`;
  switch (column.type) {
    case 'MONEY': return { key, label: column.name, kind: 'money', value: (row) => row.cells[index].number || '0' };
    case 'INTEGER': return { key, label: column.name, kind: 'number', value: (row) => row.cells[index].number || '0' };
    case 'PERCENT': return { key, label: column.name, value: (row) => `${(Number(row.cells[index].number || 0) / 100).toFixed(2)}%` };
    case 'FLAG': return { key, label: column.name, value: (row) => (Number(row.cells[index].number || 0) ? 'Yes' : 'No') };
    case 'DATE': return { key, label: column.name, value: (row) => dateText(row.cells[index].number) };
    default: return { key, label: column.name, value: (row) => row.cells[index].text || '' };
  }
}

export async function render(context) {
  const plugins = (await call('ListPlugins')).plugins || [];
  const plugin = context.params.get('plugin') || (plugins[0] ? plugins[0].name : '');
  const org = context.params.get('org') || '';
  const form = pageForm('reports-form', [
    selectField('reports-plugin', 'Report', plugins.map((p) => [p.name, p.name]), plugin),
    inputField('reports-org', 'Organisation code', org, { autocomplete: 'off', spellcheck: 'false' }, 'Empty for every organisation'),
  ], 'Run report', (values) => context.go({ plugin: values['reports-plugin'], org: values['reports-org'].trim().toUpperCase() }));
  const chosen = plugins.find((p) => p.name === plugin);
  const nodes = [heading('Reports', yearLabel(context.year)), form,
    chosen ? h('p', { class: 'nhsuk-body', id: 'reports-description' }, `${chosen.name}: ${chosen.description}`) : null];
  if (!plugin) {
    nodes.push(inset('The server has no report plugins loaded (fundflowd --plugin-dir).'));
    return { title: 'Reports', crumbs: [['Reports']], nodes };
  }
  const report = await call('RunReport', { plugin, financial_year: context.year, org_code: org });
  const findings = worstFirst(report.findings || []);
  nodes.push(
    inset('Reports have no as-at date in the web view: they run on the ledger as it is now.'),
    h('h2', { class: 'nhsuk-heading-m' }, `${plugin} ${report.plugin_version || ''}: ${findings.length} findings`),
    h('ul', { class: 'nhsuk-list ff-findings', id: 'report-findings' }, findings.map((f) => h('li', { 'data-level': f.level },
      h('strong', { class: `nhsuk-tag ${LEVEL_TAG[f.level] || ''}` }, f.level || 'UNKNOWN'), ' ',
      f.org_code ? h('a', { href: context.link('org', f.org_code) }, f.org_code) : null, f.org_code ? ': ' : '', f.message))),
    dataTable({ id: 'report-findings-table', caption: `${plugin} findings, worst first`, filename: `${plugin}-${context.year}-findings.csv`,
      columns: [{ key: 'level', label: 'Level' }, { key: 'org_code', label: 'Organisation' }, { key: 'message', label: 'Finding' }],
      rows: findings.map((f) => ({ level: f.level, org_code: f.org_code || '', message: f.message || '' })) }));
  (report.tables || []).forEach((table, index) => {
    const columns = (table.columns || []).map(reportColumn);
    nodes.push(h('h2', { class: 'nhsuk-heading-m' }, table.name),
      dataTable({ id: `report-table-${index}`, caption: table.name, filename: `${plugin}-${context.year}-${table.name}.csv`,
        total: columns.some((c) => c.kind === 'money'), columns, rows: table.rows || [] }));
  });
  return { title: `Report ${plugin}`, crumbs: [['Reports', context.link('reports')], [plugin]], nodes };
}
