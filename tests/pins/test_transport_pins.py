"""What crosses the trust boundary (``sandbox.transport``), pinned: each bound just inside is
read and just outside refused (header length, dimensions, array bytes, values, depth,
integers, the answer's sizes), each header rule and decoding rule to its reason, records
byte for byte as numpy writes them, and every value and plan read back as it was sent."""

from __future__ import annotations

import io
import json
import os
import re
import stat

import numpy as np
import pytest

from gradekit.sandbox.plan import Failure, Outcome, Unsupported
from gradekit.sandbox.transport import (
    FRAME,
    MAX_ARRAY_BYTES,
    MAX_DEPTH,
    MAX_DIMS,
    MAX_HEADER,
    MAX_INT,
    MAX_NODES,
    BufferReader,
    TransportError,
    _read_header,
    _read_record,
    _record,
    _record_size,
    answer_frame,
    answer_sizes,
    decode_answer,
    decode_book,
    decode_outcome,
    encode_book,
    encode_outcome,
    one_line,
    read_book,
    record_parts,
    write_book,
)

MAX_JSON = 4 << 20
"""The most JSON bytes an answer may declare (docs/sandbox.md: 4 MiB)."""


def numpy_record(array: np.ndarray, version: tuple[int, int] = (1, 0)) -> bytes:
    """The ``.npy`` record numpy itself writes."""
    f = io.BytesIO()
    np.lib.format.write_array(f, array, version=version)
    return f.getvalue()


def header(text: str, version: tuple[int, int] = (1, 0)) -> bytes:
    """A record's header of ``text`` (as is: no padding added)."""
    width = 2 if version == (1, 0) else 4
    return b"\x93NUMPY" + bytes(version) + len(text).to_bytes(width, "little") + text.encode()


def plain_header(descr: str = "<f8", shape: str = "(2,)", fortran: str = "False") -> str:
    return f"{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': {shape}, }}\n"


def whole(message: str) -> str:
    """A pattern of exactly ``message``: a refusal's reason is its whole text."""
    return f"^{re.escape(message)}$"


def read(data: bytes) -> np.ndarray:
    return _read_record(io.BytesIO(data))


def decode(document: object, records: bytes = b"") -> Outcome:
    raw = json.dumps(document).encode()
    return decode_outcome(raw, lambda: io.BytesIO(records))


def roundtrip(outcome: Outcome) -> Outcome:
    document, records = encode_outcome(outcome)
    return decode_answer(bytearray(document + records), len(document))


def scalar(v: object) -> dict:
    return {"t": "scalar", "v": v}


# --- one_line: an exception as one short line


def test_one_line_is_the_type_and_the_message_on_one_line():
    assert one_line(ValueError("bad\n   value\there")) == "ValueError: bad value here"


def test_one_line_without_a_message_is_the_type():
    assert one_line(KeyboardInterrupt()) == "KeyboardInterrupt"


def test_one_line_of_a_message_that_cannot_be_shown_is_the_type():
    class Hostile(Exception):
        def __str__(self):
            raise RuntimeError("no")

    assert one_line(Hostile()) == "Hostile"


def test_one_line_keeps_200_characters_of_the_message():
    assert one_line(ValueError("a" * 300)) == "ValueError: " + "a" * 200


def test_one_line_reads_only_the_first_400_characters_of_the_message():
    """A message of spaces reads as empty within 400 characters: a word at 400 is cut."""
    assert one_line(ValueError(" " * 399 + "xy")) == "ValueError: x"


# --- records as numpy writes them


@pytest.mark.parametrize(
    "array",
    [
        np.arange(6.0).reshape(2, 3),
        np.zeros(0),
        np.arange(3, dtype=">i4"),
        np.ones((1, 2, 1), dtype=np.float32),
        np.array([True, False]),
        np.arange(120.0).reshape(2, 3, 4, 5),
    ],
    ids=["f8", "empty", "big-endian", "f4", "bool", "4-d"],
)
def test_a_record_is_byte_for_byte_the_one_numpy_writes(array):
    head, data = _record(array)
    assert head + bytes(data) == numpy_record(array)
    assert len(head) % 64 == 0


def test_a_strided_array_is_written_as_its_contiguous_values():
    array = np.arange(12.0).reshape(3, 4)[:, ::2]
    head, data = _record(array)
    assert head + bytes(data) == numpy_record(np.ascontiguousarray(array))
    np.testing.assert_array_equal(read(head + bytes(data)), array)


