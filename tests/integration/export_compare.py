#!/usr/bin/env python3
"""Reads one listing exported four ways by fundflow --format table|csv|json|xlsx and fails unless
they carry the same figures: the same tables, headings, rows and cells (money to the penny), and
the same totals, which are the sums of the rows. Also checks that the CSV starts with a UTF-8 byte
order mark and carries its provenance, that every XML part of the workbook is well formed, and
that the workbook's About sheet and the JSON carry the provenance, with the head hash given.

Usage: export_compare.py TABLE.txt FILE.csv FILE.json FILE.xlsx HEAD_HASH
Prints the tables it read as JSON on stdout, for the shell test's own checks. Python's standard
library only (csv, json, zipfile, xml.etree)."""
import csv
import datetime
import decimal
import io
import json
import re
import sys
import zipfile
import xml.etree.ElementTree as ET

table_path, csv_path, json_path, xlsx_path, head_hash = sys.argv[1:6]
NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
      "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
      "rel": "http://schemas.openxmlformats.org/package/2006/relationships"}
PROVENANCE_KEYS = ["command", "financial year", "as at sequence", "as at date", "head sequence",
                   "head hash", "made at"]


def fail(message):
    print("FAIL: " + message, file=sys.stderr)
    sys.exit(1)


def pence(text):
    """Exact pence of plain pounds such as "-1234.56"."""
    if not re.fullmatch(r"-?\d+\.\d\d", text):
        fail("%r is not plain pounds" % text)
    return int(decimal.Decimal(text) * 100)


# JSON: the reference, since it names each column's type -----------------------------------------
with open(json_path, encoding="utf-8") as f:
    document = json.load(f)
provenance = document["provenance"]
if provenance["head_hash"] != head_hash or not provenance["command"].startswith("fundflow "):
    fail("the JSON's provenance is wrong: %r" % provenance)
tables = []
for table in document["tables"]:
    types = [c["type"] for c in table["columns"]]
    names = [c["name"] for c in table["columns"]]
    rows = []
    for row in table["rows"]:
        cells = []
        for name, kind in zip(names, types):
            value = row[name]
            if kind == "money":
                value = pence(value)
            elif kind == "date":
                value = value or ""
            cells.append(value)
        rows.append(cells)
    totals = {name: pence(value) for name, value in table.get("totals", {}).items()}
    for i, (name, kind) in enumerate(zip(names, types)):
        if name in totals and totals[name] != sum(row[i] for row in rows):
            fail("JSON %s: the total of %s is %d, the rows sum to %d"
                 % (table["title"], name, totals[name], sum(row[i] for row in rows)))
    tables.append({"title": table["title"], "names": names, "types": types, "rows": rows,
                   "totals": totals})


def expect_same(where, table, names, rows, totals):
    if names != table["names"]:
        fail("%s %s: headings %r, JSON %r" % (where, table["title"], names, table["names"]))
    if rows != table["rows"]:
        fail("%s %s: rows differ from the JSON's:\n%r\n%r" % (where, table["title"], rows,
                                                             table["rows"]))
    if totals != table["totals"]:
        fail("%s %s: totals %r, JSON %r" % (where, table["title"], totals, table["totals"]))


def cells_of(table, texts, convert):
    return [convert(kind, text) for kind, text in zip(table["types"], texts)]


def totals_of(table, texts, convert):
    if texts is None:
        return {}
    if texts[0] != "TOTAL":
        fail("%s's last row is not TOTAL: %r" % (table["title"], texts))
    return {name: convert("money", texts[i]) for i, name in enumerate(table["names"])
            if name in table["totals"]}


# CSV ----------------------------------------------------------------------------------------------
with open(csv_path, "rb") as f:
    raw = f.read()
if not raw.startswith(b"\xef\xbb\xbf"):
    fail("the CSV does not start with a UTF-8 byte order mark")
records = list(csv.reader(io.StringIO(raw[3:].decode("utf-8"), newline="")))
seen = [r[0][2:] for r in records if r and r[0].startswith("# ") and len(r) == 2]
if seen[:len(PROVENANCE_KEYS)] != PROVENANCE_KEYS:
    fail("the CSV's provenance rows are %r" % seen)
csv_provenance = {r[0][2:]: r[1] for r in records if r and r[0].startswith("# ") and len(r) == 2}
if csv_provenance["head hash"] != head_hash or "--format csv" not in csv_provenance["command"]:
    fail("the CSV's head hash is %r" % csv_provenance["head hash"])
sections, current = [], None
for record in records:
    if len(record) == 1 and record[0].startswith("# table "):
        current = []
        sections.append(current)
    elif record and record[0].startswith("# "):
        continue
    else:
        if current is None:
            current = []
            sections.append(current)
        current.append(record)
if len(sections) != len(tables):
    fail("the CSV has %d tables, the JSON %d" % (len(sections), len(tables)))


def csv_convert(kind, text):
    if kind == "money":
        return pence(text)
    if kind == "integer":
        return int(text)
    return text


