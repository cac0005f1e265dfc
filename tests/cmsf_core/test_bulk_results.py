"""Bulk API result files read row by row: the same rows as ``csv.DictReader``, whatever
the file holds (blank lines, short and long rows, quoted line ends, chunks cut anywhere)."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cmsf_core.salesforce_bulk import (
    _dict_rows,
    _JobData,
    _key,
    _lines,
    _plain_lines,
    _successes,
)

FILES = [
    '"sf__Id","sf__Created",Name\n"003000000000001AAA","true","Ann"\n',
    "sf__Id,sf__Error,CM_Id__c\n,DUPLICATE_VALUE:dup,a:1\n,INVALID_FIELD:bad,a:2\n",
    "a,b\n1,2\n\n3\n4,5,6,7\n",  # a blank line, a short row, a long row
    'a,b\n"line one\nline two",x\n"say ""hi""",y\n',  # quoted line end and quotes
    "a,b\r\n1,2\r\n3,4\r\n",  # CRLF line ends
    "Name,City\nJosé,Zürich\n名前,東京\n",  # non-ASCII
    "a,a\n1,2\n",  # a repeated column: the last cell wins
    "only,header\n",
    "",
]


@pytest.mark.parametrize("text", FILES)
def test_result_rows_are_dict_reader_rows(text: str) -> None:
    expected = list(csv.DictReader(io.StringIO(text)))
    assert list(_dict_rows(csv.reader(io.StringIO(text)))) == expected


@pytest.mark.parametrize("size", [1, 2, 3, 7, 64])
def test_result_rows_streamed_in_chunks_cut_anywhere(size: int) -> None:
    text = 'Id,Name\r\n1,"Zoë\r\nSecond line"\n2,Ann\n\n3\n'
    data = text.encode("utf-8")
    chunks = iter([data[i : i + size] for i in range(0, len(data), size)])
    rows = list(_dict_rows(csv.reader(_lines(chunks))))
    assert rows == list(csv.DictReader(io.StringIO(text, newline="")))
    assert rows[0]["Name"] == "Zoë\r\nSecond line"
    assert rows[-1] == {"Id": "3", "Name": None}


CELLS = st.text(alphabet=st.sampled_from('ab é,"\n\r\t\x00;|名'), max_size=6)


def _written(rows: list[list[str]]) -> bytes:
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows(rows)
    return text.getvalue().encode("utf-8")


@settings(max_examples=400, deadline=None)
@given(st.integers(1, 4).flatmap(lambda width: st.lists(st.lists(CELLS, min_size=width,
       max_size=width), max_size=6)))  # fmt: skip
def test_uploaded_csv_is_what_csv_writer_writes(rows: list[list[str]]) -> None:
    assert _JobData(["Id", "Name"]).lines(rows) == _written(rows)


@pytest.mark.parametrize(
    "rows",
    [
        [["a", "b"], ["c", "d"]],  # nothing to quote: joined
        [["a,b", "c"]],
        [['say "hi"', "c"]],
        [["two\nlines", "c"]],
        [["cr\rhere", "c"]],
        [[""], ["x"]],  # one empty cell: written ""
        [["", ""], ["", ""]],
        [["a", "b"], ["c"]],  # rows of different widths
        [["a", "b", ""], ["", "b,", "c"]],  # a comma moved between cells
    ],
)
def test_blocks_that_need_quoting_are_written_by_csv(rows: list[list[str]]) -> None:
    assert _JobData(["Id", "Name"]).lines(rows) == _written(rows)
    plain = _plain_lines(rows)
    assert plain is None or plain.encode("utf-8") == _written(rows)
    assert (plain is not None) == (rows == [["a", "b"], ["c", "d"]] or rows[0] == ["", ""])


SUCCESS_FILES = [
    *FILES,
    '"sf__Id","sf__Created",CM_Id__c,Name\n"a0B1","true","L1:Ann@X.com","Ann"\n'
    '"a0B2","false","l1:bob@x.com","Bob"\n',
    "sf__Id,sf__Created,CM_Id__c\na0B1,TRUE,k1\n,false,k2\na0B3,true\na0B4,true,k4,extra\n",
    "CM_Id__c,sf__Id\nk1,a0B1\n",  # no sf__Created column
    "sf__Created,CM_Id__c,CM_Id__c\ntrue,first,second\n",  # a repeated column: the last wins
    "Campaign,Contact,sf__Id,sf__Created\n701A,003B,00v1,true\n701A,,00v2,false\n",
]


@pytest.mark.parametrize("text", SUCCESS_FILES)
@pytest.mark.parametrize("fields", [("CM_Id__c",), ("Campaign", "Contact"), ("Missing__c",)])
def test_successes_are_read_as_their_dict_rows(text: str, fields: tuple[str, ...]) -> None:
    expected = [
        (
            _key(row, fields, cells=False),
            row.get("sf__Id") or None,
            str(row.get("sf__Created", "")).lower() == "true",
        )
        for row in csv.DictReader(io.StringIO(text))
    ]
    assert list(_successes(csv.reader(io.StringIO(text)), fields)) == expected