def test_record_parts_are_each_arrays_header_then_its_data():
    a, b = np.arange(3.0), np.arange(4, dtype=np.int64)
    parts = record_parts([a, b])
    assert len(parts) == 4
    assert b"".join(bytes(p) for p in parts) == numpy_record(a) + numpy_record(b)


@pytest.mark.parametrize("version", [(1, 0), (2, 0)])
def test_numpy_records_of_both_header_versions_are_read(version):
    array = np.arange(6.0).reshape(3, 2)
    got = read(numpy_record(array, version))
    np.testing.assert_array_equal(got, array)
    assert got.dtype == array.dtype and got.shape == (3, 2)


def test_a_fortran_ordered_record_is_read_in_its_order():
    array = np.asfortranarray(np.arange(6.0).reshape(2, 3))
    data = numpy_record(array)
    assert b"'fortran_order': True" in data
    np.testing.assert_array_equal(read(data), array)


@pytest.mark.parametrize(
    "array",
    [np.arange(4, dtype=">f8"), np.arange(3, dtype="|u1"), np.arange(2, dtype="<i2")],
    ids=["big-endian", "u1", "i2"],
)
def test_every_byte_order_and_width_keeps_its_values(array):
    got = read(numpy_record(array))
    assert got.dtype == array.dtype
    np.testing.assert_array_equal(got, array)


def test_a_record_read_from_bytes_is_a_writable_array():
    got = read(numpy_record(np.arange(3.0)))
    got[0] = 7.0
    assert got[0] == 7.0


def test_a_record_read_from_a_buffer_is_a_view_of_it():
    """An answer's arrays are read where they lie in the received buffer, not copied."""
    body = bytearray(numpy_record(np.arange(3.0)))
    got = _read_record(BufferReader(memoryview(body)))
    body[-8:] = np.float64(9.0).tobytes()
    assert got[2] == 9.0


def test_the_header_is_checked_before_any_data_is_read():
    """A refused header leaves its data unread: the reader stops right after the header."""
    text = plain_header(shape="(1, 2, 3")
    f = io.BytesIO(header(text) + b"DATA")
    with pytest.raises(
        TransportError, match=whole("a bad .npy header: not a plain numeric array's")
    ):
        _read_header(f)
    assert f.read() == b"DATA"


# --- header rules


NOT_NPY = "a result array is not in the .npy format"
LENGTH = "a bad .npy header: its length"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", NOT_NPY),
        (b"\x93NUMPY\x01\x00\x10", NOT_NPY),  # nine bytes
        (b"\x93NUMPX\x01\x00" + bytes(50), NOT_NPY),
        (b"PK\x03\x04" + bytes(50), NOT_NPY),
        (b"\x93NUMPY\x03\x00" + bytes(50), "unsupported .npy version (3, 0)"),
        (b"\x93NUMPY\x01\x01" + bytes(50), "unsupported .npy version (1, 1)"),
        (b"\x93NUMPY\x00\x01" + bytes(50), "unsupported .npy version (0, 1)"),
        (b"\x93NUMPY\x02\x00\x10\x00\x00", LENGTH),  # a version 2 length cut short
        (b"\x93NUMPY\x01\x00\x00\x00", LENGTH),
        (b"\x93NUMPY\x01\x00\x01\x00\n", "a bad .npy header: not a plain numeric array's"),
    ],
    ids=["empty", "short", "magic", "zip", "v3", "v1.1", "v0.1", "v2-cut", "zero", "one"],
)
def test_a_start_that_is_not_a_plain_record_is_refused(data, reason):
    """The header's length lies in (0, MAX_HEADER]: one byte is a length, but no header."""
    with pytest.raises(TransportError, match=whole(reason)):
        read(data)


def test_a_version_2_length_reads_all_four_bytes():
    text = plain_header(shape="(1,)")
    data = header(text, (2, 0)) + np.float64(5.0).tobytes()
    np.testing.assert_array_equal(read(data), [5.0])
    long = b"\x93NUMPY\x02\x00" + (len(text) + (1 << 16)).to_bytes(4, "little") + text.encode()
    with pytest.raises(TransportError, match=whole("a bad .npy header: its length")):
        read(long)


