"""`pricing simulate`: pricing policies in a closed loop against the generator's truth.

For each market and seed: the simulated market (pricing.experiments.market) and its N best sellers, the prior
(the passive model of the market's history, or a trained bundle's slopes: pricing.experiments.prior), the
candidate prices under the guardrails, and the truth's optimum under the same rules each week (the clairvoyant:
the admitted candidate of the highest expected profit). Then for each policy (pricing.experiments.policies):
`pre_weeks` weeks at the status quo (the difference in differences' pre-period), then `weeks` weeks in which
the policy sets each product's price, the market answers (expected and realised order lines and units), and the
posterior is updated from every week so far (pricing.experiments.learning.update_posterior).

Recorded per week and product (`weeks.parquet`): the price and the reason that set it, the true optimum, the
expected and realised profit and revenue (currency per week), the clairvoyant's and the status quo's expected
profit, and the regret (the clairvoyant's expected profit less the policy's). The report (`report.json`) has per
run and, over the report seeds, per market and policy (mean and spread): the cumulative profit regret (currency
and share of the clairvoyant's profit), the last four weeks' median and P90 regret per product (share of its
clairvoyant profit), the share of the clairvoyant's profit earned, the price changes per product, the worst
single-week loss of any product against its status-quo profit, the slope of log cumulative regret on log weeks,
and the difference in differences of realised weekly profit against the holdout (pricing.experiments.did) beside
the true uplift. Plots: cumulative regret per policy against weeks, a few products' price paths against their
true optimum, the share of products changed per week.

The status quo (the price every policy starts from, the band's centre, the holdout's price) is each product's
current price, the history's last list price, or with `start_price_factor` F that price times F in whole pence
(`start_prices`): a shop that starts over- (F > 1) or under-priced against the same truth. The prior is the
same model of the same history, read at the new status quo (prior.recentred: its level is the model's own
prediction of weekly units there, its slope unchanged), so with F > 1 in the confounded market the passive
model still says raise while the truth's optimum lies mostly below the status quo.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from pricing.experiments.did import difference_in_differences
from pricing.experiments.learning import Posterior, dispersion, update_pooled, update_posterior
from pricing.experiments.market import SimMarket
from pricing.experiments.policies import (
    POLICIES,
    REASONS,
    Candidates,
    Guardrails,
    State,
    candidates,
    choose_holdout,
    decide,
    make_policy,
)
from pricing.experiments.prior import Prior, bundle_prior, passive_prior, recentred
from pricing.serving.money import from_minor, to_minor

LAST_WEEKS = 4  # the "last four weeks" of the report's late regret
GROWTH_FROM = 4  # the regret growth slope is fitted from this test week on (the first weeks are all transient)


@dataclass(frozen=True)
class Settings:
    """One simulation's settings (module docstring)."""

    weeks: int = 26
    products: int = 300
    pre_weeks: int = 4
    rows: int = 541_909
    policies: tuple[str, ...] = POLICIES
    guardrails: Guardrails = field(default_factory=Guardrails)
    # a bundle's store for the prior, {seed} and {market} filled in per run; None: the passive model of the history
    store: str | None = None
    pooled: bool = False  # learn the shift common to every product's slope too (learning.update_pooled)
    learning_weeks: int | None = None  # Thompson draws for this many test weeks, then the posterior mean
    start_price_factor: float = 1.0  # the status quo is this x the history's last list price (`start_prices`)

    def __post_init__(self) -> None:
        if self.weeks < 1 or self.products < 1 or self.pre_weeks < 1:
            raise ValueError("weeks, products and pre_weeks must each be at least 1")
        if not (np.isfinite(self.start_price_factor) and self.start_price_factor > 0):
            raise ValueError(f"start_price_factor must be a positive number, got {self.start_price_factor}")
        for name in self.policies:
            make_policy(name)


