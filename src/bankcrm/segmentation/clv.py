"""Customer lifetime value: BG/NBD for how often a customer will buy, Gamma-Gamma for how much.

From each customer's purchase history up to a calibration end date (built from a transaction log by
``clv_command``) this module fits the two models by maximum likelihood and predicts, per customer, the
expected number of transactions over a horizon, the probability that the customer is still active,
the expected spend per transaction and their product, the expected value.

* BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the easy way"): while active, a customer
  buys at Poisson rate lambda ~ Gamma(r, alpha); after each repeat purchase they drop out with
  probability p ~ Beta(a, b).
* Gamma-Gamma (Fader, Hardie & Lee 2005, "RFM and CLV"; Colombo & Jiang 1999): a customer's spend per
  transaction is Gamma(p, nu) with nu ~ Gamma(q, v), independent of how often they buy.

A history is counted in distinct purchase days (several transactions on one day are one purchase, their
amounts summed), as in the literature: ``frequency`` is the number of repeat purchase days, ``recency`` the
time from the first to the last purchase and ``T`` the time from the first purchase to the calibration
end, both in periods (a week is 7 days). The monetary value is the mean of the repeat purchases: the
first purchase is left out of it, as the Gamma-Gamma papers do.

Why our own fit and not a library (measured on this 2-core machine, November 2026, with numpy 2.4.6,
pandas 3.1.1 and scipy 1.17.1 in a scratch venv):

* ``lifetimes`` 0.11.3 reproduces the published CDNOW estimates and fits 1 M customers in 15 s, but
  its last release is from 2020; its fork btyd calls itself lifetimes' successor: not well kept.
* ``btyd`` 0.1a1 is an alpha from 2022 for Python 3.8/3.9 whose development moved to pymc-marketing;
  here it does not import (its pinned autograd 1.4 uses the removed ``inspect.getargspec``).
* ``pymc-marketing`` is well kept, but its current releases need Python 3.12, so this project (3.11)
  could only have the frozen 0.19.2. That brings about 60 packages (pymc, pytensor, arviz,
  matplotlib, seaborn ...; 957 MB of site-packages against 331 MB for scipy/pandas/numpy) and compiles
  C code at run time; its MAP fit with flat priors took 33 s for BG/NBD on 1 M customers from a cold
  compile cache plus 13 s for Gamma-Gamma on the 0.4 M repeat buyers, most of the 60 s budget.

The two likelihoods are closed-form, so they are written here from the papers' formulas as vectorised
numpy with analytic gradients and maximised with scipy's L-BFGS-B over the log parameters. Terms that
depend only on the purchase count are computed once per distinct count, and customers with the same
(x, t_x, T) are summed once, weighted (a log kept by day has few distinct histories). On 1 M customers
this fits BG/NBD in 2.5 s (day-dated log, 95,000 distinct histories) to 5.5 s (no two alike) and
Gamma-Gamma in 1.5 to 4 s; reproduction on CDNOW: r 0.2426, alpha 4.4135, a 0.7929, b 2.4258
(log-likelihood -9582.43) and p 6.2488, q 3.7446, v 15.4477. Reading the log and the
``bankcrm clv fit`` command are in ``clv_command``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import optimize, special

FloatArray = npt.NDArray[np.float64]


class ClvFitError(ValueError):
    """The data do not support the models (the optimiser failed or a parameter is out of range)."""


# --- the models --------------------------------------------------------------------------------


@dataclass(frozen=True)
class BgNbdFit:
    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float
    customers: int


@dataclass(frozen=True)
class GammaGammaFit:
    p: float
    q: float
    v: float
    log_likelihood: float
    customers: int


def _by_count(frequency: FloatArray) -> tuple[FloatArray, npt.NDArray[np.intp], FloatArray]:
    """Distinct purchase counts, each customer's index into them, and how many customers have each."""
    counts, index, sizes = np.unique(frequency, return_inverse=True, return_counts=True)
    return counts.astype(np.float64), index, sizes.astype(np.float64)


