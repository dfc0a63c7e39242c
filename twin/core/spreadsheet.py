"""CSV files made for people, who open them in a spreadsheet: the staff's appeal figures and a
business's usage.

Two things set them apart from the machine-read CSV of the open data (``/collections/{id}/
items`` as CSV, written by GDAL) and the participatory budget's Pabulib file (read by
pabutools), which keep plain UTF-8:

* **a byte-order mark.** Excel, the akimat's staff's spreadsheet, reads a CSV without one in
  the system's code page (Windows-1251 in Kazakhstan), so "Освещение" opened as "РћСЃРІРµ…";
  with the UTF-8 mark first it reads UTF-8. LibreOffice, pandas and Python's ``utf-8-sig``
  skip the mark;
* **no formulas from text.** A cell that begins with ``=``, ``+``, ``-`` or ``@`` is a formula
  to a spreadsheet (OWASP's "CSV injection"); a text cell that begins so gets an apostrophe
  first, which spreadsheets show as text. Numbers are written as they are (a z-score of -1.5
  stays a number).

>>> csv_text(["title", "z"], [["=HYPERLINK(\\"x\\")", -1.5], ["Свет", 2]])[1:]
'title,z\\r\\n"\\'=HYPERLINK(""x"")",-1.5\\r\\nСвет,2\\r\\n'
>>> csv_text(["a"], []).startswith(BOM)
True
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

#: the UTF-8 byte-order mark (as text: the first character of the file)
BOM = "\ufeff"
#: what makes a spreadsheet read a cell as a formula
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> Any:
    """Return ``value`` as a spreadsheet reads it as it is: text that would be read as a
    formula gets a leading apostrophe; anything else is unchanged.

    >>> cell("-5 days"), cell(-5), cell("Абай")
    ("'-5 days", -5, 'Абай')
    """
    if isinstance(value, str) and value.startswith(_FORMULA):
        return "'" + value
    return value


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """Return a CSV file for a spreadsheet: the byte-order mark, ``header``, then ``rows``
    (cells through :func:`cell`), lines ended by CRLF (RFC 4180)."""
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([cell(v) for v in row] for row in rows)
    return out.getvalue()
