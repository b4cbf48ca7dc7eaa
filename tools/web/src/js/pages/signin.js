// Sign-in: the bearer token is kept in sessionStorage only (gone when the tab closes) and sent
// with every request. A loopback server with no principals needs none.
import { call, setToken, token } from '../api.js';
import { h, heading, inset, summaryList } from '../dom.js';
import { inputField, pageForm } from './controls.js';

export async function render(context) {
  let info = null;
  let refusal = '';
  try {
    info = await call('ServerInfo');
  } catch (error) {
    refusal = error.describe ? error.describe() : error.message;
  }
  const form = pageForm('signin-form', [
    inputField('signin-token', 'Token', '', { type: 'password', autocomplete: 'off', spellcheck: 'false' }, 'The token your administrator gave you, starting ff_'),
  ], 'Sign in', (values) => {
    setToken(values['signin-token'].trim());
    location.hash = context.link('national');
  });
  const signOut = h('button', { type: 'button', class: 'nhsuk-button nhsuk-button--secondary', id: 'signout-button' }, 'Sign out');
  signOut.addEventListener('click', () => { setToken(''); location.hash = context.link('signin', '', { out: '1' }); });
  return {
    title: 'Sign in',
    crumbs: [['Sign in']],
    nodes: [
      heading(token() ? 'Signed in' : 'Sign in'),
      inset('The token stays in this browser tab only (sessionStorage) and is sent as a bearer token with each request. A demo on this computer with no principals needs no token.'),
      summaryList([
        ['Token', token() ? 'Set for this tab' : 'None'],
        ['Server', info ? `fundflow ${info.version}, ${info.event_count || 0} events` : `Refused: ${refusal}`],
      ], 'signin-summary'),
      form,
      token() ? signOut : null,
    ],
  };
}
