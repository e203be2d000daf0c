"""The launch price's neighbour search (pricing.serving.launch.SimilarityIndex) on a hand-made catalogue of known
look-alikes, against scikit-learn's TfidfVectorizer itself, and the launch request's parser."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import TfidfVectorizer

from pricing.serving.errors import RequestError
from pricing.serving.launch import (
    MIN_SIMILARITY,
    NEIGHBOURS,
    SimilarityIndex,
    char_wb_ngrams,
    level_spread,
    weighted_median,
)
from pricing.serving.request import MAX_DESCRIPTION_CHARS, parse_launch

CATALOGUE = {
    "M1": "RED RETROSPOT MUG",
    "M2": "BLUE RETROSPOT MUG",
    "M3": "PINK RETROSPOT MUG",
    "H1": "WHITE HANGING HEART T-LIGHT HOLDER",
    "H2": "RED HANGING HEART T-LIGHT HOLDER",
    "C1": "REGENCY CAKESTAND 3 TIER",
    "B1": "JUMBO BAG RED RETROSPOT",
    "L1": "WHITE METAL LANTERN",
    "K1": "KNITTED UNION FLAG HOT WATER BOTTLE",
    "P1": "PARTY BUNTING",
    "N1": None,  # a product without a description: matches nothing
}


@pytest.fixture(scope="module")
def index():
    return SimilarityIndex(list(CATALOGUE), list(CATALOGUE.values()))


def test_the_index_is_tfidf_char_wb_cosine_as_scikit_learn_computes_it(index):
    texts = [d or "" for d in CATALOGUE.values()]
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True).fit(texts)
    queries = ["GREEN RETROSPOT MUG", "hanging  heart\tcandle holder", "Rote Weihnachtskerze", "MUGS MUGS MUGS"]
    expected = (vectorizer.transform(queries) @ vectorizer.transform(texts).T).toarray()
    ours = np.vstack([index.similarities(q) for q in queries])
    np.testing.assert_allclose(ours, expected, atol=1e-9)
    # the analyzer itself, n-gram for n-gram (a word shorter than n counted once)
    analyzer = vectorizer.build_analyzer()
    for text in ("A BIG  MUG", "T-LIGHT", "x", "pâté à la crème"):
        assert char_wb_ngrams(text) == analyzer(text)


def test_a_look_alike_finds_its_look_alikes_first(index):
    mugs = index.nearest("GREEN RETROSPOT MUG")
    assert [n.stockcode for n in mugs[:3]] == ["M1", "M2", "M3"]  # the same similarity: by stockcode
    assert mugs[0].similarity >= MIN_SIMILARITY
    holders = index.nearest("PINK HANGING HEART T-LIGHT HOLDER")
    assert {n.stockcode for n in holders[:2]} == {"H1", "H2"}
    assert all(n.stockcode not in ("C1", "K1", "P1") for n in holders)


def test_a_product_left_out_is_never_its_own_neighbour(index):
    found = index.nearest("RED RETROSPOT MUG", exclude={"M1"})
    assert found and "M1" not in {n.stockcode for n in found}
    assert {n.stockcode for n in found[:2]} == {"M2", "M3"}


@pytest.mark.parametrize(
    "description",
    ["XYZZY QWERTY PLUGH", "Rote Weihnachtskerze aus Wachs", "Tasse mit roten Punkten", "zzz qqq"],
)
def test_a_description_matching_nothing_or_in_another_language_finds_none(index, description):
    assert index.nearest(description) == []
    assert index.similarities(description).max() < MIN_SIMILARITY


@settings(max_examples=60, deadline=None)
@given(text=st.text(max_size=60), k=st.integers(1, 8), minimum=st.floats(0, 1))
def test_similarities_lie_in_0_1_and_neighbours_are_sorted_and_at_most_k(index, text, k, minimum):
    scores = index.similarities(text)
    assert scores.shape == (len(CATALOGUE),) and ((scores >= 0) & (scores <= 1)).all()
    found = index.nearest(text, k=k, minimum=minimum)
    assert len(found) <= k
    similarities = [n.similarity for n in found]
    assert similarities == sorted(similarities, reverse=True)
    assert all(s >= minimum for s in similarities)
    assert index.nearest(text)[:NEIGHBOURS] == index.nearest(text)


def test_weighted_median_is_where_half_the_weight_lies():
    assert weighted_median(np.array([3.0, 1.0, 2.0]), np.array([1, 1, 1])) == 2.0
    assert weighted_median(np.array([1.0, 5.0]), np.array([0.2, 0.8])) == 5.0


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({}, "description: missing"),
        ({"description": "   "}, "description: missing"),
        ({"description": "MUG"}, "description: 'MUG' has 1 word"),
        ({"description": "X" * 5000}, "description: 5,000 characters"),
        ({"description": "RED MUG", "unit_cost": "abc"}, "unit_cost"),
        ({"description": "RED MUG", "unit_cost": "-1"}, "unit_cost: must be a positive price"),
        ({"description": "RED MUG", "reference_price": "0"}, "reference_price: must be a positive price"),
        ({"description": "RED MUG", "reference_price": "0.001"}, "reference_price: must be at least 0.01"),
    ],
)
def test_bad_launch_input_is_refused_naming_the_parameter(values, named):
    with pytest.raises(RequestError, match=named):
        parse_launch(values)


def test_a_good_launch_request_is_normalised():
    request = parse_launch({"description": "  RED   RETROSPOT\tMUG ", "unit_cost": "1.20", "country": " France "})
    assert request.description == "RED RETROSPOT MUG" and request.unit_cost == 1.2
    assert request.reference_price is None and request.country == "France"
    assert len(parse_launch({"description": "A " * (MAX_DESCRIPTION_CHARS // 2)}).description) < MAX_DESCRIPTION_CHARS


def test_the_level_spread_is_the_weighted_sd_of_what_sets_the_level():
    current, costs = np.array([2.0, 3.0, 8.0]), np.array([1.0, 1.0, 2.0])
    weights = np.array([0.5, 0.3, 0.2])
    x = np.log(current / costs)
    mean = weights @ x
    expected = np.sqrt(weights @ (x - mean) ** 2 * 3 / 2)  # the small-sample correction K / (K - 1)
    assert level_spread(None, "neighbours_markup", current, costs, weights) == pytest.approx(expected, rel=1e-12)
    median_expected = np.sqrt(weights @ (np.log(current) - weights @ np.log(current)) ** 2 * 1.5)
    assert level_spread(None, "neighbours_median", current, None, weights) == pytest.approx(median_expected)
    assert level_spread(None, "query", current, costs, weights) == 0.0  # the shop set the level
    # equal markups: nothing to spread, whatever the prices
    assert level_spread(None, "neighbours_markup", current, current / 2.5, weights) == pytest.approx(0, abs=1e-12)
