// An organisation: its position across every stream (GetPosition, optionally rolled up with
// those under it) and plan against actual and forecast by month (GetOutturn) as a chart and a
// table, both as at the chosen effective date; its contracts as commissioner and as provider; its latest events.
import { call, callAll } from '../api.js';
import { chartBox, dataTable, h, heading, summaryList } from '../dom.js';
import { monthLabel, monthOfDate, yearLabel } from '../dates.js';
import { chartNumber, formatPounds } from '../money.js';
import { axisPounds, drawChart, tooltipPounds } from '../charts.js';
import { enumWords, kindLabel, orgName, orgsByCode, streamLabel } from '../orgs.js';
import { MONEY_COLUMNS } from './national.js';
import { eventRows, EVENT_COLUMNS } from './events.js';
import { pageForm, selectField } from './controls.js';

export function contractColumns(context) {
  return [
    { key: 'contract_id', label: 'Contract', href: (row) => context.link('contract', row.contract_id) },
    { key: 'commissioner_code', label: 'Commissioner' },
    { key: 'provider_code', label: 'Provider' },
    { key: 'type', label: 'Type' },
    { key: 'stream', label: 'Stream' },
    { key: 'value_pence', label: 'Value', kind: 'money' },
    { key: 'paid_pence', label: 'Paid', kind: 'money' },
  ];
}

export function contractRows(contracts) {
  return contracts.map((c) => ({
    contract_id: c.contract_id, commissioner_code: c.commissioner_code, provider_code: c.provider_code,
    type: enumWords(c.type), stream: streamLabel(c.stream), value_pence: c.value_pence || '0', paid_pence: c.paid_pence || '0',
  }));
}

// The organisation's latest events, newest first: GetHistory pages from the oldest, so read to
// the end (a bounded number of pages of 1000) and keep the last few.
async function recentEvents(code, count) {
  let events = [];
  let after = '0';
  for (let page = 0; page < 50; page++) {
    const reply = await call('GetHistory', { name: code, after_sequence: after, page_size: 1000 });
    events = [...events, ...(reply.events || [])].slice(-count);
    after = reply.next_after_sequence || '0';
    if (after === '0') break;
  }
  return events.reverse();
}

async function contractsOf(code, year) {
  const [asCommissioner, asProvider] = await Promise.all([
    callAll('ListContracts', { commissioner_code: code, financial_year: year, page_size: 500 }, 'contracts'),
    callAll('ListContracts', { provider_code: code, financial_year: year, page_size: 500 }, 'contracts'),
  ]);
  const seen = new Map();
  for (const c of [...asCommissioner, ...asProvider]) seen.set(c.contract_id, c);
  return [...seen.values()];
}