@dataclass(frozen=True)
class _Histories:
    """Distinct (x, t_x, T) histories with how many customers share each, grouped by purchase count.

    A log kept by day gives many customers the same history (every one-time buyer of the same day, for
    a start): a 1 M-customer bank had under 100,000 distinct ones, so the likelihood is summed over
    those, each weighted by its customers."""

    counts: FloatArray  # distinct purchase counts x
    index: npt.NDArray[np.intp]  # each history's position in counts
    sizes: FloatArray  # customers per distinct count
    weight: FloatArray  # customers per history
    recency: FloatArray
    age: FloatArray

    @classmethod
    def of(cls, frequency: FloatArray, recency: FloatArray, age: FloatArray) -> _Histories:
        order = np.lexsort((age, recency, frequency))
        x, t_x, big_t = frequency[order], recency[order], age[order]
        starts = np.flatnonzero(
            np.r_[True, (x[1:] != x[:-1]) | (t_x[1:] != t_x[:-1]) | (big_t[1:] != big_t[:-1])]
        )
        weight = np.diff(np.r_[starts, len(x)]).astype(np.float64)
        counts, index = np.unique(x[starts], return_inverse=True)
        sizes = np.bincount(index, weights=weight, minlength=len(counts)).astype(np.float64)
        return cls(counts.astype(np.float64), index, sizes, weight, t_x[starts], big_t[starts])


def _bgnbd_objective(log_params: FloatArray, data: _Histories) -> tuple[float, FloatArray]:
    """Minus the mean BG/NBD log-likelihood and its gradient with respect to the log parameters.

    Per customer (x repeat purchases, the last at t_x, observed for T):
    L = B(a, b+x)/B(a, b) * G(r+x) alpha^r / (G(r) (alpha+T)^(r+x))
        + [x > 0] B(a+1, b+x-1)/B(a, b) * G(r+x) alpha^r / (G(r) (alpha+t_x)^(r+x)).
    """
    r, alpha, a, b = np.exp(log_params)
    x, index, sizes, weight = data.counts, data.index, data.sizes, data.weight
    n = sizes.sum()
    repeat = x > 0
    # Per distinct count: the parts of the log-likelihood that do not depend on t_x or T.
    common = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha) - special.betaln(a, b)
    beta_alive = special.betaln(a, b + x)
    beta_gone = np.where(repeat, special.betaln(a + 1, b + np.maximum(x - 1, 0)), -np.inf)
    rx = (r + x)[index]
    log_alpha_age = np.log(alpha + data.age)
    log_alpha_recency = np.log(alpha + data.recency)
    alive_term = beta_alive[index] - rx * log_alpha_age
    gone_term = beta_gone[index] - rx * log_alpha_recency
    # log(exp(alive) + exp(gone)) by hand: numpy's logaddexp is several times slower on this machine.
    mixed = np.maximum(alive_term, gone_term) + np.log1p(np.exp(-np.abs(alive_term - gone_term)))
    total = float(np.dot(sizes, common) + np.dot(weight, mixed))
    # Each term's share of each history's likelihood, times its customers (the second is 0 for x = 0).
    w_alive = weight * np.exp(alive_term - mixed)
    w_gone = weight - w_alive
    psi_x = special.digamma(a + b + x)
    d_r = (
        np.dot(sizes, special.digamma(r + x) - special.digamma(r) + np.log(alpha))
        - np.dot(w_alive, log_alpha_age)
        - np.dot(w_gone, log_alpha_recency)
    )
    d_alpha = (
        r * n / alpha
        - np.dot(w_alive * rx, 1.0 / (alpha + data.age))
        - np.dot(w_gone * rx, 1.0 / (alpha + data.recency))
    )
    d_common_a = -(special.digamma(a) - special.digamma(a + b))
    d_common_b = -(special.digamma(b) - special.digamma(a + b))
    d_alive_a = special.digamma(a) - psi_x
    d_alive_b = special.digamma(b + x) - psi_x
    d_gone_a = np.where(repeat, special.digamma(a + 1) - psi_x, 0.0)
    d_gone_b = np.where(repeat, special.digamma(b + np.maximum(x - 1, 0)) - psi_x, 0.0)
    w_alive_by_count = np.bincount(index, weights=w_alive, minlength=len(x))
    w_gone_by_count = sizes - w_alive_by_count
    d_a = n * d_common_a + np.dot(w_alive_by_count, d_alive_a) + np.dot(w_gone_by_count, d_gone_a)
    d_b = n * d_common_b + np.dot(w_alive_by_count, d_alive_b) + np.dot(w_gone_by_count, d_gone_b)
    gradient = np.array([d_r * r, d_alpha * alpha, d_a * a, d_b * b]) / n
    return -total / n, -gradient


