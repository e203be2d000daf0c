"""A launch price for a product the bundle has never seen, from the products with the most similar descriptions
(issue 26): `launch_decision(predictor, request)`.

1. Neighbours (`SimilarityIndex`): TF-IDF over character n-grams within word boundaries (scikit-learn's
   `TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)`, smooth idf, l2 rows) fitted on the
   bundle's product descriptions, cosine similarity. Serving carries no scikit-learn (requirements.txt: the image
   is kept to what serving imports, tests/integration/test_serving_imports.py), so the same arithmetic is written
   out here on plain Python and NumPy; tests/unit/serving/test_launch.py checks it against TfidfVectorizer itself
   (the same similarities to 1e-9). Character n-grams match a colour or a plural across descriptions
   ("MUGS" and "MUG"), which word tokens do not. The K (NEIGHBOURS) most similar at MIN_SIMILARITY or more count.
2. The launch curve: the similarity-weighted mean of the neighbours' curve shapes (`Predictor.curve`, each one's
   units over its units at its current price) times their weighted mean level, neighbour k read at the price
   s_k x p for the new product's price p. The scale s_k carries each neighbour's demand to the new
   product's price level, the first of these the request allows:
   - `query`: the request's reference price P: s_k = c_k / P (c_k the neighbour's current price), the same price
     relative to the reference as the neighbour's to its current price;
   - `neighbours_markup`: a unit cost C and every neighbour's unit cost C_k in the bundle (`pricing publish
     --costs`): s_k = C_k / C, the neighbour's demand at the same markup over cost (cost-plus from similar
     products); the reference is C x the neighbours' similarity-weighted median markup c_k / C_k;
   - `neighbours_median`: the neighbours' similarity-weighted median current price as P, s_k = c_k / P.
   Units are per week (per order line for a bundle without an incidence model). On the generator, whose
   descriptions say nothing of a product's price level, the markup is what carries the level (docs/PRICING_QUALITY.md).
3. The decision: the objective (profit with a unit cost, else revenue, per week) over whole-penny candidates
   (pricing.serving.decision.candidate_prices) of a geometric grid 1% apart (LAUNCH_STEP) from LAUNCH_BAND[0] x
   the lowest to LAUNCH_BAND[1] x the highest of the reference and the neighbours' current prices on the new
   product's scale (c_k / s_k), widened by the level's 90% range (below); the launch price its best. The interval
   comes from DRAWS draws, each of which
   - resamples the neighbours (a Bayesian bootstrap: Dirichlet(1) weights times similarity, Rubin 1981): how far
     they disagree;
   - moves the mix by one draw of the new product's price slopes (decision.draw_curves): each neighbour's
     posterior sd (Predictor.slope_terms) plus a product's spread around the pooled slope (the prior,
     decision.PRIOR_SD_FLOOR), one standard normal per draw for every neighbour: how little their slopes are
     known and how far a new product's may differ;
   - moves the new product's price level against the mix's by e ~ N(0, sd) (`level_spread`: the weighted sd of
     the neighbours' log markups, or log prices; 0 when the shop gave the reference): the bootstrap carries the
     uncertainty of the neighbours' mean level, this the new product's own distance from it (a predictive,
     not a confidence, interval). On the generator, whose descriptions carry no price level, the interval covered
     the true optimum for 95% of 20 held-out products without costs only with this term (40% without it).
   So the interval is wider than a known product's. The verdict is always `test`: a launch price from other
   products' demand is a starting point, with TEST_ARMS arms around it (decision.price_test_arms).
4. No description similar enough: `decision: "no_similar_product"`, with the closest product and its similarity,
   never a price borrowed from unrelated products.
"""

from __future__ import annotations

import math
import re
import threading
import weakref
import zlib
from collections import Counter, defaultdict
from dataclasses import dataclass

import numpy as np

from pricing.serving import decision as D
from pricing.serving.money import from_minor, to_minor
from pricing.serving.request import LaunchRequest, PriceRequest