@dataclass
class Truth:
    """The truth of one market and seed over every week (N, T): the clairvoyant's price (pence) and expected
    profit under the rules, and the status quo's expected profit."""

    optimum: np.ndarray
    optimum_profit: np.ndarray
    status_quo_profit: np.ndarray


def start_prices(current_price: np.ndarray, factor: float = 1.0) -> np.ndarray:
    """The simulation's status quo per product (N,, currency): `factor` x the history's last list price
    (`current_price`, currency (N,)) to the nearest whole penny, at least one penny; `current_price` itself
    (the same array) at factor 1, so today's runs are unchanged. ValueError for a factor not positive."""
    if not (np.isfinite(factor) and factor > 0):
        raise ValueError(f"the start price factor must be a positive number, got {factor}")
    if factor == 1.0:
        return current_price
    return from_minor(np.maximum(to_minor(factor * np.asarray(current_price, dtype=float)), 1))


def truth_of(sim: SimMarket, cand: Candidates, weeks: int) -> Truth:
    """The clairvoyant's best admitted candidate each week (module docstring) and the status quo's profit."""
    rows = np.arange(sim.n)
    optimum, best, status_quo = [], [], []
    start = cand.prices[rows, cand.start]
    for t in range(weeks):
        profit = np.where(cand.admitted, sim.expected_profit(t, cand.prices), -np.inf)
        k = np.argmax(profit, axis=1)
        optimum.append(cand.minor[rows, k])
        best.append(profit[rows, k])
        status_quo.append(sim.expected_profit(t, start))
    return Truth(np.column_stack(optimum), np.column_stack(best), np.column_stack(status_quo))


@dataclass
class Run:
    """One policy's run over every week (N, T): price (pence), reason code, expected and realised profit and
    revenue, and the final posterior."""

    policy: str
    price: np.ndarray
    reason: np.ndarray
    expected_profit: np.ndarray
    expected_revenue: np.ndarray
    realised_profit: np.ndarray
    realised_revenue: np.ndarray
    holdout: np.ndarray
    posterior: Posterior
    lines: list[pd.DataFrame] | None = None
    verdicts: dict | None = None  # test-decision: products per verdict (policies.Verdicts.counts)


def run_policy(
    sim: SimMarket,
    prior: Prior,
    cand: Candidates,
    name: str,
    settings: Settings,
    holdout: np.ndarray,
    seed: int,
    keep_lines: bool = False,
) -> Run:
    """`name`'s run on `sim` (module docstring); `holdout` (N,) the products that never move (unused by the
    status quo, which moves none); `keep_lines`: keep every test week's transaction lines."""
    policy = make_policy(name, settings.learning_weeks, [str(c) for c in sim.codes], seed)
    n, total = sim.n, settings.pre_weeks + settings.weeks
    guardrails = settings.guardrails
    rows = np.arange(n)
    start_minor = cand.minor[rows, cand.start]
    start = from_minor(start_minor)
    cost = sim.unit_cost
    offset = sim.week_offset()[:total]
    index = POLICIES.index(name) if name in POLICIES else len(POLICIES) + (policy.budget or 0)
    market_rng = np.random.default_rng([seed, 300, index])
    policy_rng = np.random.default_rng([seed, 400, index])
    state = State.start(start_minor, holdout if name != "status-quo" else np.zeros(n, bool))
    shape = (n, total)
    price, reason = np.zeros(shape, np.int64), np.zeros(shape, np.int8)
    out = {k: np.zeros(shape) for k in ("ep", "er", "rp", "rr")}
    units, squared, x = np.zeros(shape), np.zeros(shape), np.zeros(shape)
    posterior = prior.posterior
    estimated_loss = np.zeros(n)
    lines = [] if keep_lines else None
    for t in range(total):
        if t < settings.pre_weeks:
            chosen, why = start_minor.copy(), np.zeros(n, np.int8)
        else:
            sq_profit = (start - cost) * np.exp(posterior.level)
            chosen, why = decide(
                policy, guardrails, cand, state, posterior, cost, estimated_loss, sq_profit, policy_rng, settings.weeks
            )
        p = from_minor(chosen)
        realised = sim.draw(market_rng, t, p, keep_lines=keep_lines and t >= settings.pre_weeks)
        if lines is not None and realised.lines is not None:
            lines.append(sim.lines_frame(t, p, realised))
        price[:, t], reason[:, t] = chosen, why
        out["ep"][:, t] = sim.expected_profit(t, p)
        out["er"][:, t] = p * sim.expected_units(t, p)
        out["rp"][:, t] = (p - cost) * realised.units
        out["rr"][:, t] = p * realised.units
        units[:, t], squared[:, t], x[:, t] = realised.units, realised.squared_units, np.log(p / start)
        if name != "status-quo":
            seen = slice(0, t + 1)
            phi = dispersion(units[:, seen], squared[:, seen])
            if settings.pooled:
                posterior, _ = update_pooled(prior.posterior, units[:, seen], x[:, seen], offset[seen], phi)
            else:
                posterior = update_posterior(prior.posterior, units[:, seen], x[:, seen], offset[seen], phi)
            # the posterior mean's loss against the status quo over the test weeks so far
            test = slice(settings.pre_weeks, t + 1)
            level = posterior.level[:, None] + offset[None, test]
            at_start = (start - cost)[:, None] * np.exp(level)
            at_price = (from_minor(price[:, test]) - cost[:, None]) * np.exp(
                level - posterior.slope[:, None] * x[:, test]
            )
            estimated_loss = (at_start - at_price).sum(axis=1)
    verdicts = getattr(policy, "verdicts", None)
    counts = None if verdicts is None else verdicts.counts()
    return Run(name, price, reason, out["ep"], out["er"], out["rp"], out["rr"], state.holdout, posterior, lines, counts)


