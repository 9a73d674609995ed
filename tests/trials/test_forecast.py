"""The Poisson-gamma enrolment forecast against the worked numbers of DOMAIN B §9 and scipy."""

import math

import numpy as np
import pytest
from scipy import stats

from trials.forecast import (
    Centre,
    fit_gamma_prior,
    forecast,
    matched_gamma,
    negbin_loglik,
    pooled_prior_from_plan,
    time_to_recruit_cdf,
    time_to_recruit_mean,
    time_to_recruit_quantile,
)

# DOMAIN B §9 multi-centre illustration: 20 centres, 3 each over 6 (months), prior Gamma(1.2, 10).
ILLUSTRATION = [Centre(enrolled=3, active_days=6)] * 20


def simulated_centres(alpha: float, beta: float, count: int, seed: int) -> list[Centre]:
    rng = np.random.default_rng(seed)
    active = rng.uniform(60, 400, count)
    counts = rng.poisson(rng.gamma(alpha, 1 / beta, count) * active)
    return [
        Centre(enrolled=int(k), active_days=float(t)) for k, t in zip(counts, active, strict=True)
    ]


@pytest.mark.parametrize(
    ("rate", "low", "median", "high", "mean"),
    [(786.5, 946.7, 1125.7, 1340.8, 1130.4), (787.5, 947.9, 1127.1, 1342.5, 1131.8)],
)
def test_pooled_example_matches_domain_numbers(rate, low, median, high, mean):
    assert time_to_recruit_quantile(309, 216, rate, 0.025) == pytest.approx(low, abs=0.05)
    assert time_to_recruit_quantile(309, 216, rate, 0.5) == pytest.approx(median, abs=0.05)
    assert time_to_recruit_quantile(309, 216, rate, 0.975) == pytest.approx(high, abs=0.05)
    assert time_to_recruit_mean(309, 216, rate) == pytest.approx(mean, abs=0.05)


def test_pooled_forecast_end_to_end_gives_posterior_216_787_5():
    prior = pooled_prior_from_plan(target=350, planned_days=1095, confidence=0.5)
    assert prior == (175, 547.5)
    result = forecast(
        remaining=309,
        open_centres=[],
        pooled_prior=prior,
        pooled_enrolled=41,
        pooled_elapsed_days=240,
        planned_days=1095,
    )
    assert result is not None
    assert result.method == "pooled"
    assert (result.shape, result.rate) == (216, 787.5)
    assert result.median_days == pytest.approx(1127.1, abs=0.05)
    assert result.mean_days == pytest.approx(1131.8, abs=0.05)
    assert result.low_days < result.median_days < result.high_days


def test_multi_centre_illustration_matches_domain_numbers():
    result = forecast(prior=(1.2, 10), open_centres=ILLUSTRATION, remaining=140, planned_days=24)
    assert result is not None
    assert result.method == "hierarchical"
    assert result.shape == pytest.approx(84)
    assert result.rate == pytest.approx(16)
    assert result.mean_days == pytest.approx(26.99, abs=0.005)
    assert result.low_days == pytest.approx(21.32, abs=0.005)
    assert result.median_days == pytest.approx(26.71, abs=0.005)
    assert result.high_days == pytest.approx(33.61, abs=0.005)
    assert result.p_within_planned == pytest.approx(0.2185, abs=0.00005)


def test_closed_form_agrees_with_scipy_betaprime():
    for q in (0.01, 0.3, 0.9, 0.999):
        expected = 16 * stats.betaprime.ppf(q, 140, 84)
        assert time_to_recruit_quantile(140, 84, 16, q) == pytest.approx(expected, rel=1e-9)
        assert time_to_recruit_cdf(140, 84, 16, expected) == pytest.approx(q, rel=1e-9)
    assert time_to_recruit_cdf(140, 84, 16, 0) == 0.0
    assert time_to_recruit_mean(5, 1.0, 16) is None


def test_negbin_loglik_is_the_negative_binomial_likelihood():
    centres = [*simulated_centres(1.5, 20, 50, seed=1), Centre(enrolled=0, active_days=0)]
    expected = sum(stats.nbinom.logpmf(c.enrolled, 1.7, 15 / (15 + c.active_days)) for c in centres)
    assert negbin_loglik(1.7, 15, centres) == pytest.approx(expected, rel=1e-10)