NGRAM_RANGE = (3, 5)  # characters, within word boundaries (TfidfVectorizer's char_wb analyzer)
NEIGHBOURS = 5  # K: the most similar products a launch borrows from
# A neighbour counts from this cosine similarity on, read off real look-alikes (docs/PRICING_QUALITY.md, "Launch
# prices for new products"): a variant of the same product scores 0.44-0.82 ("WHITE HANGING HEART CANDLE" /
# "WHITE HANGING HEART T-LIGHT HOLDER" 0.56 on tests/fixtures/online_retail_sample.csv, "PINK HEART OF WICKER JUG" /
# "PINK HEART OF WICKER MUG" 0.82 on the quick bundle's generated catalogue); gibberish, German, French and Italian
# descriptions score at most 0.27 there ("XYZZY QWERTY" / "CREAM DAISY PARTY BAG": "rty" n-grams), one shared
# product word 0.28-0.35. Not a tuned figure: the cut between those two groups.
MIN_SIMILARITY = 0.35
LAUNCH_BAND = (0.6, 1.5)  # the prices swept: 0.6 x the lowest to 1.5 x the highest of the reference and c_k / s_k
LAUNCH_STEP = 0.01  # the swept prices are 1% apart (a geometric grid, whole pence)
LAUNCH_MAX_BINS = 301  # at most: a range of e^3 (20x) at 1% steps; a wider one gets coarser steps
LEVEL_WIDEN = 1.645  # the swept range is widened by e^(1.645 sd) each side: the level's 90% range
NO_SIMILAR = "no_similar_product"
LEVEL_CLIP = 2.5  # each draw's level shift is clipped to +-2.5 sd, so a wide spread cannot sweep an unbounded range
LEVEL_GRID = 121  # prices on the widened curve the level draws are interpolated from (log-spaced)

_WHITE_SPACES = re.compile(r"\s\s+")


def char_wb_ngrams(text: str, ngram_range: tuple[int, int] = NGRAM_RANGE) -> list[str]:
    """The character n-grams of `text` lowercased, each word padded with one space either side, n-grams not
    crossing words; a word shorter than n gives itself once (scikit-learn's `_char_wb_ngrams`, the same order)."""
    low, high = ngram_range
    grams: list[str] = []
    for word in _WHITE_SPACES.sub(" ", text.lower()).split():
        word = f" {word} "
        for n in range(low, high + 1):
            offset = 0
            grams.append(word[offset : offset + n])
            while offset + n < len(word):
                offset += 1
                grams.append(word[offset : offset + n])
            if offset == 0:  # the word was shorter than n: counted once
                break
    return grams


@dataclass(frozen=True)
class Neighbour:
    """A product of the catalogue similar to a new one: its cosine similarity in [0, 1]."""

    stockcode: str
    description: str
    similarity: float


class SimilarityIndex:
    """TF-IDF (sublinear tf, smooth idf, l2-normalised rows) over char_wb n-grams of a catalogue's descriptions,
    searched by cosine similarity; the arithmetic of scikit-learn's TfidfVectorizer (module docstring, step 1).

    `codes`, `descriptions`: (N,) each; a missing description (None, NaN) is empty and matches nothing. Held as
    an inverted index (n-gram -> the rows carrying it and their weights), so a query costs its own n-grams."""

    def __init__(self, codes, descriptions) -> None:
        self.codes = [str(c) for c in codes]
        self.descriptions = [d if isinstance(d, str) else "" for d in descriptions]
        counts = [Counter(char_wb_ngrams(d)) for d in self.descriptions]
        frequency = Counter(gram for doc in counts for gram in doc)
        n = len(counts)
        self.idf = {gram: math.log((1 + n) / (1 + df)) + 1.0 for gram, df in frequency.items()}
        rows: dict[str, list[int]] = defaultdict(list)
        weights: dict[str, list[float]] = defaultdict(list)
        for row, doc in enumerate(counts):
            vector = self._weights(doc)
            for gram, weight in vector.items():
                rows[gram].append(row)
                weights[gram].append(weight)
        self._postings = {g: (np.array(rows[g], dtype=np.int64), np.array(weights[g])) for g in rows}

    def _weights(self, counts: Counter) -> dict[str, float]:
        """(1 + ln tf) x idf over the n-grams the catalogue knows, l2-normalised ({} when none is known)."""
        raw = {g: (1.0 + math.log(c)) * self.idf[g] for g, c in counts.items() if g in self.idf}
        norm = math.sqrt(sum(v * v for v in raw.values()))
        return {g: v / norm for g, v in raw.items()} if norm > 0 else {}

    def similarities(self, text: str) -> np.ndarray:
        """The cosine similarity of `text` to every description, (N,) in [0, 1] (0 for no shared n-gram)."""
        scores = np.zeros(len(self.codes))
        for gram, weight in self._weights(Counter(char_wb_ngrams(text))).items():
            rows, values = self._postings[gram]
            scores[rows] += weight * values
        return np.clip(scores, 0.0, 1.0)  # l2-normalised non-negative vectors: only rounding leaves [0, 1]

    def nearest(self, text: str, k: int = NEIGHBOURS, minimum: float = MIN_SIMILARITY, exclude=()) -> list[Neighbour]:
        """The (at most) `k` most similar descriptions to `text` with similarity at least `minimum`, most similar
        first (ties: by stockcode); `exclude`: stockcodes left out (a product priced as if it were new)."""
        scores = self.similarities(text)
        left_out = set(exclude)
        order = sorted(
            (i for i in np.flatnonzero(scores >= minimum) if self.codes[i] not in left_out),
            key=lambda i: (-scores[i], self.codes[i]),
        )
        return [Neighbour(self.codes[i], self.descriptions[i], float(scores[i])) for i in order[:k]]