def metrics(run: Run, truth: Truth, settings: Settings) -> dict:
    """The report's figures for one run (module docstring), over the test weeks."""
    test = slice(settings.pre_weeks, None)
    best, sq = truth.optimum_profit[:, test], truth.status_quo_profit[:, test]
    profit = run.expected_profit[:, test]
    regret = best - profit
    cumulative = np.cumsum(regret.sum(axis=0)) / np.cumsum(best.sum(axis=0))
    late = slice(-LAST_WEEKS, None)
    late_share = regret[:, late].sum(axis=1) / np.maximum(best[:, late].sum(axis=1), 1e-12)
    weeks = np.arange(1, settings.weeks + 1)
    growth = None
    cum_regret = np.cumsum(regret.sum(axis=0))
    usable = (weeks >= GROWTH_FROM) & (cum_regret > 0)
    if usable.sum() >= 3:
        growth = float(np.polyfit(np.log(weeks[usable]), np.log(cum_regret[usable]), 1)[0])
    prices = run.price
    changed = prices[:, 1:] != prices[:, :-1]
    changes = changed[:, test.start - 1 :].sum(axis=1) if settings.pre_weeks > 0 else changed.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        loss = np.where(sq > 0, (sq - profit) / sq, 0.0)
    figures = {
        "policy": run.policy,
        "cumulative_regret": round(float(regret.sum()), 2),
        "regret_share": round(float(regret.sum() / best.sum()), 5),
        "profit_share_of_clairvoyant": round(float(profit.sum() / best.sum()), 5),
        "profit_over_status_quo": round(float(profit.sum() / sq.sum() - 1), 5),
        "last4_median_regret": round(float(np.median(late_share)), 5),
        "last4_p90_regret": round(float(np.quantile(late_share, 0.9)), 5),
        "changes_per_product_mean": round(float(changes.mean()), 3),
        "changes_per_product_max": int(changes.max()),
        "worst_week_loss": round(float(loss.max()), 4),
        "regret_growth_slope": None if growth is None else round(growth, 3),
        "cumulative_regret_by_week": [round(float(v), 2) for v in cum_regret],
        "cumulative_regret_share_by_week": [round(float(v), 5) for v in cumulative],
        "share_changed_by_week": [round(float(v), 4) for v in changed[:, test.start - 1 :].mean(axis=0)],
        "reasons": {
            REASONS[c]: int(k) for c, k in zip(*np.unique(run.reason[:, test], return_counts=True), strict=True)
        },
    }
    if run.verdicts is not None:
        figures["verdicts"] = run.verdicts
    treated = ~run.holdout
    if run.policy != "status-quo" and run.holdout.any() and treated.any():
        post = np.arange(prices.shape[1]) >= settings.pre_weeks
        did = difference_in_differences(run.realised_profit, treated, post)
        figures["did"] = did.as_dict()
        figures["did_true_uplift"] = round(float((profit - sq)[treated].mean()), 4)
        figures["did_status_quo_profit"] = round(float(sq[treated].mean()), 4)
    return figures


