// Dates and financial years as the API has them: dates YYYYMMDD numbers, years the year they
// start (2024 is 2024/25), months M1 (April) to M12 (March).

// 2024 -> "2024/25".
export function yearLabel(year) {
  return `${year}/${String((year + 1) % 100).padStart(2, '0')}`;
}

// "2024-09-30" -> 20240930; "" -> 0.
export function dateNumber(text) {
  if (!text) return 0;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) throw new Error(`the as-at date "${text}" is not YYYY-MM-DD`);
  return Number(text.replaceAll('-', ''));
}

// 20240930 -> "2024-09-30"; 0 or nothing -> "".
export function dateText(value) {
  const number = Number(value || 0);
  if (!number) return '';
  const text = String(number).padStart(8, '0');
  return `${text.slice(0, 4)}-${text.slice(4, 6)}-${text.slice(6, 8)}`;
}

// The financial year a YYYYMMDD date falls in.
export function yearOfDate(value) {
  const number = Number(value);
  const year = Math.floor(number / 10000);
  const month = Math.floor(number / 100) % 100;
  return month >= 4 ? year : year - 1;
}

// The financial month (1..12) of a YYYYMMDD date: April is M1.
export function monthOfDate(value) {
  const month = Math.floor(Number(value) / 100) % 100;
  return month >= 4 ? month - 3 : month + 9;
}

export function monthLabel(month) {
  return `M${month}`;
}

// Microseconds since 1970 -> "2024-09-30 12:34:56 UTC".
export function timestampText(microseconds) {
  if (!microseconds) return '';
  const date = new Date(Number(BigInt(microseconds) / 1000n));
  return `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}