_indexes: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_indexes_lock = threading.Lock()


def catalogue_index(predictor) -> SimilarityIndex:
    """The similarity index of the predictor's bundle (its `products`' descriptions), fitted on first use and kept
    as long as the predictor: once per loaded bundle, never at start-up (a cold start prices known products)."""
    with _indexes_lock:
        index = _indexes.get(predictor)
        if index is None:
            products = predictor.products
            index = _indexes[predictor] = SimilarityIndex(products.index, products["description"].tolist())
        return index


def level_spread(predictor, source: str, current: np.ndarray, costs: np.ndarray | None, weights: np.ndarray) -> float:
    """How far a new product's price level may lie from its neighbours' mix: the sd of the log of what sets the
    level, the neighbours' markups (`neighbours_markup`) or current prices (`neighbours_median`), similarity-weighted
    with the small-sample correction K / (K - 1); 0 for a `query` reference (the shop set the level). With one
    neighbour, no spread can be read from it: the catalogue's (`catalogue_spread`)."""
    if source == "query":
        return 0.0
    x = np.log(current / costs) if source == "neighbours_markup" else np.log(current)
    if len(x) < 2:
        return catalogue_spread(predictor, source)
    mean = weights @ x
    return float(np.sqrt(weights @ (x - mean) ** 2 * len(x) / (len(x) - 1)))


def catalogue_spread(predictor, source: str) -> float:
    """The sd over the bundle's products of log median price (`neighbours_median`) or of log(median price / unit
    cost) over those with a cost (`neighbours_markup`): a new product's level with nothing closer to go by."""
    prices = predictor.products["price_median"].astype(float)
    if source == "neighbours_markup" and predictor.costs is not None:
        costs = predictor.costs["unit_cost"].reindex(prices.index).astype(float)
        known = costs > 0
        return float(np.std(np.log(prices[known] / costs[known]), ddof=1))
    return float(np.std(np.log(prices[prices > 0]), ddof=1))


def _shifted(predictor, rec, code, own, shift, samples, country, units) -> np.ndarray:
    """(S, M) neighbour `code`'s units at its prices `own` (M,) moved by each draw's level shift (S,): e^-shift x own,
    interpolated in log-log from its curve over the range widened by the largest shift (`rec`'s curve, with
    `units` at `own`, when there is no shift)."""
    widest = float(np.abs(shift).max()) if len(shift) else 0.0
    if widest == 0.0:
        return np.broadcast_to(units, (len(shift), len(own)))
    wide = np.exp(np.linspace(np.log(own[0]) - widest, np.log(own[-1]) + widest, LEVEL_GRID))
    curve = predictor.curve(PriceRequest(code, float(wide[0]), float(wide[-1]), 2, samples, country=country), wide)
    result = curve.result
    log_units = np.log(np.maximum(np.asarray(result.units_per_week if result.weekly else result.quantity), 1e-12))
    return np.exp(np.interp(np.log(own)[None, :] - shift[:, None], np.log(wide), log_units))


