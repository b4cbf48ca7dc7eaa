// Building the pages' HTML with the DOM (never innerHTML from data): elements, NHS summary
// lists, error summaries, and tables that sort, group with subtotals and download as CSV.
import { formatPounds, plainPounds, pence } from './money.js';
import { csvDocument, csvLine, download } from './csv.js';

// h('p', { class: 'x' }, 'text', child...): an element with attributes and children.
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      element.addEventListener(name.slice(2), value);
    } else {
      element.setAttribute(name, value === true ? '' : String(value));
    }
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

export function heading(text, caption) {
  return h('h1', { class: 'nhsuk-heading-l' },
    caption ? h('span', { class: 'nhsuk-caption-l' }, caption, h('span', { class: 'nhsuk-u-visually-hidden' }, ' - ')) : null,
    text);
}

// An NHS summary list of [label, value] pairs (value a string or a node).
export function summaryList(pairs, id) {
  return h('dl', { class: 'nhsuk-summary-list', id },
    pairs.map(([label, value]) => h('div', { class: 'nhsuk-summary-list__row' },
      h('dt', { class: 'nhsuk-summary-list__key' }, label),
      h('dd', { class: 'nhsuk-summary-list__value' }, value))));
}

// An NHS error summary naming what went wrong, in words.
export function errorSummary(title, lines) {
  return h('div', { class: 'nhsuk-error-summary', role: 'alert', tabindex: '-1' },
    h('h2', { class: 'nhsuk-error-summary__title' }, title),
    h('div', { class: 'nhsuk-error-summary__body' },
      h('ul', { class: 'nhsuk-list nhsuk-error-summary__list' }, lines.map((line) => h('li', {}, line)))));
}

export function inset(text) {
  return h('div', { class: 'nhsuk-inset-text' }, h('span', { class: 'nhsuk-u-visually-hidden' }, 'Information: '), h('p', {}, text));
}

// Text longer than this (in characters) is a name or a sentence: see bodyCell.
const LONG_TEXT_CHARACTERS = 24;

function cellValue(column, row) {
  // Subtotal and total rows hold their figures by key.
  if (row.summary || typeof column.value !== 'function') return row[column.key];
  return column.value(row);
}

function compare(column, a, b) {
  const x = cellValue(column, a);
  const y = cellValue(column, b);
  if (column.kind === 'money' || column.kind === 'number') {
    const p = pence(x ?? 0);
    const q = pence(y ?? 0);
    return p < q ? -1 : p > q ? 1 : 0;
  }
  return String(x ?? '').localeCompare(String(y ?? ''), 'en-GB', { numeric: true });
}

function displayCell(column, row) {
  const value = cellValue(column, row);
  if (column.kind === 'money') return formatPounds(value);
  if (column.kind === 'number') return String(value ?? 0);
  return String(value ?? '');
}

function csvCell(column, row) {
  const value = cellValue(column, row);
  if (column.kind === 'money') return { text: plainPounds(value), number: true };
  if (column.kind === 'number') return { text: String(value ?? 0), number: true };
  return { text: String(value ?? '') };
}

function bodyCell(column, row, header) {
  const numeric = column.kind === 'money' || column.kind === 'number';
  const text = displayCell(column, row);
  const href = column.href && !row.summary ? column.href(row) : '';
  // When a wide table is squeezed, a short label stays on one line and a long name or sentence
  // keeps a column wide enough to read (a table cell ignores min-width, so an inline block
  // inside it holds the measure), rather than a word a line; the table scrolls sideways.
  const long = !numeric && text.length > LONG_TEXT_CHARACTERS;
  const measure = long ? ' ff-cell--long' : ' ff-cell--short';
  const linked = href ? h('a', { href }, text) : text;
  const content = long ? h('span', { class: 'ff-measure' }, linked) : linked;
  const attributes = {
    class: `nhsuk-table__cell${numeric ? ' nhsuk-table__cell--numeric' : measure}`,
    'data-column': column.key,
  };
  if (column.kind === 'money') attributes['data-pence'] = pence(cellValue(column, row)).toString();
  if (header) {
    attributes.scope = 'row';
    return h('th', attributes, content);
  }
  return h('td', attributes, content);
}

function totalRow(columns, rows, label, kind) {
  const row = { summary: kind };
  columns.forEach((column, index) => {
    if (index === 0) row[column.key] = label;
    else if (column.kind === 'money' && column.total !== false) {
      row[column.key] = rows.reduce((sum, r) => sum + pence(cellValue(column, r)), 0n);
    } else row[column.key] = column.kind === 'money' ? null : '';
  });
  return row;
}