def test_a_header_of_max_header_bytes_is_read_one_more_is_refused():
    """Headers may be padded with spaces, up to MAX_HEADER bytes in all."""
    text = plain_header(shape="(1,)")
    padded = text[:-1] + " " * (MAX_HEADER - len(text)) + "\n"
    assert len(padded) == MAX_HEADER
    np.testing.assert_array_equal(read(header(padded) + bytes(8)), [0.0])
    with pytest.raises(TransportError, match=whole("a bad .npy header: its length")):
        read(header(" " + padded) + bytes(8))


@pytest.mark.parametrize(
    "text",
    [
        plain_header(descr="|O"),
        plain_header(descr="<c16"),
        plain_header(descr="<U3"),
        plain_header(descr="<f16"),
        plain_header(descr="<M8"),
        plain_header(fortran="1"),
        plain_header(shape="(-1,)"),
        plain_header(shape="(2)"),
        plain_header(shape="(2,3)"),
        plain_header(shape="[2]"),
        plain_header(shape="(2, )"),
        plain_header() + "x",
        plain_header()[:-1],
        "{'descr': '<f8', 'shape': (2,), 'fortran_order': False, }\n",
        "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), 'x': 1, }\n",
        "{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (2,), }\n",
        "{'descr': '<f8', 'fortran_order': False, 'shape': (2,)}\n",
    ],
)
def test_any_header_but_the_one_numpy_writes_is_refused(text):
    """Matched whole against the text numpy writes: no Python literal is parsed."""
    with pytest.raises(
        TransportError, match=whole("a bad .npy header: not a plain numeric array's")
    ):
        read(header(text) + bytes(64))


@pytest.mark.parametrize("descr", ["<f1", "|b2", "|b4", "|b8"])
def test_a_width_the_kind_does_not_have_is_refused(descr):
    with pytest.raises(TransportError, match=whole(f"a bad .npy header: dtype b'{descr}'")):
        read(header(plain_header(descr=descr)) + bytes(64))


