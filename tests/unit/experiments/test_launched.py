"""Which description a new product's lines give it (pricing.experiments.launched.export_descriptions): the most
frequent one of its lines, on hand-written lines and on any lines (hypothesis)."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from pricing.experiments.launched import export_descriptions


def lines(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["stockcode", "description"])


def test_the_most_frequent_description_wins_ties_go_to_the_first_seen():
    frame = lines(
        [
            ("90001A", "GREEN  STRAWBERRY JAR"),  # white space collapsed: the same description as the next two
            ("90001A", "GREEN STRAWBERRY JAR"),
            ("90001A", " GREEN STRAWBERRY JAR "),
            ("90001A", "GREEN JAR"),
            ("90002B", "RED MUG"),
            ("90002B", "BLUE MUG"),
            ("90003C", None),
            ("85123A", "KNOWN PRODUCT"),
        ]
    )
    assert export_descriptions(frame, ["90001A", "90002B", "90003C"]) == {
        "90001A": "GREEN STRAWBERRY JAR",
        "90002B": "RED MUG",
        "90003C": "",
    }


words = st.sampled_from(["RED", "MUG", "JAR", "GREEN", "HEART", "T-LIGHT"])
descriptions = st.lists(words, min_size=1, max_size=3).map(" ".join)


@given(st.lists(st.tuples(st.sampled_from(["A", "B", "C"]), descriptions), min_size=1, max_size=40))
def test_every_code_gets_one_of_its_most_frequent_descriptions(rows):
    got = export_descriptions(lines(rows), ["A", "B", "C", "D"])
    assert set(got) == {"A", "B", "C", "D"} and got["D"] == ""
    for code in ("A", "B", "C"):
        counts = Counter(d for c, d in rows if c == code)
        if not counts:
            assert got[code] == ""
            continue
        top = max(counts.values())
        first_top = next(d for c, d in rows if c == code and counts[d] == top)
        assert got[code] == first_top
    assert all(isinstance(v, str) for v in got.values()) and not np.any([v != v.strip() for v in got.values()])
