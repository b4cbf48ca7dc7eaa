// Funding flows: GetFundingFlows from a root (NHS England by default) to a depth, as at the chosen
// effective date, drawn as an
// ECharts Sankey with one node per organisation and one link per pair (streams added together
// exactly, in pence), and the same flows as a table. Hovering shows £; clicking a node opens it.
import { call } from '../api.js';
import { chartBox, dataTable, h, heading, inset } from '../dom.js';
import { yearLabel } from '../dates.js';
import { chartNumber, formatPounds, pence } from '../money.js';
import { drawChart } from '../charts.js';
import { STREAMS, orgName, orgsByCode, streamLabel } from '../orgs.js';
import { inputField, pageForm, selectField } from './controls.js';

// The share of the chart's width kept right of the last column of nodes for its labels.
const LABEL_SHARE = 0.24;

// Pixels a node's label may take: the room right of the last column, less a margin.
function labelWidth(box) {
  return Math.max(80, Math.floor(box.clientWidth * LABEL_SHARE) - 16);
}

// One link per (from, to): the API gives one flow per stream.
export function sankeyData(flows, orgs) {
  const links = new Map();
  const nodes = new Map();
  for (const flow of flows) {
    const key = `${flow.from_code}\u0000${flow.to_code}`;
    const link = links.get(key) || { source: flow.from_code, target: flow.to_code, pence: 0n, streams: [] };
    link.pence += pence(flow.amount_pence);
    link.streams.push(streamLabel(flow.stream));
    links.set(key, link);
    for (const [code, depth] of [[flow.from_code, (flow.depth || 1) - 1], [flow.to_code, flow.depth || 1]]) {
      if (!nodes.has(code) || nodes.get(code) > depth) nodes.set(code, depth);
    }
  }
  return {
    nodes: [...nodes.entries()].map(([code, depth]) => ({ name: code, label: `${code} ${orgName(orgs, code)}`, depth })),
    links: [...links.values()].map((link) => ({
      source: link.source, target: link.target, value: chartNumber(link.pence),
      pence: link.pence.toString(), streams: link.streams.join(', '),
    })),
  };
}

export async function render(context) {
  const root = context.params.get('root') || 'X24';
  const depth = Number(context.params.get('depth') || 2);
  const stream = context.params.get('stream') || '';
  const orgs = await orgsByCode();
  const reply = await call('GetFundingFlows', {
    financial_year: context.year, root_code: root, depth, stream: stream || 'STREAM_UNSPECIFIED',
    as_at_date: context.asatNumber,
  });
  const flows = reply.flows || [];
  const data = sankeyData(flows, orgs);
  const form = pageForm('flows-form', [
    inputField('flows-root', 'Root organisation code', root, { autocomplete: 'off', spellcheck: 'false' }, 'NHS England is X24'),
    selectField('flows-depth', 'Depth', [1, 2, 3, 4, 5].map((d) => [String(d), `${d} step${d > 1 ? 's' : ''} down`]), String(depth)),
    selectField('flows-stream', 'Stream', [['', 'Every stream'], ...STREAMS], stream),
  ], 'Show flows', (values) => context.go({ root: values['flows-root'].trim().toUpperCase(), depth: values['flows-depth'], stream: values['flows-stream'] }));
  const box = chartBox('flows-chart', `Sankey diagram of funding from ${root}; the table below holds the same flows`);
  const table = dataTable({
    id: 'flows-table',
    caption: `Flows from ${root} ${orgName(orgs, root)}, ${yearLabel(context.year)}, ${context.asat ? `as at ${context.asat}` : 'now'}`,
    filename: `flows-${root}-${context.year}.csv`, total: false,
    columns: [
      { key: 'from_code', label: 'From', href: (row) => context.link('org', row.from_code) },
      { key: 'to_code', label: 'To', href: (row) => context.link('org', row.to_code) },
      { key: 'to_name', label: 'Recipient' },
      { key: 'stream', label: 'Stream' },
      { key: 'depth', label: 'Depth', kind: 'number' },
      { key: 'amount_pence', label: 'Amount', kind: 'money' },
    ],
    rows: flows.map((flow) => ({ ...flow, to_name: orgName(orgs, flow.to_code), stream: streamLabel(flow.stream), amount_pence: flow.amount_pence || '0', depth: flow.depth || 0 })),
  });
  const nodes = [
    heading(`Funding flows from ${orgName(orgs, root)}`, `${streamLabel(stream)} ${yearLabel(context.year)}`),
    form,
  ];
  if (reply.truncated) nodes.push(inset('The server cut the walk short at its flow limit: choose a smaller depth or a lower root.'));
  if (!flows.length) nodes.push(h('p', { class: 'nhsuk-body', id: 'flows-empty' }, `No money flowed from ${root} in ${yearLabel(context.year)}.`));
  else nodes.push(box);
  nodes.push(inset(`Flows in ${yearLabel(context.year)} ${context.asat ? `that took effect by ${context.asat}` : 'as the ledger holds them now'}: allocations, budgets, contract payments and earned outcome pots. What each organisation receives is what flows into it; what it passes on flows out, so the picture conserves money as the API does. Hover over a flow for its amount; select an organisation to open it.`), table);
  return {
    title: 'Funding flows',
    crumbs: [['Funding flows']],
    nodes,
    after: () => {
      if (!flows.length) return;
      const height = Math.max(400, Math.min(4000, data.nodes.length * 18));
      box.classList.add(`ff-chart--${height > 1200 ? 'tall' : height > 600 ? 'medium' : 'short'}`);
      const encode = window.echarts.format.encodeHTML;
      const chart = drawChart(box, {
        tooltip: {
          trigger: 'item',
          formatter: (p) => (p.dataType === 'edge'
            ? `${encode(p.data.source)} → ${encode(p.data.target)}: ${formatPounds(p.data.pence)} (${encode(p.data.streams)})`
            : encode(p.data.label)),
        },
        series: [{
          type: 'sankey', left: 8, right: `${LABEL_SHARE * 100}%`, top: 8, bottom: 8, data: data.nodes, links: data.links, nodeAlign: 'left', draggable: false,
          // Each label fits the room right of its node: a long name is cut with an ellipsis, and
          // the tooltip holds it whole.
          emphasis: { focus: 'adjacency' },
          label: { formatter: (p) => p.data.label, width: labelWidth(box), overflow: 'truncate', ellipsis: '…' },
          lineStyle: { color: 'gradient', curveness: 0.5 },
        }],
      });
      chart.on('click', (p) => {
        if (p.dataType === 'node') location.hash = context.link('org', p.data.name);
      });
    },
  };
}
