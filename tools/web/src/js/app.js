// The web view's entry point: reads the hash route (#/page/code?year=2024&asat=2024-09-30&...),
// keeps the year and as-at controls in step with it, and draws the page its module renders.
// Every API refusal is shown in words on the page, never swallowed.
import { ApiError, call, token } from './api.js';
import { dateNumber, yearLabel, yearOfDate } from './dates.js';
import { errorSummary, h } from './dom.js';
import { disposeCharts } from './charts.js';
import * as national from './pages/national.js';
import * as flows from './pages/flows.js';
import * as org from './pages/org.js';
import * as contract from './pages/contract.js';
import * as reports from './pages/reports.js';
import * as delegation from './pages/delegation.js';
import * as events from './pages/events.js';
import * as signin from './pages/signin.js';

const PAGES = { national, flows, org, contract, reports, delegation, events, signin };
let defaultYear = null;
let drawing = 0;

// The route in the hash: page, its path argument (an org code or contract id) and parameters.
export function parseRoute(hash = location.hash) {
  const text = hash.replace(/^#\/?/, '');
  const [path, query = ''] = text.split('?');
  const [page, ...rest] = path.split('/');
  return {
    page: PAGES[page] ? page : 'national',
    argument: rest.map(decodeURIComponent).join('/'),
    params: new URLSearchParams(query),
  };
}

// A hash link to a page, carrying the year and as-at date of the current view unless given.
export function link(page, argument = '', params = {}) {
  const current = parseRoute();
  const query = new URLSearchParams();
  const year = params.year ?? current.params.get('year');
  const asat = params.asat ?? current.params.get('asat');
  if (year) query.set('year', year);
  if (asat) query.set('asat', asat);
  for (const [name, value] of Object.entries(params)) {
    if (name === 'year' || name === 'asat') continue;
    if (value !== undefined && value !== null && value !== '') query.set(name, value);
  }
  const path = argument ? `${page}/${encodeURIComponent(argument)}` : page;
  const text = query.toString();
  return `#/${path}${text ? `?${text}` : ''}`;
}

// The financial year of the ledger's latest event, so the view opens on the year with data;
// today's year if that cannot be read.
async function findDefaultYear() {
  if (defaultYear !== null) return defaultYear;
  const today = new Date();
  const todayNumber = today.getUTCFullYear() * 10000 + (today.getUTCMonth() + 1) * 100 + today.getUTCDate();
  defaultYear = yearOfDate(todayNumber);
  try {
    const info = await call('ServerInfo');
    if (info.head_sequence && info.head_sequence !== '0') {
      const last = await call('GetEvent', { sequence: info.head_sequence });
      if (last.effective_date) defaultYear = yearOfDate(last.effective_date);
    }
  } catch {
    // A reader may not read events; today's year stands.
  }
  return defaultYear;
}

function fillControls(year, asat) {
  const select = document.getElementById('control-year');
  const years = new Set();
  for (let y = defaultYear - 3; y <= defaultYear + 1; y++) years.add(y);
  years.add(year);
  select.replaceChildren(...[...years].sort().map((y) => h('option', { value: String(y), selected: y === year }, yearLabel(y))));
  document.getElementById('control-asat').value = asat;
}

function showError(error) {
  const errors = document.getElementById('errors');
  const line = error instanceof ApiError ? error.describe() : `Something went wrong: ${error.message}`;
  const title = error instanceof ApiError && error.code === 'permission_denied'
    ? 'You may not see this page' : 'There is a problem';
  const lines = [line];
  if (error instanceof ApiError && error.code === 'unauthenticated') {
    lines.push(h('a', { href: link('signin') }, 'Sign in with your token'));
  }
  errors.append(errorSummary(title, lines));
}

function setCrumbs(crumbs) {
  document.getElementById('breadcrumbs').replaceChildren(...crumbs.map(([text, href]) =>
    h('li', { class: 'nhsuk-breadcrumb__list-item' }, href ? h('a', { class: 'nhsuk-breadcrumb__link', href }, text) : text)));
}

function markMenu(page) {
  for (const item of document.querySelectorAll('#menu a')) {
    const current = item.dataset.page === page;
    item.parentElement.classList.toggle('nhsuk-header__navigation-item--current', current);
    if (current) item.setAttribute('aria-current', 'page'); else item.removeAttribute('aria-current');
  }
  document.getElementById('signin-link').textContent = token() ? 'Signed in' : 'Sign in';
}

async function draw() {
  const ticket = ++drawing;
  const route = parseRoute();
  const year = Number(route.params.get('year')) || await findDefaultYear();
  const asat = route.params.get('asat') || '';
  fillControls(year, asat);
  markMenu(route.page);
  disposeCharts();
  const page = document.getElementById('page');
  const errors = document.getElementById('errors');
  errors.replaceChildren();
  page.setAttribute('aria-busy', 'true');
  page.removeAttribute('data-ready');
  page.removeAttribute('data-route');
  const module = PAGES[route.page];
  const context = {
    ...route, year, asat, asatNumber: 0, link,
    go: (params) => { location.hash = link(route.page, route.argument, params); },
    error: showError,
  };
  let content;
  try {
    context.asatNumber = dateNumber(asat);
    content = await module.render(context);
  } catch (error) {
    if (ticket !== drawing) return;
    showError(error);
    content = { title: 'There is a problem', crumbs: [], nodes: [] };
  }
  if (ticket !== drawing) return;
  document.title = `${content.title} – fundflow`;
  setCrumbs([['Home', link('national')], ...(content.crumbs || [])]);
  page.replaceChildren(...content.nodes.filter(Boolean));
  if (content.after) {
    try { await content.after(); } catch (error) { showError(error); }
  }
  page.setAttribute('aria-busy', 'false');
  // The browser tests wait for this, never for time.
  page.setAttribute('data-ready', route.page);
  page.setAttribute('data-route', location.hash);
}

document.getElementById('controls').addEventListener('submit', (event) => {
  event.preventDefault();
  const route = parseRoute();
  const params = Object.fromEntries(route.params.entries());
  params.year = document.getElementById('control-year').value;
  params.asat = document.getElementById('control-asat').value;
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value) query.set(name, value);
  const path = route.argument ? `${route.page}/${encodeURIComponent(route.argument)}` : route.page;
  location.hash = `#/${path}?${query}`;
});
window.addEventListener('hashchange', draw);
draw();
