"""Cluster radial velocity and [Fe/H] as a likelihood: intrinsic dispersion, binaries, outliers.

The paper's statistics (:func:`astro_ocl.steps.statistics.cluster_statistics`, the
method named ``"fu2022-montecarlo"``) take a median of the stars within 2 sigma of
the pooled mean, with an error from the measurement errors alone. Two stars that
disagree by 90 km/s then give a value with a 0.1 km/s error. Here a cluster value is
the parameter of a model of its stars (the method named ``"likelihood"``).

The model
---------
Star *i* of survey *s(i)* measures ``x_i`` with error ``e_i``; on the reference
scale its value is ``y_i = x_i - Delta_s(i)`` (the survey's zero point,
`astro_ocl.steps.zeropoints.fit_zero_points`, when one is applied). With
probability ``1 - f`` the star belongs to the cluster *core*,

    y_i ~ N(v, e_i^2 + sigma^2),

where ``sigma`` is the intrinsic dispersion (the cluster's internal motions,
and whatever part of the stars' errors the survey under-states; Gaia DR3's
validation on clusters finds bright stars 5-10 quoted errors from their cluster's
median, Gaia DR3 documentation, sect. 14.7.3). With probability
``f`` it is an *outlier*: a binary caught away from its centre-of-mass velocity,
a non-member, or a failed measurement,

    y_i ~ Cauchy(v, gamma_i),  gamma_i = sqrt(gamma^2 + e_i^2).

Why a Cauchy of half width ``gamma`` = 20 km/s (RV): the velocities of field stars
seen through a cluster scatter about the cluster's own (both follow the disc's
rotation) with the disc's line-of-sight dispersion of 20-30 km/s, and the orbital
velocities of binaries are sharply peaked with long tails (Cottaar et al. 2012, A&A
547, A35, Fig. 1); the heavy tails of the Cauchy keep a grossly wrong velocity
(APOGEE stars at -473 and +845 km/s in NGC 2243) from pulling ``v``: its pull falls
as 1/distance instead of growing with it. This is the mixture model of Hogg, Bovy &
Lang (2010, arXiv:1008.4686, sect. 3) with the cluster's own dispersion, and the
single-epoch binary model of Cottaar et al. (2012) with the binaries' velocity
distribution replaced by one broad component that also takes non-members. Cluster
catalogues built from Gaia and ground-based RVs (Soubiran et al. 2018, A&A 619,
A155; Tarricq et al. 2021, A&A 647, A19) give weighted means of the members; the
mixture gives the same weighted mean when no star is an outlier, and says when the
stars do not define one value.

[Fe/H] takes the same model without the outlier component (binaries do not change
[Fe/H]; the stars used for it are the RV core, the analogue of the paper's FLAG=1,
that pass the Teff/log g cuts of FLAG=12); a `QuantityModel` with an ``outlier_scale``
turns one on.

Priors: ``v`` flat; ``sigma`` flat on [0, ``sigma_max``] (20 km/s, 0.5 dex: far above
the internal dispersion of a bound cluster and the errors of any survey used here, so
a posterior that piles up at that edge says the stars do not agree, not that the prior
was tight); ``f`` flat on [0, ``outlier_fraction_max``] = [0, 0.5] (the core is the
majority of the stars: the members are astrometric members with probability >= 0.7,
and spectroscopic binary fractions of open clusters are ~30 %, Mermilliod et al. 2009,
A&A 498, 949).

The computation
---------------
The posterior of ``(f, v, sigma)`` on a grid that refines itself: the first grid spans
the stars' values (uniform nodes and the stars' quantiles), ``sigma`` in [0,
sigma_max] (log-spaced) and ``f`` in [0, f_max]. The prior of ``v`` is flat, so the
posterior of a few stars reaches far beyond them: with a dispersion the stars do not
constrain (up to ``sigma_max``) and the outlier component (with ``f > 0`` a tail
falling as ``|v|^-2n`` for *n* stars), two stars at 0 and 1 km/s with 0.1 km/s errors
have a posterior 16-84 % half width of 3.6 km/s. While the posterior at an end of the
``v`` grid is within e^-12 of its peak, the grid grows on that side by its own width
(the polynomial tails stop it: about +-200 km/s for those two stars; in the default
build no sample of more than 25 stars grows it). Each next grid puts half its nodes uniformly
(over the region within e^-15 of the peak, each separate mode of ``v`` keeping its own
interval, and over the central 99.8 % of the mass) and half at quantiles of the
current marginals, until the 16/50/84 % points of ``v`` and ``sigma`` move by less than
5 % of their 16-84 % range (2-7 passes; a grid that does not settle is used as it is,
and the log says so). Fewer than six stars get up to four times the nodes (their
marginal of ``v`` is a cusp on broad tails; a node costs in proportion to the stars).
Marginals by the trapezoid rule. No random numbers: the same stars give the same
numbers. Measured on the stars of the default build (every survey's and the combined
samples, RV and [Fe/H], 325 fits) against a grid four times finer in ``v`` and
``sigma`` with a 0.5 % tolerance: values agree to 0.05 of their error; errors of 2-3
stars to 1.5 %, of 4-7 stars to 4 %, of more stars to 2.3 % for 90 % of them (22 % at
worst: King 7's ten APOGEE stars, whose grid does not settle). A direct integral of
the model (tests/test_likelihood.py) agrees with the 2-3 star values to 3 %.

Reported:

* ``value``: the median of the marginal posterior of ``v``; ``error``: half its 16-84 %
  interval (which includes the uncertainty of ``sigma`` and of the outliers'
  membership; for a multimodal posterior, flag ``b``, at least the distance from the
  median to the farthest mode's peak, so that it spans the candidate values), in
  quadrature with the zero points' uncertainty, each survey's weighted by that
  survey's share of the core's weight (a zero point moves all the stars of a survey
  together, so it does not average down): ``sqrt(s^T C s)`` with ``s`` the shares
  and ``C`` the zero points' covariance, diagonal by default, ``C_ij = rho_ij e_i
  e_j`` with the correlations the zero-point fit records
  (``correlated_zero_points=True``: surveys tied to the reference through the same
  clusters have correlated offsets);
* ``sigma``, ``e_sigma``: median and half 16-84 % interval of the marginal of
  ``sigma``;
* ``n_core``: the sum over stars of ``p_core``, the posterior probability that the
  star belongs to the core;
* ``flag``, ``note``: :data:`FLAGS` (a string of one-letter codes, empty when the value
  is constrained) and the reason in words. ``b``: the posterior of ``v`` has two or
  more modes of at least 10 % of its mass; ``s``: the posterior of ``sigma`` at
  ``sigma_max`` is at least 90 % of its peak (it rises to the prior's edge); ``c``:
  ``n_core`` < 1.5.

One star (flag ``1``): its value; its error, the zero point's and the typical
intrinsic dispersion in quadrature. A star scatters about its cluster's value by the
cluster's intrinsic dispersion, which one star cannot measure: the typical one is the
median ``sigma`` of the clusters of the same table with at least 5 stars in the fit
and a constrained value (`widen_single_stars`; the table's meta and the row's note give
it). `fit_cluster` alone gives the star's own error; `likelihood_statistics` adds the
typical dispersion, and `astro_ocl.steps.zeropoints` weights the one-star values of its
fit by that error. The paper's method keeps the star's own value and error (the
published convention).

Sub-modules: `~astro_ocl.steps.likelihood.model` (one cluster's posterior) and
`~astro_ocl.steps.likelihood.clusters` (a table of matched stars).
"""
from .clusters import (LIKELIHOOD_COLUMNS, TYPICAL_MIN_STARS, UNCONSTRAINED_FLAGS,
                       likelihood_statistics, typical_dispersion, widen_single_stars,
                       zero_point_lookup)
from .model import (DEFAULT_METHOD, FEH_MODEL, FLAGS, METHODS, RV_MODEL, ClusterFit,
                    QuantityModel, fit_cluster)

__all__ = ["METHODS", "DEFAULT_METHOD", "FLAGS", "LIKELIHOOD_COLUMNS", "TYPICAL_MIN_STARS",
           "UNCONSTRAINED_FLAGS", "ClusterFit", "QuantityModel", "RV_MODEL", "FEH_MODEL",
           "fit_cluster", "likelihood_statistics", "typical_dispersion", "widen_single_stars",
           "zero_point_lookup"]
