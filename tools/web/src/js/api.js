// The Twirp JSON API of the server that served these pages: POST /twirp/fundflow.v1.Ledger/<Method>,
// with the bearer token from sessionStorage when one is set. A refusal becomes an ApiError that
// keeps the server's code, its sentence and the field it names, to be shown in words.

const TOKEN_KEY = 'fundflow.token';

export function token() {
  return sessionStorage.getItem(TOKEN_KEY) || '';
}

export function setToken(value) {
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
}

export class ApiError extends Error {
  constructor(method, code, message, meta) {
    super(message);
    this.method = method;
    this.code = code;
    this.meta = meta || {};
    this.field = this.meta.field || '';
  }

  // "GetPosition was refused (permission_denied): <the server's sentence> Field: org_code."
  describe() {
    const field = this.field ? ` Field: ${this.field}.` : '';
    return `${this.method} was refused (${this.code}): ${this.message}${field}`;
  }
}

export async function call(method, request = {}) {
  const headers = { 'Content-Type': 'application/json', Accept: 'application/json' };
  const bearer = token();
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  let response;
  try {
    response = await fetch(`/twirp/fundflow.v1.Ledger/${method}`, {
      method: 'POST', headers, body: JSON.stringify(request), cache: 'no-store',
    });
  } catch (error) {
    throw new ApiError(method, 'unavailable', `the server could not be reached (${error.message}).`);
  }
  const text = await response.text();
  let body;
  try {
    body = text ? JSON.parse(text) : {};
  } catch {
    throw new ApiError(method, 'malformed', `the server answered HTTP ${response.status} with no JSON.`);
  }
  if (!response.ok) {
    throw new ApiError(method, body.code || `http_${response.status}`, body.msg || 'no reason given.', body.meta);
  }
  return body;
}

// Every page of a listing: calls method with page_token until next_page_token is empty.
export async function callAll(method, request, listField) {
  const items = [];
  let pageToken = '';
  for (let page = 0; page < 1000; page++) {
    const reply = await call(method, { ...request, page_token: pageToken });
    items.push(...(reply[listField] || []));
    pageToken = reply.next_page_token || '';
    if (!pageToken) return items;
  }
  throw new Error(`${method} gave more than 1000 pages`);
}

// Base64 (protobuf bytes in JSON) as a Uint8Array.
export function base64Bytes(text) {
  const binary = atob(text || '');
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

// Every call at once, as Promise.all, but a refusal is the first in the order given rather than
// whichever the server answered first, so a page always names the same refusal.
export async function allInOrder(calls) {
  const settled = await Promise.allSettled(calls);
  const failed = settled.find((result) => result.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((result) => result.value);
}
