// A contract: its value, variations, withheld pot and metrics from GetContractPosition (as at the
// chosen effective date), the
// payments month by month M1–M12 as a table, and a stacked bar chart of paid, earned, released
// and outstanding; its events (agreement, variations, payments, outcomes).
import { allInOrder, call } from '../api.js';
import { chartBox, dataTable, h, heading, inset, summaryList } from '../dom.js';
import { monthLabel, yearLabel } from '../dates.js';
import { chartNumber, formatPounds, pence } from '../money.js';
import { axisPounds, drawChart, tooltipPounds } from '../charts.js';
import { enumWords, orgName, orgsByCode, streamLabel } from '../orgs.js';
import { eventRows, EVENT_COLUMNS } from './events.js';

export function monthRows(contract) {
  const paid = contract.paid_by_month_pence || [];
  let cumulative = 0n;
  return Array.from({ length: 12 }, (_, i) => {
    cumulative += pence(paid[i]);
    return { month: monthLabel(i + 1), paid_pence: pence(paid[i]).toString(), cumulative_pence: cumulative.toString() };
  });
}

export async function render(context) {
  const id = context.argument;
  const [position, orgs, history] = await allInOrder([
    call('GetContractPosition', { contract_id: id, as_at_date: context.asatNumber }),
    orgsByCode().catch(() => new Map()),
    call('GetHistory', { name: id, page_size: 100 }),
  ]);
  const c = position.contract || {};
  const months = monthRows(c);
  const metrics = (c.metrics || []).map((m) => ({
    code: m.code, description: m.description || '', weight: `${(m.weight_bp || 0) / 100}%`,
    share_pence: m.share_pence || '0', reported: m.reported ? 'Yes' : 'No',
    achievement: m.reported ? `${(m.achievement_bp || 0) / 100}%` : '', earned_pence: m.earned_pence || '0', released_pence: m.released_pence || '0',
  }));
  const variations = (history.events || []).filter((e) => e.event && e.event.contract_varied);
  const box = chartBox('contract-chart', `Stacked bars of ${id}'s payments by month, and the year's paid, earned, released and outstanding; the tables hold the same figures`);
  const party = (code) => h('a', { href: context.link('org', code) }, `${code} ${orgName(orgs, code)}`);
  return {
    title: `Contract ${id}`,
    crumbs: [['National view', context.link('national')], [c.commissioner_code || 'Commissioner', context.link('org', c.commissioner_code)], [id]],
    nodes: [
      heading(`Contract ${id}`, `${enumWords(c.type)} · ${streamLabel(c.stream)} · ${yearLabel(c.financial_year || context.year)}`),
      inset(context.asat
        ? `As at ${context.asat}: variations, payments and outcome reports that took effect after that date are left out.`
        : 'As the ledger holds the contract now. Choose an as-at date to see it as it stood on that date.'),
      summaryList([
        ['Commissioner', party(c.commissioner_code)],
        ['Provider', party(c.provider_code)],
        ['Service category', enumWords(c.service_category)],
        ['Original value', formatPounds(c.original_value_pence)],
        ['Variations', `${formatPounds(c.variations_pence)} (${variations.length} variation${variations.length === 1 ? '' : 's'})`],
        ['Value', formatPounds(c.value_pence)],
        ['Fixed element', formatPounds(c.fixed_value_pence)],
        ['Withheld pot', formatPounds(c.withheld_pot_pence)],
        ['Pot not yet earned or released', formatPounds(position.withheld_pending_pence)],
        ['Paid', formatPounds(c.paid_pence)],
        ['Earned', formatPounds(c.earned_pence)],
        ['Released', formatPounds(c.released_pence)],
        ['Outstanding', formatPounds(position.outstanding_pence)],
      ], 'contract-summary'),
      h('h2', { class: 'nhsuk-heading-m' }, 'Payments by month'),
      box,
      dataTable({ id: 'contract-months', caption: `${id}: paid for each month M1–M12`, filename: `contract-${id}-months.csv`, total: true,
        columns: [{ key: 'month', label: 'Month' }, { key: 'paid_pence', label: 'Paid for the month', kind: 'money' }, { key: 'cumulative_pence', label: 'Paid to date', kind: 'money', total: false }],
        rows: months }),
      h('h2', { class: 'nhsuk-heading-m' }, 'Outcome metrics'),
      metrics.length ? dataTable({ id: 'contract-metrics', caption: `${id}: outcome metrics`, filename: `contract-${id}-metrics.csv`, total: true,
        columns: [{ key: 'code', label: 'Metric' }, { key: 'description', label: 'Description' }, { key: 'weight', label: 'Weight' }, { key: 'share_pence', label: 'Share of pot', kind: 'money' }, { key: 'reported', label: 'Reported' }, { key: 'achievement', label: 'Achievement' }, { key: 'earned_pence', label: 'Earned', kind: 'money' }, { key: 'released_pence', label: 'Released', kind: 'money' }],
        rows: metrics }) : h('p', { class: 'nhsuk-body' }, 'This contract has no outcome metrics.'),
      h('h2', { class: 'nhsuk-heading-m' }, 'Events'),
      dataTable({ id: 'contract-events', caption: `Events about ${id}`, filename: `events-${id}.csv`, columns: EVENT_COLUMNS, rows: eventRows(history.events || []) }),
    ],
    after: () => {
      const categories = [...months.map((m) => m.month), 'Year'];
      const yearOnly = (value) => [...months.map(() => ({ value: 0, pence: '0' })), { value: chartNumber(value || 0), pence: String(value || 0) }];
      drawChart(box, {
        legend: { top: 0 },
        tooltip: { trigger: 'axis', formatter: tooltipPounds },
        xAxis: { type: 'category', data: categories },
        yAxis: { type: 'value', name: 'pounds (axis rounded)', axisLabel: { formatter: axisPounds } },
        series: [
          { name: 'Paid', type: 'bar', stack: 'contract', data: [...months.map((m) => ({ value: chartNumber(m.paid_pence), pence: m.paid_pence })), { value: chartNumber(c.paid_pence || 0), pence: String(c.paid_pence || 0) }] },
          { name: 'Earned', type: 'bar', stack: 'contract', data: yearOnly(c.earned_pence) },
          { name: 'Released', type: 'bar', stack: 'contract', data: yearOnly(c.released_pence) },
          { name: 'Outstanding', type: 'bar', stack: 'contract', data: yearOnly(position.outstanding_pence) },
        ],
      });
    },
  };
}
