// Tables as CSV, written as the CLI writes them: UTF-8 with a byte order mark (so Excel shows £),
// money as plain pounds, and a text cell a spreadsheet would run as a formula (starting =, +, -,
// @, a tab or a carriage return) written behind a ' (OWASP's CSV injection advice).

const FORMULA_START = /^[=+\-@\t\r]/;

export function neutralise(text) {
  return FORMULA_START.test(text) ? `'${text}` : text;
}

function quote(text) {
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

// cells: [{ text, number }] where number is true for a numeric cell (never neutralised).
export function csvLine(cells) {
  return cells.map((cell) => quote(cell.number ? cell.text : neutralise(cell.text))).join(',');
}

export function csvDocument(lines) {
  return `\ufeff${lines.join('\r\n')}\r\n`;
}

// Offers the text (or bytes) as a file download, through an object URL: nothing inline, so the
// Content-Security-Policy holds.
export function download(filename, text, type = 'text/csv;charset=utf-8') {
  const blob = new Blob([text], { type });
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 0);
}
