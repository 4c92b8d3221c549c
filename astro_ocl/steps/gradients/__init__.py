"""Galactic metallicity gradients (method step 8, paper Table 6).

[Fe/H] = a x^2 + b x + c is fitted for six age groups (< 0.1, 0.1-0.5, 0.5-1,
1-2, 2-4, > 4 Gyr; ages from Cantat-Gaudin et al. 2020 ``AgeNN``) with x the
Galactocentric radius RGC [kpc], the angular momentum LZ / 10^3 [kpc km/s] and
the orbital energy E / 10^5 [km^2/s^2], using only clusters with at least three
FLAG=12 stars; the 16/50/84 percentiles of (a, b, c) are reported.

Sub-modules: `~astro_ocl.steps.gradients.fit` (one fit: the exact Gaussian
posterior, emcee as the cross-check) and `~astro_ocl.steps.gradients.table`
(Table 6: age groups, abscissae, per-cluster errors, fallback sample, the
comparison with the published table); their public names are importable from here.
"""
from ...exceptions import ConvergenceWarning
from .fit import METHODS, GradientFit, fit_gradient
from .table import (AGE_GROUPS, DEFAULT_UNCERTAINTY, FU2022_UNCERTAINTY, X_VARIABLES,
                    GradientResult, compare_with_table6, gradient_table, gradients_for_catalogue)

__all__ = ["AGE_GROUPS", "X_VARIABLES", "METHODS", "DEFAULT_UNCERTAINTY", "FU2022_UNCERTAINTY",
           "GradientFit", "GradientResult", "ConvergenceWarning", "fit_gradient",
           "gradient_table", "gradients_for_catalogue", "compare_with_table6"]