def test_fit_recovers_alpha_and_beta_from_simulated_centres():
    centres = simulated_centres(1.5, 20, 400, seed=7)
    fitted = fit_gamma_prior(centres)
    assert fitted is not None
    alpha, beta = fitted
    assert alpha == pytest.approx(1.5, rel=0.2)
    assert beta == pytest.approx(20, rel=0.2)
    assert alpha / beta == pytest.approx(1.5 / 20, rel=0.1)
    best = negbin_loglik(alpha, beta, centres)
    for da, db in ((1.02, 1), (0.98, 1), (1, 1.02), (1, 0.98), (1.02, 1.02)):
        assert negbin_loglik(alpha * da, beta * db, centres) < best


def test_fit_is_none_for_fewer_than_three_open_centres():
    centres = [
        Centre(enrolled=2, active_days=30),
        Centre(enrolled=9, active_days=40),
        Centre(enrolled=5, active_days=0),
    ]
    assert fit_gamma_prior(centres) is None


def test_fit_is_none_without_any_enrolment():
    assert fit_gamma_prior([Centre(enrolled=0, active_days=30)] * 5) is None


@pytest.mark.parametrize(
    "centres",
    [
        ILLUSTRATION,
        [Centre(enrolled=t // 10, active_days=t) for t in range(10, 300, 10)],
    ],
    ids=["identical", "proportional"],
)
def test_fit_is_none_for_under_dispersed_data(centres):
    assert fit_gamma_prior(centres) is None


def test_matched_gamma_is_exact_for_equal_rates():
    assert matched_gamma([(2.0, 5.0), (3.0, 5.0), (0.5, 5.0)]) == pytest.approx((5.5, 5.0))


def test_matched_gamma_matches_mean_and_variance():
    parts = [(2.0, 1.0), (3.0, 4.0), (7.0, 0.5)]
    shape, rate = matched_gamma(parts)
    assert shape / rate == pytest.approx(sum(a / b for a, b in parts))
    assert shape / rate**2 == pytest.approx(sum(a / b**2 for a, b in parts))


def test_simulation_with_everyone_open_now_agrees_with_closed_form():
    # 20 centres with the prior only, all opening today: total rate exactly Gamma(24, 10).
    result = forecast(
        prior=(1.2, 10),
        open_centres=[],
        unopened_in_days=[0.0] * 20,
        remaining=140,
        planned_days=60,
    )
    assert result is not None
    assert result.method == "simulated"
    assert result.low_days == pytest.approx(time_to_recruit_quantile(140, 24, 10, 0.05), rel=0.01)
    assert result.median_days == pytest.approx(time_to_recruit_quantile(140, 24, 10, 0.5), rel=0.01)
    assert result.high_days == pytest.approx(time_to_recruit_quantile(140, 24, 10, 0.95), rel=0.01)
    assert result.mean_days == pytest.approx(time_to_recruit_mean(140, 24, 10), rel=0.01)
    assert result.p_within_planned == pytest.approx(time_to_recruit_cdf(140, 24, 10, 60), abs=0.01)


def test_simulation_inverts_the_piecewise_intensity():
    # Independent check: P(T <= t) = E[P(Poisson(sum_j lambda_j (t - o_j)+) >= n)].
    opens = np.array([0.0] * 5 + [10.0, 25.0, 25.0, 60.0, 90.0])
    open_now = [Centre(enrolled=4, active_days=50)] * 5
    result = forecast(
        prior=(2.0, 40),
        open_centres=open_now,
        unopened_in_days=list(opens[5:]),
        remaining=60,
        planned_days=120,
    )
    assert result is not None
    shapes = np.array([6.0] * 5 + [2.0] * 5)
    rates = np.array([90.0] * 5 + [40.0] * 5)
    rng = np.random.default_rng(99)
    lam = rng.gamma(shapes, 1 / rates, size=(40000, 10))
    for t, p in ((result.median_days, 0.5), (result.high_days, 0.95), (120, None)):
        independent = stats.poisson.sf(59, lam @ np.maximum(t - opens, 0)).mean()
        assert independent == pytest.approx(p or result.p_within_planned, abs=0.015)


def test_centres_opening_later_delay_the_forecast():
    now = forecast(
        prior=(1.2, 10), open_centres=ILLUSTRATION, unopened_in_days=[0.0] * 5, remaining=140
    )
    later = forecast(
        prior=(1.2, 10), open_centres=ILLUSTRATION, unopened_in_days=[9.0] * 5, remaining=140
    )
    assert now is not None
    assert later is not None
    assert later.median_days > now.median_days


def test_when_every_centre_opens_later_the_forecast_shifts_by_that_delay():
    base = forecast(prior=(1.2, 10), open_centres=[], unopened_in_days=[0.0] * 8, remaining=30)
    shifted = forecast(prior=(1.2, 10), open_centres=[], unopened_in_days=[45.0] * 8, remaining=30)
    assert base is not None
    assert shifted is not None
    assert shifted.median_days == pytest.approx(base.median_days + 45)
    assert shifted.high_days == pytest.approx(base.high_days + 45)


def test_simulation_is_deterministic_for_a_seed():
    kwargs = {
        "prior": (1.2, 10),
        "open_centres": ILLUSTRATION,
        "unopened_in_days": [3.0, 8.0],
        "remaining": 140,
        "planned_days": 24,
    }
    assert forecast(**kwargs) == forecast(**kwargs)
    assert forecast(**kwargs, seed=1) != forecast(**kwargs)


def test_prior_is_fitted_from_open_centres_when_not_given():
    centres = simulated_centres(1.5, 20, 60, seed=3)
    fitted = fit_gamma_prior(centres)
    assert fitted is not None
    result = forecast(open_centres=centres, remaining=100)
    assert result == forecast(prior=fitted, open_centres=centres, remaining=100)
    assert result is not None
    assert result.method == "hierarchical"


def test_no_forecast_without_a_prior_or_pooled_prior():
    assert forecast(open_centres=ILLUSTRATION, remaining=140) is None


def test_unidentified_prior_falls_back_to_pooled_model():
    result = forecast(
        open_centres=ILLUSTRATION,
        remaining=140,
        pooled_prior=(10, 100),
        pooled_enrolled=60,
        pooled_elapsed_days=6,
    )
    assert result is not None
    assert result.method == "pooled"
    assert (result.shape, result.rate) == (70, 106)


@pytest.mark.parametrize("remaining", [0, -3])
def test_target_reached_is_done(remaining):
    result = forecast(open_centres=[], remaining=remaining, planned_days=30)
    assert result is not None
    assert result.method == "done"
    assert (result.median_days, result.low_days, result.high_days) == (0, 0, 0)
    assert result.p_within_planned == 1.0
    done = forecast(open_centres=[], remaining=0)
    assert done is not None
    assert done.p_within_planned is None


@pytest.mark.parametrize(
    "make",
    [
        lambda: Centre(enrolled=-1, active_days=5),
        lambda: Centre(enrolled=1, active_days=-2),
        lambda: Centre(enrolled=1, active_days=math.nan),
        lambda: Centre(enrolled=1.5, active_days=5),
        lambda: forecast(open_centres=[], remaining=5, unopened_in_days=[-1.0], prior=(1, 1)),
        lambda: forecast(open_centres=[], remaining=5, planned_days=-1.0),
        lambda: forecast(open_centres=[], remaining=5, pooled_enrolled=-1),
        lambda: forecast(open_centres=[], remaining=5, pooled_elapsed_days=math.inf),
        lambda: forecast(open_centres=ILLUSTRATION, remaining=5, prior=(0, 1)),
        lambda: forecast(open_centres=[], remaining=5, draws=0),
        lambda: matched_gamma([]),
        lambda: time_to_recruit_quantile(5, 2, 3, 1.0),
        lambda: pooled_prior_from_plan(target=0, planned_days=100),
    ],
)
def test_nonsense_input_is_refused(make):
    with pytest.raises(ValueError, match=r"must|needs"):
        make()