def bgnbd_log_likelihood(
    params: tuple[float, float, float, float], frequency: FloatArray, recency: FloatArray, age: FloatArray
) -> float:
    """The total BG/NBD log-likelihood of (r, alpha, a, b) for these customers."""
    value, _ = _bgnbd_objective(np.log(np.array(params)), _Histories.of(frequency, recency, age))
    return -value * len(frequency)


def fit_bgnbd(frequency: FloatArray, recency: FloatArray, age: FloatArray) -> BgNbdFit:
    """Maximum-likelihood r, alpha, a, b from each customer's frequency, recency and T (age)."""
    data = _Histories.of(frequency, recency, age)
    start = np.log(np.array([1.0, max(float(np.mean(age)), 1e-3), 1.0, 1.0]))
    result = optimize.minimize(
        _bgnbd_objective,
        start,
        args=(data,),
        jac=True,
        method="L-BFGS-B",
        bounds=[(-15.0, 15.0)] * 4,
        options={"maxiter": 2000, "ftol": 1e-14, "gtol": 1e-9},
    )
    if not np.all(np.isfinite(result.x)) or not np.isfinite(result.fun):
        raise ClvFitError(f"The BG/NBD fit did not converge ({result.message}).")
    r, alpha, a, b = (float(v) for v in np.exp(result.x))
    return BgNbdFit(r, alpha, a, b, float(-result.fun * len(frequency)), len(frequency))


def _gamma_gamma_objective(
    log_params: FloatArray,
    counts: FloatArray,
    index: npt.NDArray[np.intp],
    sizes: FloatArray,
    monetary: FloatArray,
    log_monetary: FloatArray,
    x: FloatArray,
) -> tuple[float, FloatArray]:
    """Minus the mean Gamma-Gamma log-likelihood of the mean spends and its gradient (log parameters).

    The mean m of x spends has density
    G(px+q) / (G(px) G(q)) * v^q * m^(px-1) * x^(px) / (v + m x)^(px+q).
    """
    p, q, v = np.exp(log_params)
    n = sizes.sum()
    by_count = special.gammaln(p * counts + q) - special.gammaln(p * counts) - special.gammaln(q)
    log_v_mx = np.log(v + monetary * x)
    px = p * x
    total = (
        np.dot(sizes, by_count)
        + n * q * np.log(v)
        + np.dot(px - 1.0, log_monetary)
        + np.dot(px, np.log(x))
        - np.dot(px + q, log_v_mx)
    )
    psi_pxq = special.digamma(p * counts + q)
    d_p = np.dot(sizes * counts, psi_pxq - special.digamma(p * counts)) + np.dot(
        x, log_monetary + np.log(x) - log_v_mx
    )
    d_q = np.dot(sizes, psi_pxq) - n * special.digamma(q) + n * np.log(v) - log_v_mx.sum()
    d_v = n * q / v - np.sum((px + q) / (v + monetary * x))
    gradient = np.array([d_p * p, d_q * q, d_v * v]) / n
    return -float(total) / n, -gradient


def gamma_gamma_log_likelihood(
    params: tuple[float, float, float], frequency: FloatArray, monetary: FloatArray
) -> float:
    """The total Gamma-Gamma log-likelihood of (p, q, v) for repeat buyers with a positive mean spend."""
    counts, index, sizes = _by_count(frequency)
    value, _ = _gamma_gamma_objective(
        np.log(np.array(params)), counts, index, sizes, monetary, np.log(monetary), frequency
    )
    return -value * len(frequency)