export async function render(context) {
  const code = context.argument.toUpperCase();
  const rollup = context.params.get('rollup') === '1';
  const defaultTo = context.asatNumber ? monthOfDate(context.asatNumber) : 12;
  const to = Number(context.params.get('to') || defaultTo);
  const orgs = await orgsByCode();
  const org = await call('GetOrg', { code });
  const [position, outturn, contracts, history] = await Promise.all([
    call('GetPosition', { org_code: code, financial_year: context.year, as_at_date: context.asatNumber, rollup }),
    call('GetOutturn', { org_code: code, financial_year: context.year, to_month: to, rollup, as_at_date: context.asatNumber }),
    contractsOf(code, context.year),
    recentEvents(code, 10),
  ]);
  const when = context.asat ? `as at ${context.asat}` : 'now';
  const streams = (position.streams || []).map((p) => ({ stream: streamLabel(p.stream), ...Object.fromEntries(MONEY_COLUMNS.map(([key]) => [key, p[key] || '0'])), internal_transfers_pence: p.internal_transfers_pence || '0' }));
  const positionColumns = [{ key: 'stream', label: 'Stream' }, ...MONEY_COLUMNS.map(([key, label]) => ({ key, label, kind: 'money' }))];
  if (rollup) positionColumns.push({ key: 'internal_transfers_pence', label: 'Internal transfers', kind: 'money' });

  const months = (outturn.months || []).map((m) => ({
    month: monthLabel(m.month), plan_pence: m.plan_pence || '0', actual_pence: m.actual_pence || '0',
    variance_pence: m.variance_pence || '0', committed_pence: m.committed_pence || '0', forecast_pence: m.forecast_pence || '0',
  }));
  const box = chartBox('outturn-chart', `Plan against actual and forecast by month for ${code}; the table below holds the same figures`);
  const form = pageForm('org-form', [
    selectField('org-rollup', 'Figures for', [['0', `${code} alone`], ['1', `${code} with those under it (rollup)`]], rollup ? '1' : '0'),
    selectField('org-to', 'Actuals to', Array.from({ length: 12 }, (_, i) => [String(i + 1), monthLabel(i + 1)]), String(to)),
  ], 'Show', (values) => context.go({ rollup: values['org-rollup'] === '1' ? '1' : '', to: values['org-to'] }));

  return {
    title: `${code} ${org.name}`,
    crumbs: [['National view', context.link('national')], [`${code} ${org.name}`]],
    nodes: [
      heading(`${org.name}`, `${code} · ${kindLabel(org.kind)} · ${yearLabel(context.year)}`),
      summaryList([
        ['Kind', kindLabel(org.kind)],
        ['Parent', org.parent_code ? h('a', { href: context.link('org', org.parent_code) }, `${org.parent_code} ${orgName(orgs, org.parent_code)}`) : 'None'],
        ['Figures', rollup ? `Rolled up: ${(position.included_codes || []).join(', ')}` : `${code} alone`],
        ['Flows', h('a', { href: context.link('flows', '', { root: code, depth: 2 }) }, `Funding flows from ${code}`)],
        ['Events', h('a', { href: context.link('events', '', { name: code }) }, `Every event about ${code}`)],
      ], 'org-summary'),
      form,
      h('h2', { class: 'nhsuk-heading-m' }, `Position across streams, ${when}`),
      dataTable({ id: 'org-position', caption: `${code}'s position by stream, ${yearLabel(context.year)}, ${when}`, filename: `position-${code}-${context.year}.csv`, total: true, columns: positionColumns, rows: streams }),
      h('h2', { class: 'nhsuk-heading-m' }, `Plan against actual and forecast, actuals to ${monthLabel(to)}, ${when}`),
      summaryList([
        ['Full-year plan', formatPounds(outturn.full_year_plan_pence)],
        [`Plan to ${monthLabel(to)}`, formatPounds(outturn.ytd_plan_pence)],
        [`Actual to ${monthLabel(to)}`, formatPounds(outturn.ytd_actual_pence)],
        ['Forecast outturn', formatPounds(outturn.forecast_outturn_pence)],
        ['Forecast variance (over plan is positive)', formatPounds(outturn.forecast_variance_pence)],
      ], 'outturn-summary'),
      box,
      dataTable({ id: 'outturn-table', caption: `${code}: plan, actual and forecast by month, ${yearLabel(context.year)}, ${when}`, filename: `outturn-${code}-${context.year}.csv`, total: true,
        columns: [{ key: 'month', label: 'Month' }, { key: 'plan_pence', label: 'Plan', kind: 'money' }, { key: 'actual_pence', label: 'Actual', kind: 'money' }, { key: 'variance_pence', label: 'Variance', kind: 'money' }, { key: 'committed_pence', label: 'Committed', kind: 'money' }, { key: 'forecast_pence', label: 'Forecast', kind: 'money' }],
        rows: months }),
      h('h2', { class: 'nhsuk-heading-m' }, 'Contracts'),
      contracts.length ? dataTable({ id: 'org-contracts', caption: `${code}'s contracts in ${yearLabel(context.year)}, as commissioner or provider (current figures)`, filename: `contracts-${code}-${context.year}.csv`, total: true, columns: contractColumns(context), rows: contractRows(contracts) })
        : h('p', { class: 'nhsuk-body', id: 'org-contracts' }, `${code} has no contracts in ${yearLabel(context.year)} that you may see.`),
      h('h2', { class: 'nhsuk-heading-m' }, 'Events'),
      dataTable({ id: 'org-events', caption: `The latest events about ${code}, newest first`, filename: `events-${code}-latest.csv`, columns: EVENT_COLUMNS, rows: eventRows(history) }),
      h('p', { class: 'nhsuk-body' }, h('a', { href: context.link('events', '', { name: code }) }, `Every event about ${code}, with paging`)),
    ],
    after: () => {
      const series = [
        ['Plan', 'plan_pence', 'line'], ['Actual', 'actual_pence', 'bar'], ['Forecast', 'forecast_pence', 'bar'],
      ].map(([name, key, type]) => ({
        name, type, data: months.map((m) => ({ value: chartNumber(m[key]), pence: m[key] })),
      }));
      drawChart(box, {
        legend: { top: 0 },
        tooltip: { trigger: 'axis', formatter: tooltipPounds },
        xAxis: { type: 'category', data: months.map((m) => m.month) },
        yAxis: { type: 'value', name: 'pounds (axis rounded)', axisLabel: { formatter: axisPounds } },
        series,
      });
    },
  };
}