for table, section in zip(tables, sections):
    body = section[1:]
    total_row = body[-1] if table["totals"] else None
    rows = body[:-1] if table["totals"] else body
    expect_same("CSV", table, section[0], [cells_of(table, r, csv_convert) for r in rows],
                totals_of(table, total_row, csv_convert))

# XLSX ---------------------------------------------------------------------------------------------
with zipfile.ZipFile(xlsx_path) as book:
    parts = {}
    for name in book.namelist():
        if name.endswith(".xml") or name.endswith(".rels"):
            try:
                parts[name] = ET.fromstring(book.read(name))
            except ET.ParseError as error:
                fail("the workbook's part %s is not well-formed XML: %s" % (name, error))
shared = ["".join(t.text or "" for t in si.iter("{%s}t" % NS["m"]))
          for si in parts.get("xl/sharedStrings.xml", ET.Element("x")).findall("m:si", NS)]
targets = {r.get("Id"): r.get("Target")
           for r in parts["xl/_rels/workbook.xml.rels"].findall("rel:Relationship", NS)}
sheets = [(s.get("name"), "xl/" + targets[s.get("{%s}id" % NS["r"])].lstrip("/").replace("xl/", ""))
          for s in parts["xl/workbook.xml"].find("m:sheets", NS)]
for name, _ in sheets:
    if len(name) > 31:
        fail("the worksheet name %r is longer than 31 characters" % name)


def sheet_rows(path):
    rows = []
    for row in parts[path].find("m:sheetData", NS).findall("m:row", NS):
        cells = {}
        for cell in row.findall("m:c", NS):
            column = re.match(r"[A-Z]+", cell.get("r")).group(0)
            index = 0
            for letter in column:
                index = index * 26 + ord(letter) - 64
            value = cell.find("m:v", NS)
            text = value.text if value is not None else ""
            if cell.get("t") == "s":
                text = shared[int(text)]
            elif cell.get("t") == "inlineStr":
                text = "".join(t.text or "" for t in cell.iter("{%s}t" % NS["m"]))
            cells[index - 1] = text
        width = max(cells) + 1 if cells else 0
        rows.append([cells.get(i, "") for i in range(width)])
    return rows


def xlsx_convert(kind, text):
    if kind == "money":
        return int(round(decimal.Decimal(text) * 100)) if text != "" else 0
    if kind == "integer":
        return int(decimal.Decimal(text))
    if kind == "date":
        if text == "":
            return ""
        day = datetime.date(1899, 12, 30) + datetime.timedelta(days=int(decimal.Decimal(text)))
        return day.isoformat()
    if kind == "percent":
        return "%.2f" % (decimal.Decimal(text) * 100)
    return text


if [name for name, _ in sheets][-1] != "About" or len(sheets) != len(tables) + 1:
    fail("the workbook's sheets are %r for %d tables" % ([n for n, _ in sheets], len(tables)))
for table, (name, path) in zip(tables, sheets):
    rows = sheet_rows(path)
    width = len(table["names"])
    rows = [(r + [""] * width)[:width] for r in rows]
    body = rows[1:]
    total_row = body[-1] if table["totals"] else None
    data = body[:-1] if table["totals"] else body
    expect_same("XLSX sheet " + name, table, rows[0], [cells_of(table, r, xlsx_convert) for r in data],
                totals_of(table, total_row, xlsx_convert))
about = {r[0]: (r + [""])[1] for r in sheet_rows(sheets[-1][1])}
for key in PROVENANCE_KEYS:
    if key not in about:
        fail("the About sheet lacks %r: %r" % (key, about))
if about["head hash"] != head_hash or "--format xlsx" not in about["command"]:
    fail("the About sheet's provenance is wrong: %r" % about)

# The terminal table: for a listing of one table, its rows and its TOTAL line ----------------------
with open(table_path, encoding="utf-8") as f:
    lines = [line.rstrip("\n") for line in f]
if len(tables) == 1 and tables[0]["totals"]:
    table = tables[0]
    total_lines = [line for line in lines if line.startswith("TOTAL ")]
    if len(total_lines) != 1:
        fail("the table has %d TOTAL lines:\n%s" % (len(total_lines), "\n".join(lines)))
    shown = [pence(amount.replace(",", "").replace("£", ""))
             for amount in re.findall(r"-?£[\d,]+\.\d\d", total_lines[0])]
    wanted = [table["totals"][name] for name in table["names"] if name in table["totals"]]
    if shown != wanted:
        fail("the table's TOTAL line shows %r, the JSON %r" % (shown, wanted))
    heading = lines.index(next(l for l in lines if l.split()[:1] == [table["names"][0]]))
    data = lines[heading + 1:lines.index(total_lines[0])]
    if len(data) != len(table["rows"]):
        fail("the table has %d rows, the JSON %d" % (len(data), len(table["rows"])))

json.dump(tables, sys.stdout)
