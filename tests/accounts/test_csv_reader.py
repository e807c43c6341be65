"""The streaming CSV reader: physical line numbers, blank lines, bad bytes and malformed CSV."""

import io

import pytest

from accounts.csvio.reader import CsvSyntaxError, bad_characters, csv_records


def records(data: bytes) -> list[tuple[int, list[str]]]:
    return [(r.line, r.cells) for r in csv_records(io.BytesIO(data))]


def test_records_are_named_by_their_first_physical_line():
    data = b'a,b\r\n\r\n"multi\nline",x\n   \n,\t\ny,"z"\rq,w\n'
    assert records(data) == [(1, ["a", "b"]), (3, ["multi\nline", "x"]), (7, ["y", "z"]), (8, ["q", "w"])]


def test_a_leading_bom_is_dropped():
    assert records(b"\xef\xbb\xbfa,b\n1,2\n") == [(1, ["a", "b"]), (2, ["1", "2"])]


def test_quoted_quotes_and_commas():
    assert records(b'a\n"x ""y"", z"\n') == [(1, ["a"]), (2, ['x "y", z'])]


def test_an_unterminated_quote_is_malformed_and_named_by_its_first_line():
    with pytest.raises(CsvSyntaxError) as info:
        records(b'a,b\n1,2\n"open,3\n4,5\n')
    assert info.value.line == 3
    assert "quoted cell is not closed" in str(info.value)


def test_text_after_a_closing_quote_is_malformed():
    with pytest.raises(CsvSyntaxError, match="line 2: malformed CSV"):
        records(b'a,b\n"x"y,2\n')


def test_bytes_that_are_not_utf8_are_kept_for_the_caller_to_report():
    (_, header), (_, row) = records(b"a,b\n\xff\xfe,ok\n")
    assert bad_characters(row) == [(0, "is not UTF-8 (byte 0xFF)")]
    assert bad_characters(["x\x00y"]) == [(0, "contains a NUL character")]


def test_reading_is_lazy():
    class Endless(io.RawIOBase):
        """Yields rows for ever: the reader must not try to read it all."""

        def __init__(self):
            self.sent = 0

        def readable(self):
            return True

        def readinto(self, buffer):
            chunk = b"a,b\n" if self.sent == 0 else b"1,2\n" * 100
            self.sent += 1
            buffer[: len(chunk)] = chunk
            return len(chunk)

    reader = csv_records(io.BufferedReader(Endless()))
    assert [next(reader).line for _ in range(5)] == [1, 2, 3, 4, 5]


def test_spaces_and_tabs_around_a_quoted_cell_are_allowed():
    assert records(b'a,b,c\n "x, y" ,\t"z"\t, \n') == [(1, ["a", "b", "c"]), (2, ["x, y", "z", " "])]


def test_a_quote_inside_an_unquoted_cell_is_text():
    assert records(b'a,b\n5" screen,x"y\n') == [(1, ["a", "b"]), (2, ['5" screen', 'x"y'])]


def test_a_quoted_cell_may_hold_line_breaks_of_every_kind():
    data = b'a,b\r\n"one\r\ntwo\rthree\nfour",x\r\nnext,y'
    assert records(data) == [(1, ["a", "b"]), (2, ["one\r\ntwo\rthree\nfour", "x"]), (6, ["next", "y"])]


def test_an_empty_quoted_cell_and_a_trailing_empty_cell():
    assert records(b'a,b,c\n"",x,\n') == [(1, ["a", "b", "c"]), (2, ["", "x", ""])]


def test_a_quoted_cell_closing_at_the_end_of_the_file():
    assert records(b'a\n"x ""q"""') == [(1, ["a"]), (2, ['x "q"'])]


def test_a_quote_never_closed_stops_at_the_cell_size_limit(monkeypatch):
    from accounts.csvio import reader

    monkeypatch.setattr(reader, "MAX_CELL_CHARS", 50)
    with pytest.raises(CsvSyntaxError) as info:
        records(b'a,b\n"open,1\n' + b"x,y\n" * 100)
    assert info.value.line == 2 and "longer than 50 characters" in str(info.value)


def test_simple_and_careful_splitting_agree():
    line = b'a,b,c\n"x, y",z,"q ""r"""\n"x, y", z ,"q ""r"""\n'
    assert records(line)[1][1] == records(line)[2][1][:1] + ["z", 'q "r"']