def _neighbour_costs(predictor, codes: list[str]) -> np.ndarray | None:
    """(K,) the neighbours' unit costs from the bundle's cost file (`pricing publish --costs`), or None unless every
    neighbour has a positive one (a markup from some neighbours and a price level from others would mix scales)."""
    table = getattr(predictor, "costs", None)
    if table is None or not all(code in table.index for code in codes):
        return None
    costs = table.loc[codes, "unit_cost"].to_numpy(dtype=float)
    return costs if (costs > 0).all() else None


def weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    """The lowest value at which the cumulative weight (values sorted) reaches half the total."""
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(np.asarray(weights, dtype=float)[order])
    return float(np.asarray(values)[order][np.searchsorted(cumulative, cumulative[-1] / 2)])


@dataclass(frozen=True)
class LaunchDecision:
    """A launch decision over candidate prices (K,) in whole pence: the mix's units (per week, or per order line
    for a bundle without an incidence model), the objective's values, the launch price's index, the reference and
    its source, the neighbours with their current prices and weights, the interval and the test's arms."""

    request: LaunchRequest
    neighbours: list[Neighbour]
    current_prices: np.ndarray  # (N,) each neighbour's current price
    neighbour_costs: np.ndarray | None  # (N,) each neighbour's unit cost in the bundle's cost file, None without one
    scale: np.ndarray  # (N,) each neighbour's price for a new-product price of 1 (module docstring, step 2)
    neighbour_units: np.ndarray  # (N, K) each neighbour's units at `prices` x its scale (per week, or per line)
    weights: np.ndarray  # (N,) similarity weights, summing to 1
    reference: float
    level_sd: float  # the sd of the new product's log price level against the mix's (`level_spread`)
    reference_source: str  # "query", "neighbours_markup" or "neighbours_median"
    prices: np.ndarray
    units: np.ndarray
    values: np.ndarray
    objective: str
    weekly: bool
    chosen: int
    reference_index: int
    confidence: D.Confidence
    arms: list[int]
    model: str
    incidence_model: str | None

    @property
    def launch_price(self) -> float:
        return float(self.prices[self.chosen])