def simulate(
    markets: list[str],
    seeds: list[int],
    settings: Settings,
    out_dir: Path | None = None,
    lines: bool = False,
    report_seeds: list[int] | None = None,
) -> dict:
    """Every market x seed x policy (module docstring); writes report.json, weeks.parquet and the plots to
    `out_dir` when given (and each run's test-week transaction lines as lines/<market>_<seed>_<policy>.csv
    with `lines`). `report_seeds`: the seeds the report's figures are read on (summarised apart from the others,
    which settings are chosen on). Returns the report. ValueError for no market or seed."""
    if not markets or not seeds:
        raise ValueError("simulate needs at least one market and one seed")
    runs, frames, paths = [], [], {}
    combos = [(m, s) for m in markets for s in seeds]
    bar = tqdm(total=len(combos) * len(settings.policies), desc="simulate", unit="run")
    for market, seed in combos:
        sim = SimMarket(seed, settings.products, settings.pre_weeks + settings.weeks, market, settings.rows)
        store = None if settings.store is None else settings.store.format(seed=seed, market=market)
        start = start_prices(sim.current_price, settings.start_price_factor)
        if store is None:
            # the passive model is fitted about the history's last price; read at the status quo (prior.recentred)
            prior = recentred(passive_prior(sim, seed), np.log(start / sim.current_price))
        else:
            prior = bundle_prior(store, sim, start_price=start)
        # the prices each product sold at in the history: the decision's support (the test-decision policy)
        support = np.column_stack([sim.history_price.min(axis=1), sim.history_price.max(axis=1)])
        cand = candidates(start, sim.unit_cost, settings.guardrails, support)
        truth = truth_of(sim, cand, settings.pre_weeks + settings.weeks)
        holdout = choose_holdout(sim.n, settings.guardrails.holdout_share, np.random.default_rng([seed, 600]))
        true_slope = sim_slope(sim, prices=start)
        for name in settings.policies:
            bar.set_postfix_str(f"{market} seed {seed} {name}")
            run = run_policy(sim, prior, cand, name, settings, holdout, seed, keep_lines=lines)
            figures = {"market": market, "seed": seed, "prior": prior.source, **metrics(run, truth, settings)}
            figures["prior_slope_mean"] = round(float(prior.posterior.slope.mean()), 3)
            figures["true_slope_mean"] = round(float(true_slope.mean()), 3)
            figures["final_slope_rmse"] = round(float(np.sqrt(np.mean((run.posterior.slope - true_slope) ** 2))), 3)
            runs.append(figures)
            frames.append(_frame(sim, run, truth, market, seed))
            if out_dir is not None and run.lines:
                lines_dir = out_dir / "lines"
                lines_dir.mkdir(parents=True, exist_ok=True)
                pd.concat(run.lines).to_csv(lines_dir / f"{market}_{seed}_{name}.csv", index=False)
            bar.update()
    bar.close()
    report = {
        "settings": {**asdict(settings), "guardrails": _guardrails_dict(settings.guardrails)},
        "markets": markets,
        "seeds": seeds,
        "runs": runs,
        "summary": summarise(runs),
    }
    if report_seeds:
        report["report_seeds"] = sorted(report_seeds)
        report["summary_report_seeds"] = summarise(runs, report_seeds)
        chosen = [s for s in seeds if s not in report_seeds]
        report["summary_choice_seeds"] = summarise(runs, chosen) if chosen else {}
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        paths["report"] = out_dir / "report.json"
        paths["report"].write_text(json.dumps(report, indent=2))
        weeks = pd.concat(frames, ignore_index=True)
        paths["weeks"] = out_dir / "weeks.parquet"
        weeks.to_parquet(paths["weeks"], index=False)
        from pricing.experiments.plots import write_plots

        paths.update(write_plots(report, weeks, out_dir, settings.pre_weeks))
        report["files"] = {k: str(v) for k, v in paths.items()}
    return report


