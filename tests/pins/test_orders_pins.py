"""The orders on a worker's control pipe (``sandbox.orders``), both sides, in-process: each
order's exact line, and the plan the worker takes from it (inline bytes read after the
line and nothing more, a file of plans read once when kept, the plan at its index)."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

from gradekit.sandbox import orders
from gradekit.sandbox.transport import encode_book, write_book


def plans(count: int = 2) -> list:
    return [
        ([{"op": "make", "obj": f"c{i}"}], {"a0": np.full((2, 3), float(i))}) for i in range(count)
    ]


def test_the_first_order_names_the_submission_then_the_limits():
    line = orders.first("/sub/alice.py", {"memory_mb": 512, "processes": 8})
    assert line == b'{"submission": "/sub/alice.py", "memory_mb": 512, "processes": 8}\n'


def test_the_catalog_order():
    assert json.loads(orders.CATALOG) == {"catalog": True} and orders.CATALOG.endswith(b"}\n")


def test_an_order_by_index_keeps_the_file_only_when_told():
    assert (
        orders.by_index("/c/plans.bin", 3, 7) == b'{"book": "/c/plans.bin", "index": 3, "out": 7}\n'
    )
    kept = orders.by_index("/c/plans.bin", 3, 7, keep=True)
    assert json.loads(kept) == {"book": "/c/plans.bin", "index": 3, "out": 7, "keep": True}
    assert kept.endswith(b"}\n") and kept.count(b"\n") == 1


def test_an_inline_order_is_its_line_then_the_plans_bytes():
    data = encode_book(plans(1))
    order = orders.inline(data, 5)
    line, rest = order.split(b"\n", 1)
    assert json.loads(line) == {"inline": len(data), "out": 5}
    assert line == b'{"inline": %d, "out": 5}' % len(data) and rest == data
    assert orders.INLINE_BYTES == 16 << 10


def test_the_worker_reads_an_inline_plan_and_nothing_after_it():
    data = encode_book(plans(1))
    pipe = io.BufferedReader(io.BytesIO(data + b"next order\n"))
    ops, arrays = orders.plan_of({"inline": len(data), "out": 1}, pipe, {})
    assert ops == [{"op": "make", "obj": "c0"}]
    np.testing.assert_array_equal(arrays["a0"], np.zeros((2, 3)))
    assert pipe.read() == b"next order\n"


@pytest.mark.parametrize("keep", [True, False])
def test_the_worker_reads_the_plan_at_its_index_and_keeps_the_file_when_told(tmp_path, keep):
    path = tmp_path / "plans.bin"
    write_book(path, plans(3))
    books: dict = {}
    order = {"book": str(path), "index": 2, "out": 1} | ({"keep": True} if keep else {})
    ops, arrays = orders.plan_of(order, io.BufferedReader(io.BytesIO(b"")), books)
    assert ops == [{"op": "make", "obj": "c2"}]
    np.testing.assert_array_equal(arrays["a0"], np.full((2, 3), 2.0))
    assert list(books) == ([str(path)] if keep else [])
    if keep:  # read once: the file is not read again
        path.unlink()
        again, _ = orders.plan_of({**order, "index": 0}, io.BufferedReader(io.BytesIO(b"")), books)
        assert again == [{"op": "make", "obj": "c0"}]


def test_a_file_already_read_is_used_without_being_read_again(tmp_path):
    books = {str(tmp_path / "gone.bin"): plans(2)}
    ops, _ = orders.plan_of({"book": str(tmp_path / "gone.bin"), "index": 1, "out": 1}, None, books)
    assert ops == [{"op": "make", "obj": "c1"}]