def launch_decision(predictor, request: LaunchRequest, index: SimilarityIndex | None = None, exclude=(), samples=None):
    """The launch decision for `request` (module docstring), or None when no product is similar enough.

    `predictor`: serving's Predictor (products, current_price, curve, slope_terms); `index`: the catalogue searched
    (default: the bundle's, `catalogue_index`); `exclude`: stockcodes never taken as neighbours; `samples`:
    held-out contexts per neighbour curve (default 1000). Raises NoContexts (no held-out context for `country`)
    and NoUsableModel from the predictor."""
    index = index or catalogue_index(predictor)
    neighbours = index.nearest(request.description, exclude=exclude)
    if not neighbours:
        return None
    codes = [n.stockcode for n in neighbours]
    similarity = np.array([n.similarity for n in neighbours])
    weights = similarity / similarity.sum()
    current = np.array([predictor.current_price(code)[0] for code in codes])
    costs = _neighbour_costs(predictor, codes)
    if request.reference_price is not None:
        reference, source = request.reference_price, "query"
    elif request.unit_cost is not None and costs is not None:
        reference, source = request.unit_cost * weighted_median(current / costs, weights), "neighbours_markup"
    else:
        reference, source = weighted_median(current, weights), "neighbours_median"
    reference = float(from_minor(to_minor(max(reference, 0.01))))
    # scale[k]: neighbour k's price for the new product's price 1. At the same markup over cost when the scale is the
    # neighbours' markup (each neighbour's demand where its own markup is the new product's), else at the same
    # price relative to the reference and to the neighbour's current price
    scale = costs / request.unit_cost if source == "neighbours_markup" else current / reference
    borrowed = current / scale  # (K,) each neighbour's current price on the new product's scale
    seed = zlib.crc32(f"{request.description}|{request.country}|{reference}".encode())
    spread = level_spread(predictor, source, current, costs, weights)
    # the new product's price level against the mix's, one draw per interval draw (its own stream): at shift e it
    # sells at p what the mix sells at p e^-e
    shift = np.random.default_rng(seed + 1).normal(0.0, spread, D.DRAWS)
    shift = np.clip(shift, -LEVEL_CLIP * spread, LEVEL_CLIP * spread)
    # the prices swept: the band around the reference and the borrowed prices, widened by the level's 90% range
    widen = math.exp(LEVEL_WIDEN * spread)
    low = max(LAUNCH_BAND[0] * min(reference, borrowed.min()) / widen, 0.01)
    high = LAUNCH_BAND[1] * max(reference, borrowed.max()) * widen
    bins = min(math.ceil(math.log(high / low) / math.log1p(LAUNCH_STEP)) + 1, LAUNCH_MAX_BINS)
    grid = np.unique(from_minor(to_minor(np.geomspace(low, high, bins))).astype(float))
    context = D.Context(reference, request.unit_cost, float(grid[0]), float(grid[-1]))
    prices = from_minor(D.candidate_prices(grid, D.Rules(), context)).astype(float)
    samples = samples or 1000
    curves, draws, levels, weekly, model, incidence = [], [], [], True, None, None
    for k, code in enumerate(codes):
        own = prices * scale[k]
        rec = predictor.curve(
            PriceRequest(code, float(own[0]), float(own[-1]), 2, samples, country=request.country), own
        )
        result = rec.result
        weekly = weekly and result.weekly
        units = np.asarray(result.units_per_week if result.weekly else result.quantity, dtype=float)
        curves.append(units)
        # the new product's slope is its neighbour's (known to its posterior sd) plus its own deviation from it, a
        # product's spread around the pooled slope (the prior, PRIOR_SD_FLOOR): the variances add. A bundle
        # without the evidence gets the prior on log price alone.
        terms = predictor.slope_terms(code, own, float(current[k]), result.weekly) or [(0.0, np.log(own / current[k]))]
        terms = [(math.hypot(sd, D.PRIOR_SD_FLOOR), x) for sd, x in terms]
        # one seed for every neighbour: the new product has one slope, so each draw moves every neighbour's curve
        # by the same standard normal (independent draws would average its uncertainty away over K neighbours)
        tilt = D.draw_curves(np.ones(len(own)), terms, seed)
        draws.append(tilt * _shifted(predictor, rec, code, own, shift, samples, request.country, units))
        levels.append(float(np.exp(np.interp(np.log(current[k]), np.log(own), np.log(np.maximum(units, 1e-12))))))
        model, incidence = model or rec.model, incidence or rec.incidence_model
    # each neighbour lends its shape (units relative to its units at its current price) and the mix takes the
    # neighbours' mean level: a best seller among them would otherwise set the launch curve's shape alone
    levels = np.array(levels)
    level = float(weights @ levels)
    units = level * (weights @ (np.vstack(curves) / levels[:, None]))
    kind = "profit" if request.unit_cost is not None else "revenue"
    values = D.objective_values(prices, units, request.unit_cost, kind)
    admitted = np.ones(len(prices), dtype=bool)
    chosen = D.best_index(values, admitted)
    reference_index = int(np.flatnonzero(to_minor(prices) == to_minor(reference))[0])
    # the Bayesian bootstrap over the neighbours: each draw reweights them (Dirichlet(1) x similarity) and takes
    # each one's slope draw, so the interval holds the neighbours' disagreement and their own uncertainty
    rng = np.random.default_rng(seed)
    resampled = rng.dirichlet(np.ones(len(codes)), size=D.DRAWS) * similarity
    resampled /= resampled.sum(axis=1, keepdims=True)
    mixed = level * np.einsum("sk,skm->sm", resampled, np.stack(draws, axis=1) / levels[None, :, None])
    draw_values = D.objective_values(prices, mixed, request.unit_cost, kind)
    confidence = D.confidence(prices, draw_values, admitted, chosen, reference_index)
    arms = D.price_test_arms(prices, admitted, chosen, chosen)
    return LaunchDecision(
        request,
        neighbours,
        current,
        costs,
        scale,
        np.vstack(curves),
        weights,
        reference,
        spread,
        source,
        prices,
        units,
        values,
        kind,
        weekly,
        chosen,
        reference_index,
        confidence,
        arms,
        model,
        incidence,
    )


