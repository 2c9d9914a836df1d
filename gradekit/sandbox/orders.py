"""The orders on a worker's control pipe, both sides: one JSON line each, written by the
parent and read by the worker, which trusts them (only the parent writes them).

- the first: the submission's path and the limits the worker sets on itself;
- ``CATALOG``: list the submission's components;
- a plan by its ``index`` in a file of plans (``book``), read once and kept when ``keep``
  (the class's file);
- a small plan ``inline``: its bytes (``encode_book``) follow the line.

A plan's order carries ``out``, the task number the frame of its answer repeats.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from .transport import Book, decode_book, read_book

INLINE_BYTES = 16 << 10
"""A plan of a session's own up to this size goes in its order, not in a file."""
CATALOG = b'{"catalog": true}\n'


def first(submission: str, limits: dict[str, int]) -> bytes:
    """The first order: what to import, and the limits to set before importing it."""
    return json.dumps({"submission": submission, **limits}).encode() + b"\n"


def by_index(book: str, index: int, task: int, keep: bool = False) -> bytes:
    """Run the plan at ``index`` in the file of plans ``book``."""
    order: dict[str, Any] = {"book": book, "index": index, "out": task}
    return json.dumps(order | {"keep": True} if keep else order).encode() + b"\n"


def inline(plan: bytes, task: int) -> bytes:
    """Run ``plan`` (one plan's ``encode_book``), whose bytes follow the order's line."""
    return b'{"inline": %d, "out": %d}\n' % (len(plan), task) + plan


def plan_of(
    order: dict[str, Any], control_in: BinaryIO, books: dict[str, Book]
) -> tuple[list[dict[str, Any]], dict[str, np.ndarray]]:
    """The worker's side: the ops and arrays of the plan an order names. ``books`` holds
    the files already read (the class's, read once by a template)."""
    if "inline" in order:
        plan = bytearray(order["inline"])
        control_in.readinto(plan)
        return decode_book(plan)[0]
    book = books.get(order["book"]) or read_book(Path(order["book"]))
    if order.get("keep"):  # the class's plans: read once, by a cold worker too
        books[order["book"]] = book
    return book[order["index"]]