@pytest.mark.parametrize(
    ("shape", "expected"),
    [("()", ()), ("(3,)", (3,)), ("(2, 3)", (2, 3)), ("(1, 0, 2)", (1, 0, 2))],
)
def test_the_shape_in_the_header_is_the_arrays(shape, expected):
    size = int(np.prod(expected)) * 8
    got = read(header(plain_header(shape=shape)) + np.arange(size // 8, dtype="<f8").tobytes())
    assert got.shape == expected
    np.testing.assert_array_equal(got.reshape(-1), np.arange(size // 8))


def test_the_header_says_fortran_order():
    got = _read_header(io.BytesIO(header(plain_header(fortran="True"))))
    assert got == ((2,), True, np.dtype("<f8"), 16)
    got = _read_header(io.BytesIO(header(plain_header(descr=">i4"))))
    assert got == ((2,), False, np.dtype(">i4"), 8)


def test_a_header_read_before_is_read_alike_and_a_refused_one_refused_each_time():
    """Accepted headers are kept once read: the same text gives the same array again, and
    a refusal is never kept (nor a text that differs in one byte accepted)."""
    data = header(plain_header(shape="(2, 1)")) + np.arange(2.0).tobytes()
    first, again = read(data), read(data)
    assert first is not again and first.shape == again.shape == (2, 1)
    for _ in range(2):
        with pytest.raises(TransportError, match="not a plain numeric array's"):
            read(header(plain_header(shape="(2, 1)").replace("(2, 1)", "(2,  1)")))
        with pytest.raises(TransportError, match="too large"):
            read(header(plain_header(shape=f"({MAX_ARRAY_BYTES},)")))


# --- a record's size: checked exactly before any data is read


def test_a_record_of_max_array_bytes_is_allowed_one_more_item_is_not():
    limit = MAX_ARRAY_BYTES // 8
    assert _record_size((limit,), np.dtype("<f8")) == MAX_ARRAY_BYTES
    assert _record_size((1, limit), np.dtype("<f8")) == MAX_ARRAY_BYTES
    with pytest.raises(
        TransportError, match=whole(f"a result array of shape {(limit + 1,)!r} is too large")
    ):
        _record_size((limit + 1,), np.dtype("<f8"))
    with pytest.raises(
        TransportError, match=whole(f"a result array of shape {(2, limit // 2 + 1)!r} is too large")
    ):
        _record_size((2, limit // 2 + 1), np.dtype("<f8"))


def test_the_size_counts_the_item_width():
    assert _record_size((2, 3), np.dtype("<f4")) == 24
    assert _record_size((5,), np.dtype("|u1")) == 5
    with pytest.raises(
        TransportError,
        match=whole(f"a result array of shape {(MAX_ARRAY_BYTES // 4 + 1,)!r} is too large"),
    ):
        _record_size((MAX_ARRAY_BYTES // 4 + 1,), np.dtype("<f4"))
    assert _record_size((MAX_ARRAY_BYTES // 4,), np.dtype("<f4")) == MAX_ARRAY_BYTES


def test_an_empty_dimension_does_not_excuse_huge_others():
    assert _record_size((0, 3), np.dtype("<f8")) == 0
    with pytest.raises(
        TransportError,
        match=whole(f"a result array of shape {(0, 2**62, 2**62)!r:.60} is too large"),
    ):
        _record_size((0, 2**62, 2**62), np.dtype("<f8"))
    with pytest.raises(
        TransportError,
        match=whole(f"a result array of shape {(MAX_ARRAY_BYTES, 0)!r} is too large"),
    ):
        _record_size((MAX_ARRAY_BYTES, 0), np.dtype("<f8"))


def test_max_dims_dimensions_are_allowed_one_more_is_not():
    assert _record_size((1,) * MAX_DIMS, np.dtype("<f8")) == 8
    with pytest.raises(
        TransportError, match=whole(f"a bad array shape {(1,) * (MAX_DIMS + 1)!r:.60}")
    ):
        _record_size((1,) * (MAX_DIMS + 1), np.dtype("<f8"))
    dims = "(" + ", ".join(["1"] * (MAX_DIMS + 1)) + ")"
    with pytest.raises(
        TransportError, match=whole(f"a bad array shape {(1,) * (MAX_DIMS + 1)!r:.60}")
    ):
        read(header(plain_header(shape=dims)) + bytes(8))


@pytest.mark.parametrize("shape", [[2], (2, -1), (True,), (2.0,), ("2",), None])
def test_a_shape_of_anything_but_non_negative_ints_is_refused(shape):
    with pytest.raises(TransportError, match=whole(f"a bad array shape {shape!r:.60}")):
        _record_size(shape, np.dtype("<f8"))


@pytest.mark.parametrize("dtype", ["<c16", "<f16", "|O", "<U2", "|V8", "<M8[s]"])
def test_only_plain_numeric_dtypes_of_at_most_8_bytes_have_a_size(dtype):
    with pytest.raises(
        TransportError,
        match=whole(f"array of dtype {np.dtype(dtype)} is not a plain numeric array"),
    ):
        _record_size((2,), np.dtype(dtype))


@pytest.mark.parametrize("dtype", ["|b1", "<i8", "<u8", "<f8", "|i1"])
def test_every_plain_numeric_dtype_has_a_size(dtype):
    assert _record_size((3,), np.dtype(dtype)) == 3 * np.dtype(dtype).itemsize


def test_a_record_shorter_than_its_header_says_is_truncated():
    data = numpy_record(np.arange(4.0))
    with pytest.raises(TransportError, match=whole("a result array is truncated")):
        read(data[:-1])
    np.testing.assert_array_equal(read(data + b"more"), np.arange(4.0))


# --- BufferReader: a file's read over a buffer


def test_the_buffer_reader_reads_in_turn_and_fewer_at_the_end():
    f = BufferReader(memoryview(b"abcdefgh"))
    assert bytes(f.read(3)) == b"abc"
    assert bytes(f.read(3)) == b"def"
    assert bytes(f.read(10)) == b"gh"
    assert bytes(f.read(1)) == b""
    with f as same:
        assert same is f


# --- plans: written once, read back whole


def plans() -> list:
    first = {"y": np.arange(3.0), "a": np.arange(4, dtype=np.int64).reshape(2, 2)}
    second = {"b": np.ones((2, 1))}
    return [
        ([{"op": "make", "obj": "c"}], first),
        ([], {}),
        ([{"op": "call", "args": [1, "x"]}], second),
    ]


def assert_same_book(got: list, want: list) -> None:
    assert len(got) == len(want)
    for (ops, arrays), (want_ops, want_arrays) in zip(got, want, strict=True):
        assert ops == want_ops
        assert sorted(arrays) == sorted(want_arrays)
        for k, v in want_arrays.items():
            assert arrays[k].dtype == v.dtype
            np.testing.assert_array_equal(arrays[k], v)


def test_a_book_of_plans_reads_back_as_written():
    assert_same_book(decode_book(encode_book(plans())), plans())


def test_a_book_is_one_json_line_then_the_records_by_sorted_name():
    data = encode_book(plans())
    line, records = data.split(b"\n", 1)
    index = json.loads(line)
    assert [p["arrays"] for p in index] == [["a", "y"], [], ["b"]]
    assert [p["ops"] for p in index] == [ops for ops, _ in plans()]
    first, arrays = plans()[0][1], plans()[2][1]
    want = numpy_record(first["a"]) + numpy_record(first["y"]) + numpy_record(arrays["b"])
    assert records == want


def test_a_book_file_reads_back_as_written(tmp_path):
    path = tmp_path / "plans.bin"
    write_book(path, plans())
    assert path.read_bytes() == encode_book(plans())
    assert_same_book(read_book(path), plans())


def test_a_book_is_written_only_to_a_new_file(tmp_path):
    path = tmp_path / "plans.bin"
    path.write_bytes(b"old")
    with pytest.raises(FileExistsError):
        write_book(path, plans())
    assert path.read_bytes() == b"old"


def test_a_book_is_never_written_through_a_link(tmp_path):
    """A link planted where the plans go (by a worker, under rlimits) is not followed,
    even a dangling one."""
    target = tmp_path / "elsewhere"
    link = tmp_path / "plans.bin"
    link.symlink_to(target)
    with pytest.raises(OSError):
        write_book(link, plans())
    assert not target.exists()


def test_a_book_file_is_readable_by_all_and_writable_by_its_owner_only(tmp_path):
    mask = os.umask(0)
    try:
        write_book(tmp_path / "plans.bin", plans())
    finally:
        os.umask(mask)
    mode = stat.S_IMODE((tmp_path / "plans.bin").stat().st_mode)
    assert mode == stat.S_IRUSR | stat.S_IWUSR | stat.S_IRGRP | stat.S_IROTH


# --- answers: every value read back as it was sent


def test_an_outcome_reads_back_as_it_was_sent():
    values = {
        "y": np.arange(6.0).reshape(2, 3),
        "n": 3,
        "f": 0.25,
        "b": True,
        "none": None,
        "d": {"w": np.ones(2), "inner": {"k": -1}},
        "l": [1, np.zeros((1, 2), dtype=np.float32), [False, None]],
        "u": Unsupported("matrix"),
    }
    got = roundtrip(Outcome(values=values))
    assert got.status == "ok" and got.failure is None
    assert set(got.values) == set(values)
    np.testing.assert_array_equal(got.values["y"], values["y"])
    assert got.values["n"] == 3 and type(got.values["n"]) is int
    assert got.values["f"] == 0.25 and got.values["b"] is True and got.values["none"] is None
    np.testing.assert_array_equal(got.values["d"]["w"], np.ones(2))
    assert got.values["d"]["inner"] == {"k": -1}
    assert got.values["l"][0] == 1 and got.values["l"][2] == [False, None]
    assert got.values["l"][1].dtype == np.float32 and got.values["l"][1].shape == (1, 2)
    assert got.values["u"] == Unsupported("matrix")


def test_the_arrays_keep_their_order():
    arrays = [np.full(2, float(i)) for i in range(4)]
    got = roundtrip(Outcome(values={f"a{i}": a for i, a in enumerate(arrays)}))
    for i, a in enumerate(arrays):
        np.testing.assert_array_equal(got.values[f"a{i}"], a)


def test_a_value_of_another_type_crosses_as_unsupported():
    got = roundtrip(Outcome(values={"s": "text", "t": (1, 2)}))
    assert got.values == {"s": Unsupported("str"), "t": Unsupported("tuple")}


def test_a_failure_reads_back_with_its_fields():
    failure = Failure(op=2, type="ValueError", message="bad", trace="line 3")
    got = roundtrip(Outcome(values={"y": np.ones(1)}, failure=failure, status="error"))
    assert got.failure == failure
    assert got.status == "error"
    np.testing.assert_array_equal(got.values["y"], np.ones(1))


def test_an_answer_is_the_document_then_the_records():
    document, records = encode_outcome(Outcome(values={"y": np.arange(2.0)}))
    assert json.loads(document) == {
        "values": {"y": {"t": "array", "index": 0}},
        "arrays": 1,
        "failure": None,
    }
    assert records == numpy_record(np.arange(2.0))


# --- reading a document: strict


def test_the_records_are_opened_only_once_the_json_is_valid():
    opened = []

    def records():
        opened.append(True)
        return io.BytesIO()

    with pytest.raises(TransportError, match="not valid JSON"):
        decode_outcome(b"{not json", records)
    assert opened == []
    decode_outcome(b'{"values": {}, "arrays": 0}', records)
    assert opened == [True]


JSON = "the result is not valid JSON: "
COUNT = "the result has a bad array count"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"{not json", JSON + "JSONDecodeError: Expecting property name"),
        (b"\xff\xfe", JSON + "UnicodeDecodeError: 'utf-8' codec"),
        (b"[" * 100_000 + b"]" * 100_000, JSON + "RecursionError"),
        (b"[]", "the result has no values$"),
        (b'{"arrays": 0}', "the result has no values$"),
        (b'{"values": [], "arrays": 0}', "the result has no values$"),
        (b'{"values": {}}', COUNT + "$"),
        (b'{"values": {}, "arrays": -1}', COUNT + "$"),
        (b'{"values": {}, "arrays": 1.0}', COUNT + "$"),
        (b'{"values": {}, "arrays": true}', COUNT + "$"),
        (b'{"values": {}, "arrays": 10001}', COUNT + "$"),
    ],
)
def test_a_document_that_breaks_the_format_is_refused(raw, reason):
    with pytest.raises(TransportError, match="^" + reason):
        decode_outcome(raw, io.BytesIO)


def test_max_nodes_arrays_may_be_declared():
    """A count of MAX_NODES passes the count check: the records are then read."""
    raw = json.dumps({"values": {}, "arrays": MAX_NODES}).encode()
    with pytest.raises(TransportError, match=whole("a result array is not in the .npy format")):
        decode_outcome(raw, io.BytesIO)


def test_the_declared_arrays_are_all_read():
    records = numpy_record(np.arange(2.0)) + numpy_record(np.arange(3.0))
    got = decode({"values": {"y": {"t": "array", "index": 1}}, "arrays": 2}, records)
    np.testing.assert_array_equal(got.values["y"], np.arange(3.0))
    with pytest.raises(TransportError, match=whole("bad array index 1")):
        decode({"values": {"y": {"t": "array", "index": 1}}, "arrays": 1}, records)


def test_any_other_exception_while_decoding_is_a_transport_error():
    def records():
        raise OSError("no records")

    with pytest.raises(TransportError) as caught:
        decode_outcome(b'{"values": {}, "arrays": 0}', records)
    assert str(caught.value) == "a malformed result (OSError: no records)"
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_a_transport_error_keeps_its_own_reason():
    with pytest.raises(TransportError) as caught:
        decode({"values": {"y": {"t": "pickle"}}, "arrays": 0})
    assert str(caught.value) == "malformed value of tag 'pickle'"


@pytest.mark.parametrize(
    ("node", "reason"),
    [
        ([1], "malformed value"),
        ({"v": 1}, "malformed value"),
        ({"t": "array", "index": 0}, "bad array index 0"),
        ({"t": "array", "index": -1}, "bad array index -1"),
        ({"t": "array", "index": True}, "bad array index True"),
        ({"t": "array", "index": "0"}, "bad array index '0'"),
        ({"t": "array"}, "bad array index None"),
        ({"t": "scalar", "v": "1"}, "malformed value of tag 'scalar'"),
        ({"t": "scalar", "v": [1]}, "malformed value of tag 'scalar'"),
        ({"t": "unsupported", "v": 3}, "malformed value of tag 'unsupported'"),
        ({"t": "dict", "v": [1]}, "malformed value of tag 'dict'"),
        ({"t": "list", "v": {"a": 1}}, "malformed value of tag 'list'"),
        ({"t": "Scalar", "v": 1}, "malformed value of tag 'Scalar'"),
    ],
)
def test_a_malformed_value_is_refused(node, reason):
    with pytest.raises(TransportError) as caught:
        decode({"values": {"y": node}, "arrays": 0})
    assert str(caught.value) == reason


def test_an_array_index_is_within_the_records():
    records = numpy_record(np.arange(2.0)) + numpy_record(np.arange(3.0))
    got = decode({"values": {"y": {"t": "array", "index": 0}}, "arrays": 2}, records)
    np.testing.assert_array_equal(got.values["y"], np.arange(2.0))
    with pytest.raises(TransportError, match=whole("bad array index 2")):
        decode({"values": {"y": {"t": "array", "index": 2}}, "arrays": 2}, records)


def test_an_unsupported_type_name_is_cut_to_80_characters():
    got = decode({"values": {"u": {"t": "unsupported", "v": "x" * 100}}, "arrays": 0})
    assert got.values["u"] == Unsupported("x" * 80)


def test_integers_lie_in_64_bits():
    """[-MAX_INT, MAX_INT): the range of a 64-bit integer, as a worker's come from arrays."""
    assert MAX_INT == 2**63
    ints = {"lo": -(2**63), "hi": 2**63 - 1, "zero": 0}
    got = decode({"values": {k: scalar(v) for k, v in ints.items()}, "arrays": 0})
    assert got.values == ints
    for v in (2**63, -(2**63) - 1):
        with pytest.raises(TransportError, match=whole("malformed value of tag 'scalar'")):
            decode({"values": {"y": scalar(v)}, "arrays": 0})


def test_scalars_are_none_bools_ints_and_floats():
    values = {"n": None, "t": True, "f": False, "x": 1.5, "i": 7}
    got = decode({"values": {k: scalar(v) for k, v in values.items()}, "arrays": 0})
    assert got.values == values
    assert type(got.values["t"]) is bool and type(got.values["x"]) is float


def nested(levels: int) -> dict:
    """A value whose innermost scalar lies ``levels`` lists deep."""
    node = scalar(1)
    for _ in range(levels):
        node = {"t": "list", "v": [node]}
    return node


def test_values_may_nest_max_depth_levels_one_more_is_refused():
    got = decode({"values": {"y": nested(MAX_DEPTH)}, "arrays": 0})
    inner = got.values["y"]
    for _ in range(MAX_DEPTH):
        (inner,) = inner
    assert inner == 1
    with pytest.raises(
        TransportError, match=whole(f"result values nest deeper than {MAX_DEPTH} levels")
    ):
        decode({"values": {"y": nested(MAX_DEPTH + 1)}, "arrays": 0})


def test_dicts_nest_as_deep_as_lists():
    node = scalar(2)
    for _ in range(MAX_DEPTH):
        node = {"t": "dict", "v": {"k": node}}
    got = decode({"values": {"y": node}, "arrays": 0}).values["y"]
    for _ in range(MAX_DEPTH):
        got = got["k"]
    assert got == 2
    with pytest.raises(
        TransportError, match=whole(f"result values nest deeper than {MAX_DEPTH} levels")
    ):
        decode({"values": {"y": {"t": "dict", "v": {"k": node}}}, "arrays": 0})


def test_a_result_may_hold_max_nodes_values_one_more_is_refused():
    def values(count: int) -> dict:
        return {"y": {"t": "list", "v": [scalar(i) for i in range(count - 1)]}}

    got = decode({"values": values(MAX_NODES), "arrays": 0})
    assert got.values["y"] == list(range(MAX_NODES - 1))
    with pytest.raises(TransportError, match=whole("result has too many values")):
        decode({"values": values(MAX_NODES + 1), "arrays": 0})


def test_the_value_budget_is_shared_by_every_top_level_value():
    half = MAX_NODES // 2
    many = {"t": "list", "v": [scalar(0)] * (half - 1)}
    assert len(decode({"values": {"a": many, "b": many}, "arrays": 0}).values) == 2
    with pytest.raises(TransportError, match=whole("result has too many values")):
        decode({"values": {"a": many, "b": many, "c": scalar(1)}, "arrays": 0})


# --- failure records: exact types only


FAILURE = {"op": 1, "type": "ValueError", "message": "bad", "trace": "tb"}


def test_a_failure_record_makes_an_error_outcome():
    got = decode({"values": {}, "arrays": 0, "failure": FAILURE})
    assert got.failure == Failure(op=1, type="ValueError", message="bad", trace="tb")
    assert got.status == "error"
    assert decode({"values": {}, "arrays": 0, "failure": None}).status == "ok"


@pytest.mark.parametrize(
    "record",
    [
        [1],
        {k: v for k, v in FAILURE.items() if k != "trace"},
        {**FAILURE, "extra": 1},
        {**FAILURE, "op": 1.0},
        {**FAILURE, "op": "1"},
        {**FAILURE, "type": 1},
        {**FAILURE, "message": None},
        {**FAILURE, "trace": ["tb"]},
    ],
)
def test_a_malformed_failure_record_is_refused(record):
    with pytest.raises(TransportError, match=whole("malformed failure record")):
        decode({"values": {}, "arrays": 0, "failure": record})


def test_an_infinite_op_is_no_op_number():
    raw = b'{"values": {}, "arrays": 0, "failure": {"op": Infinity, "type": "", '
    raw += b'"message": "", "trace": ""}}'
    with pytest.raises(TransportError, match=whole("malformed failure record")):
        decode_outcome(raw, io.BytesIO)


def test_a_failure_record_is_cut_to_its_lengths():
    record = {"op": 0, "type": "T" * 150, "message": "m" * 600, "trace": "t" * 5000}
    got = decode({"values": {}, "arrays": 0, "failure": record}).failure
    assert (got.type, got.message, got.trace) == ("T" * 100, "m" * 500, "t" * 4000)


# --- an answer's frame: its task and sizes, within the limits


def frame(task: int, json: int, records: int, mark: bytes = b"GKa1") -> bytes:
    """An answer's frame, packed by hand: the mark, then three little-endian sizes."""
    return (
        mark
        + task.to_bytes(8, "little")
        + json.to_bytes(4, "little")
        + records.to_bytes(8, "little")
    )


def test_the_frame_is_24_bytes_the_mark_the_task_and_two_sizes():
    assert FRAME.size == 24
    assert answer_frame(3, b"x" * 10, 20) == frame(3, 10, 20)


def test_the_sizes_of_an_answer_to_its_task():
    assert answer_sizes(frame(3, 10, 20), 3, 100) == (10, 20)
    assert answer_sizes(bytearray(frame(3, 0, 0)), 3, 100) == (0, 0)


@pytest.mark.parametrize(
    "head",
    [
        b"",
        frame(2, 1, 1),
        frame(1 << 32 | 1, 1, 1),
        frame(1, 1, 1, mark=b"GKa2"),
        frame(1, 1, 1, mark=b'{"do'),
        frame(1, 1, 1)[:-1],
        frame(1, 1, 1) + b"\0",
    ],
)
def test_a_frame_that_is_no_answer_to_the_task_is_none(head):
    assert answer_sizes(head, 1, 100) is None


def test_the_json_may_take_4_mib_one_byte_more_is_refused():
    assert answer_sizes(frame(7, MAX_JSON, 0), 7, 0) == (MAX_JSON, 0)
    reason = answer_sizes(frame(7, MAX_JSON + 1, 5), 7, 10)
    assert reason == f"the answer's {MAX_JSON + 6} bytes are more than allowed"


def test_the_records_may_take_the_limit_one_byte_more_is_refused():
    assert answer_sizes(frame(7, 3, 100), 7, 100) == (3, 100)
    assert answer_sizes(frame(7, 3, 100), 7, 99) == "the answer's 103 bytes are more than allowed"


def test_an_answers_body_is_split_at_its_json_size():
    document, records = encode_outcome(Outcome(values={"y": np.arange(3.0), "n": 2}))
    got = decode_answer(bytearray(document + records), len(document))
    np.testing.assert_array_equal(got.values["y"], np.arange(3.0))
    assert got.values["n"] == 2
    with pytest.raises(TransportError):
        decode_answer(bytearray(document + records), len(document) - 1)


@pytest.mark.parametrize(
    "value",
    [
        np.array(2.5),
        np.array(1.5, dtype=np.float32),
        np.zeros((0, 3)),
        np.zeros((2, 0), dtype=np.int32),
        np.arange(6.0).reshape(2, 3).T,
    ],
    ids=["0-d", "0-d float32", "empty rows", "empty columns", "transposed"],
)
def test_an_answer_keeps_every_array_s_shape_dtype_and_values(value):
    """A 0-d answer stays 0-d (a float32 scalar is sent as one), an empty one is sent."""
    document, records = encode_outcome(Outcome(values={"y": value}))
    got = decode_answer(bytearray(document + records), len(document)).values["y"]
    assert (got.shape, got.dtype) == (value.shape, value.dtype)
    assert np.array_equal(got, value)
