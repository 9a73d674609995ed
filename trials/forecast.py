"""Enrolment forecasting with the Poisson-gamma model (DOMAIN A6, B §9). Pure maths; units: days.

Anisimov & Fedorov 2007: centre i recruits Poisson(lambda_i * tau_i), lambda_i ~ Gamma(alpha, beta)
(shape, rate). The time T to recruit n more at total rate Lambda ~ Gamma(A, B) satisfies
T / (T + B) ~ Beta(n, A).
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special

MIN_CENTRES = 3
# A fitted alpha beyond this is the Poisson limit in all but name: treat the prior as unidentified.
_ALPHA_MAX = 1e6
_LOW, _HIGH = 0.05, 0.95  # the 90% interval of DOMAIN A6


def _check_non_negative(name: str, value: float) -> None:
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")


def _check_positive(name: str, value: float) -> None:
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")


@dataclass(frozen=True)
class Centre:
    """Enrolment so far at one open centre."""

    enrolled: int  # k_i
    active_days: float  # tau_i

    def __post_init__(self) -> None:
        _check_non_negative("Centre.enrolled", self.enrolled)
        if self.enrolled != int(self.enrolled):
            raise ValueError(f"Centre.enrolled must be a whole number, got {self.enrolled!r}")
        _check_non_negative("Centre.active_days", self.active_days)


@dataclass(frozen=True)
class Forecast:
    """Predicted days from today until `remaining` more subjects are enrolled."""

    remaining: int
    mean_days: float | None
    median_days: float
    low_days: float
    high_days: float
    p_within_planned: float | None
    shape: float
    rate: float
    method: str


def _loglik(alpha: float, beta: float, k: np.ndarray, tau: np.ndarray) -> float:
    return float(np.sum(
        special.gammaln(alpha + k) - special.gammaln(alpha) + alpha * math.log(beta)
        - (alpha + k) * np.log(beta + tau) + special.xlogy(k, tau) - special.gammaln(k + 1)
    ))


def _arrays(centres: Sequence[Centre]) -> tuple[np.ndarray, np.ndarray]:
    k = np.array([c.enrolled for c in centres], dtype=float)
    return k, np.array([c.active_days for c in centres], dtype=float)


def negbin_loglik(alpha: float, beta: float, centres: Sequence[Centre]) -> float:
    """Marginal (negative binomial) log-likelihood l(alpha, beta) of B §9 item 2."""
    _check_positive("alpha", alpha)
    _check_positive("beta", beta)
    return _loglik(alpha, beta, *_arrays(centres))


def fit_gamma_prior(centres: Sequence[Centre]) -> tuple[float, float] | None:
    """Maximum-likelihood (alpha, beta), or None when the data cannot identify them."""
    k, tau = _arrays([c for c in centres if c.active_days > 0])
    if len(k) < MIN_CENTRES or k.sum() == 0:
        return None
    mean_rate = k.sum() / tau.sum()
    # Score for 1/alpha at the Poisson limit (envelope theorem): if it is <= 0 the data are not
    # over-dispersed and the likelihood climbs towards alpha -> infinity.
    excess = float(np.sum((k - mean_rate * tau) ** 2 - k))
    if excess <= 0:
        return None
    alpha0 = mean_rate**2 * float(np.sum(tau**2)) / excess  # method of moments

    def negative(x: np.ndarray) -> tuple[float, np.ndarray]:
        alpha, beta = np.exp(x)
        d_alpha = np.sum(special.digamma(alpha + k) - special.digamma(alpha)
                         + math.log(beta) - np.log(beta + tau))
        d_beta = np.sum(alpha / beta - (alpha + k) / (beta + tau))
        return -_loglik(alpha, beta, k, tau), -np.array([d_alpha * alpha, d_beta * beta])

    try:
        result = optimize.minimize(negative, np.log([alpha0, alpha0 / mean_rate]), jac=True,
                                   method="BFGS")
    except (ValueError, FloatingPointError):
        return None
    alpha, beta = (float(v) for v in np.exp(result.x))
    stationary = np.all(np.isfinite(result.jac)) and np.max(np.abs(result.jac)) < 1e-3
    if not (result.success or stationary) or not math.isfinite(beta) or not alpha < _ALPHA_MAX:
        return None
    return alpha, beta


def matched_gamma(shapes_rates: Sequence[tuple[float, float]]) -> tuple[float, float]:
    """One gamma matching the mean and variance of a sum of independent gammas."""
    if not shapes_rates:
        raise ValueError("matched_gamma needs at least one (shape, rate)")
    for shape, rate in shapes_rates:
        _check_positive("shape", shape)
        _check_positive("rate", rate)
    mean = math.fsum(a / b for a, b in shapes_rates)
    variance = math.fsum(a / b**2 for a, b in shapes_rates)
    return mean**2 / variance, mean / variance


def _check_model(n: int, shape: float, rate: float) -> None:
    if not n >= 1:
        raise ValueError(f"n must be >= 1, got {n!r}")
    _check_positive("A", shape)
    _check_positive("B", rate)


def time_to_recruit_cdf(n: int, A: float, B: float, t: float) -> float:
    """P(T <= t) = I_{t/(t+B)}(n, A)."""
    _check_model(n, A, B)
    if t <= 0:
        return 0.0
    return float(special.betainc(n, A, t / (t + B)))


def time_to_recruit_quantile(n: int, A: float, B: float, q: float) -> float:
    """T_q = B x / (1 - x) with x the Beta(n, A) q-quantile."""
    _check_model(n, A, B)
    if not 0 < q < 1:
        raise ValueError(f"q must be in (0, 1), got {q!r}")
    x = special.betaincinv(n, A, q)
    one_minus_x = special.betaincinv(A, n, 1 - q)  # 1 - X ~ Beta(A, n): exact near x = 1
    return float(B * x / one_minus_x)


def time_to_recruit_mean(n: int, A: float, B: float) -> float | None:
    """E[T] = n B / (A - 1); None when A <= 1 (infinite mean)."""
    _check_model(n, A, B)
    return n * B / (A - 1) if A > 1 else None


def _closed_form(n: int, shape: float, rate: float, planned: float | None, method: str) -> Forecast:
    return Forecast(
        remaining=n,
        mean_days=time_to_recruit_mean(n, shape, rate),
        median_days=time_to_recruit_quantile(n, shape, rate, 0.5),
        low_days=time_to_recruit_quantile(n, shape, rate, _LOW),
        high_days=time_to_recruit_quantile(n, shape, rate, _HIGH),
        p_within_planned=None if planned is None else time_to_recruit_cdf(n, shape, rate, planned),
        shape=shape, rate=rate, method=method,
    )


def _simulate(n: int, gammas: list[tuple[float, float]], opens: np.ndarray,
              planned: float | None, draws: int, seed: int) -> Forecast:
    """Monte Carlo for a piecewise-constant total rate (centres opening on known days)."""
    rng = np.random.default_rng(seed)
    shapes, rates = np.array(gammas).T
    order = np.argsort(opens, kind="stable")
    starts = opens[order]
    rates_drawn = rng.gamma(shapes, 1.0 / rates, size=(draws, len(gammas)))[:, order]
    needed = rng.gamma(n, 1.0, size=draws)  # cumulative intensity at the n-th arrival
    # Total rate on [starts[j], starts[j+1]); the floor only guards an underflowed draw.
    level = np.maximum(np.cumsum(rates_drawn, axis=1), np.finfo(float).tiny)
    reached = np.zeros_like(level)  # cumulative intensity at each start
    reached[:, 1:] = np.cumsum(level[:, :-1] * np.diff(starts), axis=1)
    segment = (reached <= needed[:, None]).sum(axis=1) - 1
    rows = np.arange(draws)
    days = starts[segment] + (needed - reached[rows, segment]) / level[rows, segment]
    low, median, high = np.quantile(days, [_LOW, 0.5, _HIGH])
    shape, rate = matched_gamma(gammas)
    return Forecast(
        remaining=n,
        mean_days=float(days.mean()) if shapes.sum() > 1 else None,
        median_days=float(median), low_days=float(low), high_days=float(high),
        p_within_planned=None if planned is None else float(np.mean(days <= planned)),
        shape=shape, rate=rate, method="simulated",
    )


def forecast(
    *,
    remaining: int,
    open_centres: Sequence[Centre],
    unopened_in_days: Sequence[float] = (),
    prior: tuple[float, float] | None = None,
    pooled_prior: tuple[float, float] | None = None,
    pooled_elapsed_days: float = 0.0,
    pooled_enrolled: int = 0,
    planned_days: float | None = None,
    draws: int = 20000,
    seed: int = 20071,
) -> Forecast | None:
    """Forecast days to enrol `remaining` more; None when no model can be fitted."""
    _check_inputs(unopened_in_days, pooled_elapsed_days, pooled_enrolled, planned_days, draws)
    if remaining <= 0:
        done = None if planned_days is None else 1.0
        return Forecast(remaining=0, mean_days=0.0, median_days=0.0, low_days=0.0, high_days=0.0,
                        p_within_planned=done, shape=0.0, rate=0.0, method="done")
    n = int(remaining)
    if prior is None:
        prior = fit_gamma_prior(open_centres)
    if prior is not None and (open_centres or unopened_in_days):
        return _hierarchical(n, prior, open_centres, unopened_in_days, planned_days, draws, seed)
    if pooled_prior is not None:
        a, b = pooled_prior
        _check_positive("pooled prior shape", a)
        _check_positive("pooled prior rate", b)
        return _closed_form(n, a + pooled_enrolled, b + pooled_elapsed_days, planned_days,
                            "pooled")
    return None


def _check_inputs(unopened_in_days: Sequence[float], pooled_elapsed_days: float,
                  pooled_enrolled: int, planned_days: float | None, draws: int) -> None:
    for days in unopened_in_days:
        _check_non_negative("unopened_in_days", days)
    _check_non_negative("pooled_elapsed_days", pooled_elapsed_days)
    _check_non_negative("pooled_enrolled", pooled_enrolled)
    if planned_days is not None:
        _check_non_negative("planned_days", planned_days)
    if draws < 1:
        raise ValueError(f"draws must be >= 1, got {draws!r}")


def _hierarchical(n: int, prior: tuple[float, float], open_centres: Sequence[Centre],
                  unopened_in_days: Sequence[float], planned_days: float | None, draws: int,
                  seed: int) -> Forecast:
    """Per-centre Poisson-gamma (Anisimov-Fedorov): closed form when every centre is open,
    the seeded Monte Carlo on the stepwise total rate when some open later."""
    alpha, beta = prior
    _check_positive("prior alpha", alpha)
    _check_positive("prior beta", beta)
    gammas = [(alpha + c.enrolled, beta + c.active_days) for c in open_centres]
    if not unopened_in_days:
        return _closed_form(n, *matched_gamma(gammas), planned_days, "hierarchical")
    # Centres opening on the same day act as one (a sum of gammas: exact for the equal prior
    # rates of unopened centres, moment-matched for open ones), so the cost grows with the
    # number of distinct opening days, not of centres.
    groups: dict[float, list[tuple[float, float]]] = {}
    if gammas:
        groups[0.0] = list(gammas)
    for days in unopened_in_days:
        groups.setdefault(float(days), []).append((alpha, beta))
    opens = np.array(sorted(groups), dtype=float)
    summed = [matched_gamma(groups[day]) for day in sorted(groups)]
    return _simulate(n, summed, opens, planned_days, draws, seed)


def pooled_prior_from_plan(
    *, target: int, planned_days: float, confidence: float = 0.5
) -> tuple[float, float]:
    """Gajewski et al. prior on the trial's total rate: Gamma(target * P, planned_days * P)."""
    _check_positive("target", target)
    _check_positive("planned_days", planned_days)
    _check_positive("confidence", confidence)
    return target * confidence, planned_days * confidence
