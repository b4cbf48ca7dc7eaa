// The delegation register: for a specialised service line and a date, who commissions it for
// each ICB (GetDelegations), grouped by region, so joint committees and full delegation show
// region by region.
import { call } from '../api.js';
import { dataTable, h, heading } from '../dom.js';
import { dateNumber, dateText } from '../dates.js';
import { enumWords, orgName, orgsByCode } from '../orgs.js';
import { inputField, pageForm } from './controls.js';

export async function render(context) {
  const line = (context.params.get('line') || 'SPCARD').toUpperCase();
  const on = context.params.get('on') || context.asat || dateText(context.year * 10000 + 401);
  const orgs = await orgsByCode();
  const icbs = [...orgs.values()].filter((org) => org.kind === 'ICB');
  const date = dateNumber(on);
  const answers = await Promise.all(icbs.map((icb) => call('GetDelegations', { service_line_code: line, icb_code: icb.code, date })));
  const rows = answers.map((answer, index) => {
    const icb = icbs[index];
    const region = orgs.get(icb.parent_code);
    const commissioner = answer.commissioner_code || '';
    return {
      icb: icb.code, name: icb.name,
      region: region ? `${region.name} (${region.code})` : 'No region',
      commissioner: `${commissioner} ${orgName(orgs, commissioner)}`.trim(),
      mode: answer.retained_nationally ? 'Retained nationally' : answer.delegation_id ? enumWords(answer.mode) : 'NHS England',
      delegation: answer.delegation_id || '',
    };
  });
  const form = pageForm('delegation-form', [
    inputField('delegation-line', 'Service line code', line, { autocomplete: 'off', spellcheck: 'false' }, 'For example SPCARD'),
    inputField('delegation-on', 'On date', on, { type: 'date' }),
  ], 'Show register', (values) => context.go({ line: values['delegation-line'].trim().toUpperCase(), on: values['delegation-on'] }));
  return {
    title: 'Delegation register',
    crumbs: [['Delegation register']],
    nodes: [
      heading(`Who commissions ${line}`, `on ${on}`),
      h('p', { class: 'nhsuk-body' }, 'For each ICB\'s population: the body that commissions the service line on the date, by full delegation, a joint committee, or NHS England itself.'),
      form,
      dataTable({ id: 'delegation-table', caption: `Commissioner of ${line} for each ICB on ${on}`, filename: `delegation-${line}-${on}.csv`, groupBy: 'region',
        columns: [
          { key: 'icb', label: 'ICB', href: (row) => context.link('org', row.icb) },
          { key: 'name', label: 'Name' }, { key: 'commissioner', label: 'Commissioner' },
          { key: 'mode', label: 'How' }, { key: 'delegation', label: 'Delegation' },
        ],
        rows }),
    ],
  };
}
