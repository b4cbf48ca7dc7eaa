// Money for people and for spreadsheets: the API gives pence as int64 strings, and every figure
// here stays an integer (BigInt) from the API to the page, so no amount is ever rounded.

// The pence of an API field: proto3 JSON gives int64 as a string and leaves out zero.
export function pence(value) {
  if (value === undefined || value === null || value === '') return 0n;
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number' && !Number.isSafeInteger(value)) {
    throw new Error(`an amount of ${value} pence is not a whole number the browser can hold exactly`);
  }
  return BigInt(value);
}

function parts(value) {
  const amount = pence(value);
  const negative = amount < 0n;
  const magnitude = negative ? -amount : amount;
  const pounds = (magnitude / 100n).toString();
  const rest = (magnitude % 100n).toString().padStart(2, '0');
  return { negative, pounds, rest };
}

// "£1,234,567.89", "-£12.00": £ with thousands separators, never rounded.
export function formatPounds(value) {
  const { negative, pounds, rest } = parts(value);
  const grouped = pounds.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${negative ? '-' : ''}£${grouped}.${rest}`;
}

// "1234567.89": plain pounds, as the CLI's CSV writes them, which a spreadsheet can sum.
export function plainPounds(value) {
  const { negative, pounds, rest } = parts(value);
  return `${negative ? '-' : ''}${pounds}.${rest}`;
}

// The sum of API amounts, exactly.
export function sumPence(values) {
  let total = 0n;
  for (const value of values) total += pence(value);
  return total;
}

// A chart's number for an amount: exact up to 2^53 pence (£90 trillion); beyond that refused.
export function chartNumber(value) {
  const amount = pence(value);
  if (amount > BigInt(Number.MAX_SAFE_INTEGER) || amount < -BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new Error(`an amount of ${amount} pence is too large to draw exactly`);
  }
  return Number(amount);
}
