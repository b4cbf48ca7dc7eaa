// Events: the history of an organisation or a contract (GetHistory), or the whole log
// (ListEvents), paged, with the actor and the hash of each event; and a button that runs
// VerifyLedger and shows what it found.
import { call } from '../api.js';
import { dataTable, h, heading, inset, summaryList } from '../dom.js';
import { dateText, timestampText } from '../dates.js';
import { enumWords } from '../orgs.js';
import { inputField, pageForm } from './controls.js';

const PAGE_SIZE = 50;

// Base64 (proto3 JSON bytes) -> lower-case hex.
export function hex(base64) {
  if (!base64) return '';
  return [...atob(base64)].map((c) => c.charCodeAt(0).toString(16).padStart(2, '0')).join('');
}

export const EVENT_COLUMNS = [
  { key: 'sequence', label: 'Sequence', kind: 'number' },
  { key: 'effective_date', label: 'Effective date' },
  { key: 'type', label: 'Event' },
  { key: 'actor', label: 'Actor' },
  { key: 'recorded_at', label: 'Recorded at' },
  { key: 'hash', label: 'Hash (SHA-256)' },
];

export function eventRows(events) {
  return events.map((record) => ({
    sequence: record.sequence || '0',
    effective_date: dateText(record.effective_date),
    type: enumWords(Object.keys(record.event || {})[0] || 'unknown'),
    actor: record.actor || '(bootstrap)',
    recorded_at: timestampText(record.recorded_at_us),
    hash: hex(record.hash),
  }));
}

function verifyPanel() {
  const result = h('div', { id: 'verify-result', 'aria-live': 'polite' });
  const button = h('button', { type: 'button', class: 'nhsuk-button nhsuk-button--secondary', id: 'verify-button' }, 'Verify the ledger');
  button.addEventListener('click', async () => {
    button.disabled = true;
    result.replaceChildren(h('p', { class: 'nhsuk-body' }, 'Verifying…'));
    try {
      const reply = await call('VerifyLedger');
      result.replaceChildren(h('div', { class: reply.ok ? 'nhsuk-inset-text ff-verified' : 'nhsuk-error-summary', role: reply.ok ? 'status' : 'alert', 'data-ok': reply.ok ? 'true' : 'false' },
        h('p', { class: 'nhsuk-body' }, reply.ok
          ? `Verified: the hash chain and every projection agree, over ${reply.events_checked || 0} events.`
          : `Verification failed (${reply.code}) at sequence ${reply.sequence || 0}: ${reply.reason}`)));
    } catch (error) {
      result.replaceChildren(h('div', { class: 'nhsuk-error-summary', role: 'alert' }, h('p', { class: 'nhsuk-body' }, error.describe ? error.describe() : error.message)));
    } finally {
      button.disabled = false;
    }
  });
  return h('div', { class: 'ff-verify' }, button, result);
}

export async function render(context) {
  const name = context.params.get('name') || '';
  const after = context.params.get('after') || '0';
  const reply = name
    ? await call('GetHistory', { name, after_sequence: after, page_size: PAGE_SIZE })
    : await call('ListEvents', { after_sequence: after, page_size: PAGE_SIZE });
  const events = reply.events || [];
  const next = reply.next_after_sequence && reply.next_after_sequence !== '0' ? reply.next_after_sequence : '';
  const form = pageForm('events-form', [
    inputField('events-name', 'Organisation code or contract id', name, { autocomplete: 'off', spellcheck: 'false' }, 'Empty for every event in the log'),
  ], 'Show events', (values) => context.go({ name: values['events-name'].trim(), after: '' }));
  const paging = h('nav', { class: 'nhsuk-pagination', role: 'navigation', 'aria-label': 'Pagination' },
    h('ul', { class: 'nhsuk-list nhsuk-pagination__list' },
      after !== '0' ? h('li', { class: 'nhsuk-pagination-item--previous' }, h('a', { class: 'nhsuk-pagination__link nhsuk-pagination__link--prev', href: context.link('events', '', { name, after: '' }) }, h('span', { class: 'nhsuk-pagination__title' }, 'First page'))) : null,
      next ? h('li', { class: 'nhsuk-pagination-item--next' }, h('a', { class: 'nhsuk-pagination__link nhsuk-pagination__link--next', id: 'events-next', href: context.link('events', '', { name, after: next }) }, h('span', { class: 'nhsuk-pagination__title' }, 'Next page'))) : null));
  return {
    title: 'Events',
    crumbs: [['Events']],
    nodes: [
      heading(name ? `Events about ${name}` : 'Every event', 'The hash-chained log'),
      inset('Events are the log itself, in the order recorded; the year and as-at controls do not filter them. Each event\'s hash chains it to the one before; Verify recomputes the chain and every projection.'),
      verifyPanel(),
      form,
      summaryList([['Shown', `${events.length} events after sequence ${after}`]], 'events-summary'),
      dataTable({ id: 'events-table', caption: name ? `Events about ${name}` : 'Events', filename: `events${name ? `-${name}` : ''}-after-${after}.csv`, columns: EVENT_COLUMNS, rows: eventRows(events) }),
      paging,
    ],
  };
}