def sim_slope(sim: SimMarket, week: int = 0, step: float = 0.05, prices: np.ndarray | None = None) -> np.ndarray:
    """The truth's local slope of log weekly units on log price at each product's status quo (N,): the b the
    surrogate estimates (a central difference); `prices` (N,, currency): the status quo, default the current
    price."""
    p = sim.current_price if prices is None else prices
    up, down = sim.expected_units(week, p * np.exp(step)), sim.expected_units(week, p * np.exp(-step))
    return -(np.log(up) - np.log(down)) / (2 * step)


SUMMARY_FIGURES = (
    "regret_share",
    "profit_share_of_clairvoyant",
    "profit_over_status_quo",
    "last4_median_regret",
    "last4_p90_regret",
    "changes_per_product_mean",
    "worst_week_loss",
    "regret_growth_slope",
)


def summarise(runs: list[dict], seeds: list[int] | None = None) -> dict:
    """Per market and policy, each SUMMARY_FIGURES' mean, sd and per-seed values over `seeds` (default: all)."""
    frame = pd.DataFrame(runs)
    if seeds is not None:
        frame = frame[frame["seed"].isin(seeds)]
    summary: dict = {}
    for (market, policy), group in frame.groupby(["market", "policy"], sort=False):
        entry = {}
        for name in SUMMARY_FIGURES:
            values = group[name].dropna().astype(float)
            entry[name] = {
                "mean": round(float(values.mean()), 5) if len(values) else None,
                "sd": round(float(values.std(ddof=1)), 5) if len(values) > 1 else None,
                "by_seed": {
                    int(seed): None if pd.isna(v) else float(v)
                    for seed, v in zip(group["seed"], group[name], strict=True)
                },
            }
        summary.setdefault(market, {})[policy] = entry
    return summary


def _frame(sim: SimMarket, run: Run, truth: Truth, market: str, seed: int) -> pd.DataFrame:
    n, total = run.price.shape
    return pd.DataFrame(
        {
            "market": market,
            "seed": seed,
            "policy": run.policy,
            "week": np.tile(np.arange(total), n),
            "stockcode": np.repeat(sim.codes, total).astype(str),
            "holdout": np.repeat(run.holdout, total),
            "price": from_minor(run.price).ravel(),
            "reason": np.array(REASONS, dtype=object)[run.reason.ravel()],
            "optimum": from_minor(truth.optimum).ravel(),
            "expected_profit": run.expected_profit.ravel(),
            "realised_profit": run.realised_profit.ravel(),
            "expected_revenue": run.expected_revenue.ravel(),
            "realised_revenue": run.realised_revenue.ravel(),
            "optimum_profit": truth.optimum_profit.ravel(),
            "status_quo_profit": truth.status_quo_profit.ravel(),
            "regret": (truth.optimum_profit - run.expected_profit).ravel(),
        }
    )


def _guardrails_dict(guardrails: Guardrails) -> dict:
    values = asdict(guardrails)
    values["rules"] = {k: v for k, v in asdict(guardrails.rules).items() if v is not None}
    return values