def fit_gamma_gamma(frequency: FloatArray, monetary: FloatArray) -> GammaGammaFit:
    """Maximum-likelihood p, q, v from repeat buyers' purchase counts and mean spends (all > 0)."""
    counts, index, sizes = _by_count(frequency)
    start = np.log(np.array([1.0, 1.0, max(float(np.mean(monetary)), 1e-3)]))
    result = optimize.minimize(
        _gamma_gamma_objective,
        start,
        args=(counts, index, sizes, monetary, np.log(monetary), frequency),
        jac=True,
        method="L-BFGS-B",
        bounds=[(-15.0, 15.0), (-15.0, 15.0), (-30.0, 30.0)],
        options={"maxiter": 2000, "ftol": 1e-14, "gtol": 1e-9},
    )
    if not np.all(np.isfinite(result.x)) or not np.isfinite(result.fun):
        raise ClvFitError(f"The Gamma-Gamma fit did not converge ({result.message}).")
    p, q, v = (float(value) for value in np.exp(result.x))
    if q <= 1.0:
        raise ClvFitError(
            f"The Gamma-Gamma fit gave q = {q:.4g}; the expected spend exists only for q > 1 "
            "(spend varies too much between customers for this model)."
        )
    return GammaGammaFit(p, q, v, float(-result.fun * len(frequency)), len(frequency))


def probability_alive(
    fit: BgNbdFit, frequency: FloatArray, recency: FloatArray, age: FloatArray
) -> FloatArray:
    """P(still active at T). A customer without repeat purchases cannot have dropped out: 1."""
    x = frequency
    # 1 / (1 + a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x)), in logs: the power overflows for a frequent
    # buyer who has been quiet a while (the answer is then 0, not a warning).
    log_ratio = np.log(fit.a / (fit.b + np.maximum(x, 1) - 1)) + (fit.r + x) * (
        np.log(fit.alpha + age) - np.log(fit.alpha + recency)
    )
    return np.asarray(np.where(x > 0, special.expit(-log_ratio), 1.0), dtype=np.float64)


def expected_transactions(
    fit: BgNbdFit, horizon: float, frequency: FloatArray, recency: FloatArray, age: FloatArray
) -> FloatArray:
    """E[purchases in (T, T + horizon]] given x, t_x and T (FHL 2005, equation 10).

    Equation 10 has ((alpha+T)/(alpha+T+t))^(r+x) * 2F1(r+x, b+x; a+b+x-1; z), z = t/(alpha+T+t): for a
    frequent buyer (hundreds of purchase days) the first factor underflows and the second overflows.
    Euler's transformation 2F1(A, B; C; z) = (1-z)^(C-A-B) 2F1(C-A, C-B; C; z) turns the product into
    (1-z)^(a-1) * 2F1(a+b-1-r, a-1; a+b+x-1; z), whose parameters on top stay small.
    """
    x = frequency
    # The closed form is 0/0 at a = 1 (removable); step just beside it, where the cancellation is mild.
    a = fit.a if abs(fit.a - 1.0) > 1e-6 else 1.0 + 1e-6
    z = horizon / (fit.alpha + age + horizon)
    both = (1.0 - z) ** (a - 1.0) * special.hyp2f1(a + fit.b - 1.0 - fit.r, a - 1.0, a + fit.b + x - 1.0, z)
    numerator = (a + fit.b + x - 1.0) / (a - 1.0) * (1.0 - both)
    return np.asarray(numerator * probability_alive(fit, frequency, recency, age), dtype=np.float64)


def expected_spend(fit: GammaGammaFit, frequency: FloatArray, monetary: FloatArray) -> FloatArray:
    """E[spend per transaction]: the customer's mean pulled towards the population mean p v / (q - 1)."""
    px = fit.p * frequency
    return np.asarray((fit.v + monetary * frequency) * fit.p / (px + fit.q - 1.0), dtype=np.float64)
