// Reports: choose a plugin, a year and an organisation; RunReport's findings (FAIL, WARN, PASS,
// worst first) and its tables, each downloadable as CSV, as at the chosen effective date; and the
// whole report as CSV or XLSX from ExportReport, the export the CLI's `fundflow report` uses.
import { base64Bytes, call } from '../api.js';
import { download } from '../csv.js';
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

// "Download XLSX" and "Download CSV": the whole report from ExportReport, with the bearer
// token as every call, saved from a Blob. A refusal is shown in words under the buttons.
function exportButtons(asked, context) {
  const status = h('p', { class: 'nhsuk-body-s', id: 'report-export-status', role: 'status' });
  const button = (format, text) => {
    const element = h('button', { class: 'nhsuk-button nhsuk-button--secondary ff-export', type: 'button', 'data-export': format }, text);
    element.addEventListener('click', async () => {
      status.textContent = '';
      try {
        const file = await call('ExportReport', { report: asked, format: `EXPORT_FORMAT_${format.toUpperCase()}` });
        download(file.file_name, base64Bytes(file.content), file.content_type);
        status.textContent = `Saved ${file.file_name}, as at event ${file.as_at_sequence || '0'}${context.asat ? ` and ${context.asat}` : ''}.`;
      } catch (error) {
        status.textContent = error.describe ? error.describe() : String(error.message);
      }
    });
    return element;
  };
  return h('div', { class: 'ff-export-buttons', id: 'report-export' },
    button('xlsx', 'Download XLSX'), ' ', button('csv', 'Download CSV of the whole report'), status);
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
  const asked = { plugin, financial_year: context.year, org_code: org, as_at_date: context.asatNumber };
  const report = await call('RunReport', asked);
  const findings = worstFirst(report.findings || []);
  nodes.push(
    exportButtons(asked, context),
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