// A sortable NHS table with a CSV download. options: id, caption, columns [{ key, label, kind:
// 'text'|'money'|'number', href(row), value(row), total: false }], rows, filename, groupBy (a row
// key: rows grouped under a heading row with a subtotal), groupLabel(value), total (a TOTAL row of
// the money columns), note (a sentence under the caption).
export function dataTable(options) {
  const { columns } = options;
  const state = { column: null, descending: false };
  // A wide table scrolls sideways inside its region, which the keyboard can reach.
  const wrapper = h('div', { class: 'ff-table', id: options.id });
  const scroller = h('div', { class: 'ff-table__scroll', role: 'region', tabindex: '0', 'aria-label': options.caption });
  const table = h('table', { class: 'nhsuk-table-responsive nhsuk-table', 'data-table': options.id });
  const tbody = h('tbody', { class: 'nhsuk-table__body' });

  const headers = columns.map((column) => {
    const button = h('button', { type: 'button', class: 'ff-sort', 'data-sort': column.key }, column.label);
    const th = h('th', { scope: 'col', class: `nhsuk-table__header${column.kind === 'money' || column.kind === 'number' ? ' nhsuk-table__header--numeric' : ''}`, 'aria-sort': 'none' }, button);
    button.addEventListener('click', () => {
      state.descending = state.column === column ? !state.descending : column.kind === 'money';
      state.column = column;
      headers.forEach((other) => other.setAttribute('aria-sort', 'none'));
      th.setAttribute('aria-sort', state.descending ? 'descending' : 'ascending');
      draw();
    });
    return th;
  });

  function sorted(rows) {
    if (!state.column) return rows;
    const copy = [...rows];
    copy.sort((a, b) => compare(state.column, a, b) * (state.descending ? -1 : 1));
    return copy;
  }

  // The rows in display order, with group headings, subtotals and the total.
  function layout() {
    const out = [];
    if (options.groupBy) {
      const groups = new Map();
      for (const row of options.rows) {
        const key = row[options.groupBy] || '';
        if (!groups.has(key)) groups.set(key, []);
        groups.get(key).push(row);
      }
      const keys = [...groups.keys()].sort((a, b) => a.localeCompare(b));
      for (const key of keys) {
        const label = options.groupLabel ? options.groupLabel(key) : key;
        out.push({ heading: label });
        out.push(...sorted(groups.get(key)));
        out.push(totalRow(columns, groups.get(key), `${label} total`, 'subtotal'));
      }
    } else {
      out.push(...sorted(options.rows));
    }
    if (options.total) out.push(totalRow(columns, options.rows, 'TOTAL', 'total'));
    return out;
  }

  function draw() {
    tbody.replaceChildren(...layout().map((row) => {
      if (row.heading !== undefined) {
        return h('tr', { class: 'nhsuk-table__row ff-group' },
          h('th', { scope: 'rowgroup', colspan: String(columns.length), class: 'nhsuk-table__header' }, row.heading));
      }
      const classes = `nhsuk-table__row${row.summary ? ` ff-${row.summary}` : ''}`;
      return h('tr', { class: classes, 'data-summary': row.summary || null },
        columns.map((column, index) => {
          if (row.summary && column.kind !== 'money' && index > 0) return h('td', { class: 'nhsuk-table__cell' }, '');
          if (row.summary && column.kind === 'money' && row[column.key] === null) return h('td', { class: 'nhsuk-table__cell' }, '');
          return bodyCell(column, row, index === 0);
        }));
    }));
  }

  function csv() {
    const lines = [csvLine(columns.map((column) => ({ text: column.label })))];
    for (const row of layout()) {
      if (row.heading !== undefined) continue;
      lines.push(csvLine(columns.map((column, index) => {
        if (row.summary && index > 0 && (column.kind !== 'money' || row[column.key] === null)) return { text: '' };
        return csvCell(column, row);
      })));
    }
    return csvDocument(lines);
  }

  draw();
  const caption = h('caption', { class: 'nhsuk-table__caption' }, options.caption);
  table.append(caption, h('thead', { class: 'nhsuk-table__head' }, h('tr', { class: 'nhsuk-table__row' }, headers)), tbody);
  const button = h('button', { type: 'button', class: 'nhsuk-button nhsuk-button--secondary nhsuk-button--small ff-csv', 'data-csv': options.id },
    'Download CSV', h('span', { class: 'nhsuk-u-visually-hidden' }, ` of ${options.caption}`));
  button.addEventListener('click', () => download(options.filename || `${options.id}.csv`, csv()));
  scroller.append(table);
  wrapper.append(options.note ? h('p', { class: 'nhsuk-body-s' }, options.note) : '', scroller, button);
  wrapper.csv = csv;
  return wrapper;
}

// A box for an ECharts chart; the chart is drawn once the box is in the page.
export function chartBox(id, label) {
  return h('div', { class: 'ff-chart', id, role: 'img', 'aria-label': label });
}
