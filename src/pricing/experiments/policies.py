"""Pricing policies behind one interface, and the guardrails every one of them runs under.

A policy proposes, each week, a slope per product to price by (`Policy.slopes`): `status-quo` none (today's
price), `greedy` the posterior mean (certainty-equivalent pricing, which can stop learning at a wrong price: den
Boer & Zwart 2014, Management Science 60:770), `thompson` a draw from the posterior (Thompson sampling for
pricing: Ferreira, Simchi-Levi & Wang 2018, Operations Research 66:1586), `budget-m` Thompson draws with at most m
price changes per product over the horizon, spaced at least horizon / (m + 1) weeks apart, the last one to the
posterior mean's optimum (a limited-switch schedule in the spirit of Cheung, Simchi-Levi & Wang 2017, Operations
Research 65:1722), and `change-now` the prior's slope every week, whatever the weeks show: the passive model's
recommendation taken at once and kept, which is what a `change` decision does (the baseline a test must beat).
The product's profit per week under slope b is, up to its level, (p - c) (p / p0) ** -b
(pricing.experiments.learning), and the proposed price is its best candidate the guardrails allow this week.

`Guardrails.decide` then applies, in this order, with the reason that set each price (REASONS):

1. the holdout: a share of products chosen once at random never moves (`choose_holdout`);
2. the stop-loss: a product whose posterior probability of losing more than `stop_loss_share` of its
   status-quo profit at its price in force exceeds `stop_loss_probability`, or whose estimated loss so far
   (the posterior mean's, summed over its weeks away from the status quo) passes `loss_budget` weeks of its
   status-quo profit, returns to its status-quo price (step by step within the weekly step) and stays there;
3. the candidates: whole pence (pricing.serving.money) that the decision rules admit (floor, ceiling, price
   ending, min margin: pricing.serving.decision's rule functions) within the band around the starting price
   (`band`, as decision's max_change around it) and, this week, within the largest step (`step`, max_change
   around the price in force); the starting price itself is always allowed (it is what the shop charges);
4. the minimum weeks at a price before the next change (`min_weeks`) and the change budget.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.special import ndtr

from pricing.experiments.learning import Posterior
from pricing.serving import decision as D
from pricing.serving.decision import Context, Rules, candidate_prices, rule_bounds, rule_masks
from pricing.serving.money import from_minor, to_minor
from pricing.serving.sweep import price_grid

REASONS = (
    "status quo",  # the status-quo policy, and every product in the pre-period
    "holdout",
    "policy",  # the policy's price (a change or a hold where its optimum is the price in force)
    "policy, step cap binding",  # the policy's optimum lies beyond this week's largest step
    "min weeks at a price",
    "change budget spent",
    "stop-loss: probability",
    "stop-loss: loss budget",
    "stopped",  # back at (or stepping back to) the status quo after a stop-loss
    "decision: hold",  # test-decision: the decision said hold (the status quo, kept)
    "decision: change",  # test-decision: the decision said change (its recommended price, within the step, kept)
    "test arm",  # test-decision: at an arm of the decision's price test
    "test arm, step cap binding",  # on the way to the next arm, which lies beyond this week's largest step
    "after test",  # test-decision: the test is over, the posterior mean's optimum (monetising)
    "loss cap",  # the worst-week guardrail excluded the policy's price (or the price in force): the best it admits
)
REASON = {name: code for code, name in enumerate(REASONS)}
POLICIES = ("status-quo", "greedy", "thompson", "budget-1", "budget-2", "budget-4", "change-now", "test-decision")
GRID = 161  # prices swept across the band per product (plus each rule's boundaries and the price endings)


@dataclass(frozen=True)
class Guardrails:
    """The guardrails every policy runs under (module docstring). Fractions of a price or of a profit; `rules`:
    the decision rules (floor, ceiling, price ending, min margin; its max_change is ignored: `band` and `step`
    are the experiment's). ValueError for a fraction outside (0, 1) or fewer than 1 week."""

    rules: Rules = field(default_factory=Rules)
    band: float = 0.2
    step: float = 0.08
    min_weeks: int = 2
    stop_loss_share: float = 0.1
    stop_loss_probability: float = 0.9
    loss_budget: float = 1.0  # weeks of the status-quo profit
    holdout_share: float = 0.1
    # the worst-week guardrail (None: off): a price is admitted only where the posterior probability that its week
    # loses more than `loss_cap` of the status-quo profit is at most `loss_cap_probability` (`loss_cap_mask`)
    loss_cap: float | None = None
    loss_cap_probability: float = 0.1

    def __post_init__(self) -> None:
        for name in ("band", "step", "stop_loss_share", "stop_loss_probability", "loss_cap_probability"):
            value = getattr(self, name)
            if not 0 < value < 1:
                raise ValueError(f"{name} must be within (0, 1), got {value}")
        if self.loss_cap is not None and not 0 < self.loss_cap < 1:
            raise ValueError(f"loss_cap must be within (0, 1), got {self.loss_cap}")
        if not 0 <= self.holdout_share < 1:
            raise ValueError(f"holdout_share must be within [0, 1), got {self.holdout_share}")
        if self.min_weeks < 1 or self.loss_budget <= 0:
            raise ValueError(
                f"min_weeks must be at least 1 and loss_budget positive, got {self.min_weeks}, {self.loss_budget}"
            )

    def static_rules(self) -> Rules:
        """The decision rules with the band as max_change around the starting price."""
        r = self.rules
        return Rules(r.floor, r.ceiling, self.band, r.price_ending, r.min_margin)


@dataclass(frozen=True)
class Candidates:
    """Each product's candidate prices in whole pence (N, K) and which the static rules admit (N, K); `start`
    (N,): the column of the starting price. Padding columns repeat a product's last price and are never admitted.
    `support` (N, 2): the lowest and highest list price each product sold at (currency; the `test-decision`
    policy's support rule), None: only the starting price."""

    minor: np.ndarray
    admitted: np.ndarray
    start: np.ndarray
    support: np.ndarray | None = None

    @property
    def prices(self) -> np.ndarray:
        return from_minor(self.minor)


def candidates(
    start_price: np.ndarray, unit_cost: np.ndarray, guardrails: Guardrails, support: np.ndarray | None = None
) -> Candidates:
    """The candidate prices of N products (module docstring, step 3) from their starting prices and unit costs
    (currency, (N,)): per product, decision.candidate_prices over GRID prices across the band, masked by
    decision.rule_masks. `support` (N, 2): the prices each sold at (Candidates.support). ValueError (the
    decision's RequestError) where the rules admit no price but the start, or for a support not (N, 2)."""
    if support is not None:
        support = np.asarray(support, dtype=float)
        if support.shape != (len(start_price), 2) or np.any(support[:, 0] > support[:, 1]):
            raise ValueError(f"support must be (products={len(start_price)}, 2) with low <= high, got {support.shape}")
    rules = guardrails.static_rules()
    rows, masks, starts = [], [], []
    for p0, cost in zip(start_price, unit_cost, strict=True):
        context = Context(float(from_minor(to_minor(p0))), float(cost), float(p0), float(p0))
        grid = price_grid(p0 * (1 - guardrails.band), p0 * (1 + guardrails.band), GRID)
        minor = candidate_prices(grid, rules, context)
        mask = np.logical_and.reduce([np.ones(len(minor), bool), *rule_masks(minor, rules, context, False).values()])
        mask |= minor == context.current_minor  # the status quo is always allowed
        rows.append(minor)
        masks.append(mask)
        starts.append(int(np.flatnonzero(minor == context.current_minor)[0]))
    width = max(len(r) for r in rows)
    minor = np.array([np.pad(r, (0, width - len(r)), mode="edge") for r in rows])
    admitted = np.array([np.pad(m, (0, width - len(m)), constant_values=False) for m in masks])
    return Candidates(minor, admitted, np.array(starts), support)


def step_mask(cand: Candidates, price_minor: np.ndarray, step: float) -> np.ndarray:
    """Which candidates (N, K) lie within the largest step of each product's price in force (pence, (N,)):
    decision.rule_bounds' max_change around it, boundaries rounded to the pence they admit."""
    low = np.empty(len(price_minor), dtype=np.int64)
    high = np.empty(len(price_minor), dtype=np.int64)
    rules = Rules(max_change=step)
    for j, p in enumerate(price_minor):
        low[j], high[j] = rule_bounds(rules, Context(float(from_minor(p)), None, 0.0, 0.0))["max_change"]
    return (cand.minor >= low[:, None]) & (cand.minor <= high[:, None])


def relative_profit(prices: np.ndarray, start: np.ndarray, cost: np.ndarray, slope: np.ndarray) -> np.ndarray:
    """(p - c) (p / p0) ** -b at candidate prices (N, K): profit per week over the level (module docstring)."""
    return (prices - cost[:, None]) * np.exp(-slope[:, None] * np.log(prices / start[:, None]))


def probability_of_loss(price, start, cost, posterior: Posterior, share: float) -> np.ndarray:
    """P(profit at `price` < (1 - share) x profit at `start`) under each product's slope posterior (N,): closed
    form, since the profit ratio is monotone in b: 1 where the price does not cover the cost, 0 at the start."""
    price, start, cost = (np.asarray(v, dtype=float) for v in (price, start, cost))
    r = np.log(price / start)
    margin_ratio = np.divide((1 - share) * (start - cost), price - cost, out=np.ones_like(price), where=price > cost)
    bound = np.log(np.maximum(margin_ratio, 1e-300))
    with np.errstate(divide="ignore", invalid="ignore"):
        critical = -bound / r  # the slope at which the loss is exactly `share`
        z = (critical - posterior.slope) / posterior.slope_sd
    p = np.where(r > 0, 1 - ndtr(z), ndtr(z))
    p = np.where(r == 0, 0.0, p)
    return np.where(price <= cost, 1.0, p)


def loss_cap_mask(cand: Candidates, cost: np.ndarray, posterior: Posterior, cap: float, probability: float):
    """Which candidates (N, K) the worst-week guardrail admits: those whose posterior probability of a week's
    profit below (1 - cap) x the status quo's is at most `probability` (`probability_of_loss` at every candidate:
    a pessimistic quantile of the slope's posterior, since the profit ratio is monotone in b), and the starting
    price. `cost` (N,): unit costs (currency)."""
    rows = np.arange(len(cand.start))
    start = cand.prices[rows, cand.start]
    wide = Posterior(
        *(
            np.asarray(v)[:, None]
            for v in (posterior.level, posterior.slope, posterior.level_sd, posterior.slope_sd, posterior.correlation)
        )
    )
    risk = probability_of_loss(cand.prices, start[:, None], cost[:, None], wide, cap)
    return (risk <= probability) | (cand.minor == cand.minor[rows, cand.start][:, None])


@dataclass(frozen=True)
class Verdicts:
    """What `/v1/price-decision` says for each of N products from the prior (`decision_verdicts`): `kind` (N,)
    'change', 'test' or 'hold' and `why` (N,) the decision's reason; `recommended` (N,) the candidate column of
    the recommended price; `probability` (N,) the share of draws in which it beats the starting price;
    `interval` (N, 2) the 90% interval of the best price (currency); `arms` per product the test's arms in
    whole pence, increasing (empty unless `test`); `weeks_per_arm` the test's weeks at each."""

    kind: np.ndarray
    why: np.ndarray
    recommended: np.ndarray
    probability: np.ndarray
    interval: np.ndarray
    arms: list[list[int]]
    weeks_per_arm: int

    def counts(self) -> dict[str, int]:
        """Products per verdict, and the test's planned arm weeks in all (arms x weeks per arm, summed)."""
        counts = {k: int(np.sum(self.kind == k)) for k in ("change", "test", "hold")}
        counts["test_arm_weeks"] = int(sum(len(a) for a in self.arms) * self.weeks_per_arm)
        return counts


def decision_verdicts(cand: Candidates, posterior: Posterior, cost: np.ndarray, rng: np.random.Generator) -> Verdicts:
    """The decision each of N products gets from `/v1/price-decision` under the surrogate's posterior, through
    the decision's own rule (pricing.serving.decision: `confidence`, `verdict`, `price_test_arms`), so the
    simulator plays what the service would say. Per product: the candidates the guardrails admit
    (`cand.admitted`: the band as max_change, the decision rules), the objective (p - c) (p / p0) ** -b at the
    posterior mean (profit per week over the product's level: the verdict's gain test is relative), DRAWS
    draws of the slope from its posterior (the service draws its curve's slopes the same way:
    decision.draw_curves), the support (`cand.support`, widened by SUPPORT_TOLERANCE as the service does), and
    the interval's width against 2 x TEST_BAND of the starting price. A `test` gets its arms
    (decision.price_test_arms; the decision's TEST_* constants are read at call time). `cost` (N,): unit costs
    (currency)."""
    n = len(cand.start)
    rows = np.arange(n)
    prices = cand.prices
    start = prices[rows, cand.start]
    support = cand.support if cand.support is not None else np.column_stack([start, start])
    values = relative_profit(prices, start, cost, posterior.slope)
    draws = rng.normal(posterior.slope, posterior.slope_sd, (D.DRAWS, n))
    kinds, whys, recommended, probability, interval, arms = [], [], [], [], [], []
    for j in range(n):
        p, admitted, current = prices[j], cand.admitted[j], int(cand.start[j])
        chosen = D.best_index(values[j], admitted)
        draw_values = (p - cost[j])[None, :] * np.exp(-draws[:, j : j + 1] * np.log(p / start[j])[None, :])
        conf = D.confidence(p, draw_values, admitted, chosen, current)
        low, high = Context(float(start[j]), float(cost[j]), *map(float, support[j])).support_range
        outside = not (low - 1e-9 <= p[chosen] <= high + 1e-9)
        wide = conf.price_interval[1] - conf.price_interval[0] > 2 * D.TEST_BAND * float(start[j])
        kind, why = D.verdict(
            conf.probability_beats_current,
            float(values[j, chosen] - values[j, current]),
            float(values[j, current]),
            chosen == current,
            outside_support=outside,
            interval_wide=wide,
        )
        plan = []
        if kind == "test":
            chosen_arms = D.price_test_arms(p, admitted, current, chosen)
            plan = [int(cand.minor[j, i]) for i in chosen_arms]
        kinds.append(kind)
        whys.append(why)
        recommended.append(chosen)
        probability.append(conf.probability_beats_current)
        interval.append(conf.price_interval)
        arms.append(plan)
    return Verdicts(
        np.array(kinds),
        np.array(whys, dtype=object),
        np.array(recommended),
        np.array(probability),
        np.array(interval, dtype=float).reshape(n, 2),
        arms,
        D.TEST_WEEKS_PER_ARM,
    )


class Policy:
    """A pricing policy (module docstring): `name`, and `slopes(posterior, rng, state)` the slope per product
    to price by this week ((N,), or None for the status quo)."""

    name = "status-quo"
    budget: int | None = None
    step: float = 0.08  # the guardrails' weekly step, set by `decide` before `direct`

    def slopes(self, posterior: Posterior, rng: np.random.Generator, state: State) -> np.ndarray | None:
        return None

    def direct(self, cand, state, posterior, cost, rng) -> tuple[np.ndarray, np.ndarray] | None:
        """Prices a policy sets directly instead of through a slope: (pence (N,), -1 where the slope decides;
        reason codes (N,)), or None (every price through `slopes`)."""
        return None

    def spacing(self, weeks: int) -> int:
        """The fewest weeks between two changes this policy wants (on top of the guardrails' min_weeks)."""
        return 1


class Greedy(Policy):
    name = "greedy"

    def slopes(self, posterior, rng, state):
        return posterior.slope


class ChangeNow(Policy):
    """The slope the posterior had in the run's first week (the prior: the passive model's), every week: it moves
    to the passive recommendation as fast as the guardrails allow and keeps it, learning nothing from the weeks."""

    name = "change-now"

    def __init__(self) -> None:
        self._prior: np.ndarray | None = None

    def slopes(self, posterior, rng, state):
        if self._prior is None or state.week == 0:
            self._prior = posterior.slope.copy()
        return self._prior


class Thompson(Policy):
    """Thompson draws; with `learning_weeks`, for that many test weeks, then the posterior mean (a learning, then
    monetising, lifecycle)."""

    name = "thompson"

    def __init__(self, learning_weeks: int | None = None) -> None:
        self.learning_weeks = learning_weeks

    def slopes(self, posterior, rng, state):
        draw = posterior.draw_slopes(rng)
        if self.learning_weeks is not None and state.week >= self.learning_weeks:
            return posterior.slope
        return draw


class Budgeted(Policy):
    """Thompson draws with at most `budget` changes per product, the last to the posterior mean's optimum."""

    def __init__(self, budget: int) -> None:
        if budget < 1:
            raise ValueError(f"a change budget is at least 1, got {budget}")
        self.budget = budget
        self.name = f"budget-{budget}"

    def slopes(self, posterior, rng, state):
        draw = posterior.draw_slopes(rng)
        return np.where(state.changes >= self.budget - 1, posterior.slope, draw)

    def spacing(self, weeks: int) -> int:
        return math.ceil(weeks / (self.budget + 1))


class TestDecision(Policy):
    """What `/v1/price-decision` says at the start, played out (`decision_verdicts`, from the posterior before the
    first test week): `hold` keeps the status quo; `change` moves to the recommended price within the weekly step
    and keeps it (as `change-now`); `test` runs the API's own schedule of its arms (pricing.experiments.design.
    product_schedule: a random order per (seed, stockcode), `weeks_per_arm` consecutive weeks each, every week's
    price within the step of the week before, one cycle through the arms: the decision's PriceTest.weeks), then
    prices at the posterior mean's optimum (monetising). The stop-loss, the holdout, the band and the rules apply
    throughout (`decide`); the schedule's weeks are its own minimum weeks (the API's schedule has no other).
    `codes` (N,) and `seed`: the stockcodes and the experiment seed the schedule's order is drawn from (default:
    the products' positions and 0)."""

    name = "test-decision"

    def __init__(self, codes: list[str] | None = None, seed: int = 0) -> None:
        self.codes, self.seed = codes, seed
        self.verdicts: Verdicts | None = None
        self.schedule: list[list[int]] = []  # per product: the test's price each week (pence; empty unless test)
        self._prior: np.ndarray | None = None
        self._first_week = 0

    def direct(self, cand, state, posterior, cost, rng):
        """Per product the price the decision's plan wants this week (pence; -1: the slope's optimum, `slopes`)
        and its reason code (N,)."""
        from pricing.experiments.design import product_schedule

        n = len(state.price)
        if self.verdicts is None or state.week == 0:
            self.verdicts = decision_verdicts(cand, posterior, cost, rng)
            self._prior, self._first_week = posterior.slope.copy(), state.week
            codes = self.codes if self.codes is not None else [str(j) for j in range(n)]
            weeks = self.verdicts.weeks_per_arm
            self.schedule = []
            for j, arms in enumerate(self.verdicts.arms):
                plan = (
                    product_schedule(
                        str(codes[j]),
                        float(from_minor(state.price[j])),
                        tuple(float(a) for a in from_minor(np.asarray(arms, dtype=np.int64))),
                        False,
                        "2026-W01",  # any week: the schedule's prices depend on its order, not its dates
                        len(arms) * weeks,
                        weeks,
                        self.step,
                        self.seed,
                    )
                    if arms
                    else ()
                )
                self.schedule.append([int(to_minor(w.price)) for w in plan])
        t = state.week - self._first_week
        kind = self.verdicts.kind
        wanted = np.full(n, -1, dtype=np.int64)
        reason = np.full(n, REASON["after test"])
        reason[kind == "change"] = REASON["decision: change"]
        hold = kind == "hold"
        wanted[hold] = cand.minor[np.flatnonzero(hold), cand.start[hold]]
        reason[hold] = REASON["decision: hold"]
        for j, plan in enumerate(self.schedule):
            if t < len(plan):
                arm_week = plan[t] in self.verdicts.arms[j]
                wanted[j] = plan[t]
                reason[j] = REASON["test arm" if arm_week else "test arm, step cap binding"]
        return wanted, reason

    def slopes(self, posterior, rng, state):
        # change: the prior's slope, kept whatever the weeks show; after a test: the posterior mean
        return np.where(self.verdicts.kind == "change", self._prior, posterior.slope)


def make_policy(name: str, learning_weeks: int | None = None, codes: list[str] | None = None, seed: int = 0) -> Policy:
    """The policy called `name` (POLICIES, or budget-M for any M >= 1); `learning_weeks`: Thompson's (see
    Thompson); `codes`, `seed`: TestDecision's. ValueError for another name."""
    if name == "status-quo":
        return Policy()
    if name == "greedy":
        return Greedy()
    if name == "thompson":
        return Thompson(learning_weeks)
    if name == "change-now":
        return ChangeNow()
    if name == "test-decision":
        return TestDecision(codes, seed)
    if name.startswith("budget-") and name[7:].isdigit():
        return Budgeted(int(name[7:]))
    raise ValueError(f"unknown policy {name!r}: one of {', '.join(POLICIES)} (or budget-M)")


@dataclass
class State:
    """A run's state per product (N,): price in force (pence), weeks at it, changes made (stop-loss moves not
    counted), whether stopped, the holdout."""

    price: np.ndarray
    weeks_at_price: np.ndarray
    changes: np.ndarray
    stopped: np.ndarray
    holdout: np.ndarray
    week: int = 0  # test weeks decided so far

    @classmethod
    def start(cls, start_minor: np.ndarray, holdout: np.ndarray) -> State:
        n = len(start_minor)
        return cls(start_minor.copy(), np.full(n, 10**6), np.zeros(n, int), np.zeros(n, bool), holdout.copy())


def choose_holdout(n: int, share: float, rng: np.random.Generator) -> np.ndarray:
    """A random `share` of n products (rounded), chosen once: booleans (n,)."""
    holdout = np.zeros(n, dtype=bool)
    holdout[rng.choice(n, round(share * n), replace=False)] = True
    return holdout


def decide(
    policy: Policy,
    guardrails: Guardrails,
    cand: Candidates,
    state: State,
    posterior: Posterior,
    cost: np.ndarray,
    estimated_loss: np.ndarray,
    status_quo_profit: np.ndarray,
    rng: np.random.Generator,
    weeks: int,
) -> tuple[np.ndarray, np.ndarray]:
    """This week's price (pence, (N,)) and reason code (N,) for every product (module docstring), updating
    `state`. `estimated_loss` (N,): the posterior mean's loss so far against the status quo (currency);
    `status_quo_profit` (N,): the posterior mean's weekly profit at the starting price; `weeks`: the horizon."""
    n = len(state.price)
    rows = np.arange(n)
    start_minor = cand.minor[rows, cand.start]
    prices = cand.prices
    start, current = from_minor(start_minor), from_minor(state.price)
    reason = np.full(n, REASON["policy"])
    if policy.budget is None and policy.name == "status-quo":
        target = start_minor.copy()
        reason[:] = REASON["status quo"]
    else:
        # the stop-loss, on the price in force
        away = state.price != start_minor
        risky = probability_of_loss(current, start, cost, posterior, guardrails.stop_loss_share)
        over = estimated_loss > guardrails.loss_budget * np.maximum(status_quo_profit, 0)
        newly_prob = away & ~state.stopped & (risky > guardrails.stop_loss_probability)
        newly_budget = away & ~state.stopped & ~newly_prob & over
        state.stopped |= newly_prob | newly_budget
        step_allowed = cand.admitted & step_mask(cand, state.price, guardrails.step)
        allowed, unsafe_now = step_allowed, np.zeros(n, bool)
        if guardrails.loss_cap is not None:
            # the worst-week guardrail: only prices whose pessimistic week stays within the cap; where none within
            # this week's step is, the one nearest the start within it (the way back)
            safe = loss_cap_mask(cand, cost, posterior, guardrails.loss_cap, guardrails.loss_cap_probability)
            unsafe_now = ~safe[rows, np.argmax(cand.minor == state.price[:, None], axis=1)]
            allowed = step_allowed & safe
            distance = np.where(step_allowed, np.abs(cand.minor - start_minor[:, None]), np.iinfo(np.int64).max)
            way_back = np.zeros_like(step_allowed)
            way_back[rows, np.argmin(distance, axis=1)] = True
            allowed = np.where(allowed.any(axis=1)[:, None], allowed, way_back)
        policy.step = guardrails.step
        directed = policy.direct(cand, state, posterior, cost, rng)
        slopes = policy.slopes(posterior, rng, state)
        profit = relative_profit(prices, start, cost, slopes)
        target = cand.minor[rows, np.argmax(np.where(allowed, profit, -np.inf), axis=1)]
        uncapped = cand.minor[rows, np.argmax(np.where(step_allowed, profit, -np.inf), axis=1)]
        unbounded = np.argmax(np.where(cand.admitted, profit, -np.inf), axis=1)
        reason[cand.minor[rows, unbounded] != uncapped] = REASON["policy, step cap binding"]
        if directed is not None:
            # a price the policy sets directly: the allowed candidate nearest it (itself, within this week's step)
            wanted, reason = directed[0], directed[1].copy()
            fixed = wanted >= 0

            def nearest(mask):
                gap = np.where(mask, np.abs(cand.minor - wanted[:, None]), np.iinfo(np.int64).max)
                return cand.minor[rows, np.argmin(gap, axis=1)]

            target = np.where(fixed, nearest(allowed), target)
            uncapped = np.where(fixed, nearest(step_allowed), uncapped)
            step_binds = fixed & (uncapped != wanted) & (reason == REASON["test arm"])
            reason[step_binds] = REASON["test arm, step cap binding"]
        scheduled = np.isin(reason, [REASON["test arm"], REASON["test arm, step cap binding"]])
        reason[(target != uncapped) | unsafe_now] = REASON["loss cap"]
        moving = target != state.price
        # a price the worst-week guardrail no longer admits is not kept for the minimum weeks or the budget; a
        # test's schedule sets its own weeks at a price
        too_soon = moving & ~unsafe_now & ~scheduled
        too_soon &= state.weeks_at_price < max(guardrails.min_weeks, policy.spacing(weeks))
        target = np.where(too_soon, state.price, target)
        reason[too_soon] = REASON["min weeks at a price"]
        if policy.budget is not None:
            spent = (target != state.price) & ~unsafe_now & (state.changes >= policy.budget)
            target = np.where(spent, state.price, target)
            reason[spent] = REASON["change budget spent"]
        allowed = step_allowed
        # stopped products step back to the start: the allowed price nearest it within this week's step
        distance = np.where(allowed, np.abs(cand.minor - start_minor[:, None]), np.iinfo(np.int64).max)
        back = cand.minor[rows, np.argmin(distance, axis=1)]
        target = np.where(state.stopped, back, target)
        reason[state.stopped] = REASON["stopped"]
        reason[newly_prob] = REASON["stop-loss: probability"]
        reason[newly_budget] = REASON["stop-loss: loss budget"]
        target = np.where(state.holdout, start_minor, target)
        reason[state.holdout] = REASON["holdout"]
    changed = target != state.price
    stop_move = state.stopped & changed
    state.changes += changed & ~stop_move
    state.weeks_at_price = np.where(changed, 1, state.weeks_at_price + 1)
    state.price = target
    state.week += 1
    return target, reason