def no_similar_json(request: LaunchRequest, index: SimilarityIndex) -> dict:
    """The answer when no description reaches MIN_SIMILARITY: says so, with the closest product and its score."""
    scores = index.similarities(request.description)
    closest = None
    if len(scores):
        best = int(np.argmax(scores))
        closest = {
            "stockcode": index.codes[best],
            "description": index.descriptions[best],
            "similarity": round(float(scores[best]), 4),
        }
    near = f" (the closest, {closest['description']!r}, scores {closest['similarity']:.2f})" if closest else ""
    return {
        "description": request.description,
        "decision": NO_SIMILAR,
        "decision_reason": f"no product of the bundle has a description similar to this one{near}: at least "
        f"{MIN_SIMILARITY:g} is needed to borrow a product's demand, and no launch price is guessed without it",
        "min_similarity": MIN_SIMILARITY,
        "closest": closest,
        "neighbours": [],
        "recommended": None,
        "interval": None,
        "test": None,
    }


def to_json(decision: LaunchDecision) -> dict:
    """The API's answer for a launch decision (README, /v1/launch-decision)."""
    request, prices = decision.request, decision.prices
    per = "week" if decision.weekly else "line"

    def figures(i: int) -> dict:
        units = float(decision.units[i])
        p = float(prices[i])
        out = {"price": round(p, 4), "units": round(units, 4), "sales": round(p * units, 4)}
        if request.unit_cost is not None:
            out["profit"] = round((p - request.unit_cost) * units, 4)
        return out

    chosen, conf = decision.chosen, decision.confidence
    arms = decision.arms
    weekly_cost = float(decision.values[chosen] - np.mean(decision.values[arms]))
    n = len(decision.neighbours)
    similarities = [nb.similarity for nb in decision.neighbours]
    return {
        "description": request.description,
        "per": per,
        "objective": decision.objective,
        "unit_cost": request.unit_cost,
        "reference": {"price": decision.reference, "source": decision.reference_source},
        "recommended": {
            **figures(chosen),
            "relative_to_reference": round(decision.launch_price / decision.reference, 4),
        },
        "at_reference": figures(decision.reference_index),
        "interval": {
            "level": D.INTERVAL_LEVEL,
            "price": list(conf.price_interval),
            decision.objective: list(conf.objective_interval),
            "draws": conf.draws,
            "method": "a Bayesian bootstrap over the neighbours (Dirichlet(1) weights x similarity), a draw of the "
            "new product's price slopes (each neighbour's posterior sd and a product's spread around the pooled slope, "
            f"{D.PRIOR_SD_FLOOR:g}) and a draw of its price level against theirs (sd {decision.level_sd:.3f} in log "
            "price); each draw's best price",
            "level_sd": round(decision.level_sd, 4),
        },
        "probability_beats_reference": conf.probability_beats_current,
        "decision": "test",
        "decision_reason": f"a new product: its demand is borrowed from {n} similar product(s) (similarity "
        f"{min(similarities):.2f} to {max(similarities):.2f}); launch at {decision.launch_price:.2f} and test the "
        "arms around it before settling on a price",
        "test": {
            "arms": [float(from_minor(to_minor(prices[i]))) for i in arms],
            "weeks_per_arm": D.TEST_WEEKS_PER_ARM,
            "weeks": D.TEST_WEEKS_PER_ARM * len(arms),
            "expected_weekly_cost": round(weekly_cost, 4),
            "expected_cost": round(weekly_cost * D.TEST_WEEKS_PER_ARM * len(arms), 4),
        },
        "min_similarity": MIN_SIMILARITY,
        "neighbours": [
            {
                "stockcode": nb.stockcode,
                "description": nb.description,
                "similarity": round(nb.similarity, 4),
                "current_price": round(float(decision.current_prices[k]), 4),
                "unit_cost": None if decision.neighbour_costs is None else round(float(decision.neighbour_costs[k]), 4),
                "price_scale": round(float(decision.scale[k]), 6),
                "weight": round(float(decision.weights[k]), 4),
                "units": [round(float(u), 4) for u in decision.neighbour_units[k]],
            }
            for k, nb in enumerate(decision.neighbours)
        ],
        "model": decision.model,
        "incidence_model": decision.incidence_model,
        "curve": [
            {**figures(i), "relative_price": round(float(prices[i] / decision.reference), 4)}
            for i in range(len(prices))
        ],
    }
