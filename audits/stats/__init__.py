"""The statistics of a QA audit: how many items to review, and what the reviewed items say.

Planning
    attribute_sample_size   how many conversations to review so that finding at most `k_allowed`
                            failures shows, at a confidence, that the failure rate is below the
                            tolerable rate (AICPA-style attribute sampling; binomial or, for a known
                            finite population, hypergeometric).
    margin_sample_size      how many items estimate a failure rate to +/- a margin (Cochran).
Evaluating one sample
    wilson, clopper_pearson two-sided intervals for the failure rate (Wilson for reporting,
                            Clopper-Pearson when coverage must never fall below nominal).
    upper_bound             the one-sided upper bound to compare with the tolerable rate.
    beta_binomial_posterior a Bayesian credible interval, e.g. to carry a prior audit forward.
Across nights
    sprt                    Wald's sequential probability ratio test of a supplier's failure rate
                            against the contract's ceiling (needs a breach rate p1 to detect).
    anytime_breach          an anytime-valid test (beta-binomial mixture e-value): re-test every
                            night, the false-breach probability stays under alpha.
Evaluating a stratified sample (strata = suppliers, channels, markets)
    stratified_estimate     the population-weighted failure rate with a finite population correction.
    design_weights, design_weighted_estimate
                            the same rate as a sum of per-item weights N_h / n_h, for item-level data.
"""

from audits.stats.agreement import AgreementError, cohen_kappa, fleiss_kappa, fleiss_table
from audits.stats.intervals import (
    Interval,
    beta_binomial_posterior,
    clopper_pearson,
    upper_bound,
    wilson,
)
from audits.stats.krippendorff import (
    krippendorff_alpha,
    krippendorff_alpha_long,
    percent_agreement,
    percent_agreement_long,
)
from audits.stats.sample_size import (
    SampleSize,
    attribute_sample_size,
    exact_ceil_product,
    margin_sample_size,
)
from audits.stats.sequential import SequentialResult, anytime_breach, sprt
from audits.stats.stratified import (
    StratifiedEstimate,
    StratumCounts,
    StratumResult,
    design_weighted_estimate,
    design_weights,
    stratified_estimate,
)

__all__ = [
    "AgreementError",
    "Interval",
    "SampleSize",
    "SequentialResult",
    "StratifiedEstimate",
    "StratumCounts",
    "StratumResult",
    "anytime_breach",
    "attribute_sample_size",
    "beta_binomial_posterior",
    "clopper_pearson",
    "cohen_kappa",
    "design_weighted_estimate",
    "design_weights",
    "exact_ceil_product",
    "fleiss_kappa",
    "fleiss_table",
    "krippendorff_alpha",
    "krippendorff_alpha_long",
    "margin_sample_size",
    "percent_agreement",
    "percent_agreement_long",
    "sprt",
    "stratified_estimate",
    "upper_bound",
    "wilson",
]
