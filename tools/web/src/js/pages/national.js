// The national view: every ICB's position for one stream and year (GetPosition as at the chosen
// effective date), grouped by region with subtotals and a total, sortable, each row linking to
// the organisation.
import { call } from '../api.js';
import { dataTable, h, heading } from '../dom.js';
import { yearLabel } from '../dates.js';
import { STREAMS, orgName, orgsByCode, streamLabel } from '../orgs.js';
import { pageForm, selectField } from './controls.js';

export const MONEY_COLUMNS = [
  ['received_pence', 'Received'],
  ['passed_on_pence', 'Passed on'],
  ['held_pence', 'Held'],
  ['contract_value_pence', 'Contract value'],
  ['paid_pence', 'Paid'],
  ['headroom_pence', 'Uncommitted headroom'],
];

export async function render(context) {
  const stream = context.params.get('stream') || 'CORE_SERVICES';
  const orgs = await orgsByCode();
  const icbs = [...orgs.values()].filter((org) => org.kind === 'ICB');
  const positions = await Promise.all(icbs.map((icb) => call('GetPosition', {
    org_code: icb.code, stream, financial_year: context.year, as_at_date: context.asatNumber,
  })));
  const rows = positions.map((position, index) => {
    const icb = icbs[index];
    const region = orgs.get(icb.parent_code);
    return {
      code: icb.code, name: icb.name,
      region: region ? `${region.name} (${region.code})` : `No region (${icb.parent_code || 'none'})`,
      ...Object.fromEntries(MONEY_COLUMNS.map(([key]) => [key, position[key] || '0'])),
    };
  });
  const when = context.asat ? `as at ${context.asat}` : 'now';
  const form = pageForm('national-form',
    [selectField('national-stream', 'Stream', STREAMS, stream)], 'Show stream',
    (values) => context.go({ stream: values['national-stream'] }));
  const table = dataTable({
    id: 'national-table',
    caption: `Every ICB's position: ${streamLabel(stream)}, ${yearLabel(context.year)}, ${when}`,
    filename: `icbs-${stream.toLowerCase()}-${context.year}.csv`,
    groupBy: 'region', total: true,
    columns: [
      { key: 'code', label: 'ICB', href: (row) => context.link('org', row.code) },
      { key: 'name', label: 'Name' },
      ...MONEY_COLUMNS.map(([key, label]) => ({ key, label, kind: 'money' })),
    ],
    rows,
  });
  return {
    title: 'National view',
    crumbs: [['National view']],
    nodes: [
      heading('Every ICB, by region', `${streamLabel(stream)} ${yearLabel(context.year)}`),
      h('p', { class: 'nhsuk-body' }, `${rows.length} ICBs. Figures are exactly as GetPosition gives them, ${when}; held = received − passed on, and uncommitted headroom = held − contract value. Sort by any column; each ICB links to its page. Regions: ${[...new Set(icbs.map((icb) => orgName(orgs, icb.parent_code)))].length}.`),
      form, table,
    ],
  };
}
