"""The published catalogue of Fu et al. (2022) joined with its inputs (CG2020)."""
import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord

from .. import schema
from ..sources.clusters import join_cluster_parameters, read_cg2020_clusters, read_fu2022
from .common import KMS

__all__ = ["published_inputs"]


def published_inputs(*, fu=None, cg=None):
    """The published catalogue joined with its dynamical inputs.

    Parameters
    ----------
    fu : `~astropy.table.QTable`, optional
        The published catalogue (default `~astro_ocl.sources.clusters.read_fu2022`).
    cg : `~astropy.table.QTable`, optional
        Cantat-Gaudin et al. 2020 table1 (default the embedded copy).

    Returns
    -------
    `~astropy.table.QTable`
        The published columns, ``coord_pub`` (the published ``_RA, _DE``),
        ``CG_name`` (empty when not in CG2020), ``AgeNN``, ``GLON``, ``GLAT``,
        ``has_distance`` and ``coord``: CG2020 position, distance ``DistPc``,
        proper motions and the published ``RVmed`` as radial velocity (NaN
        distance where CG2020 has none). ``meta['malformed_names']`` lists
        published names that are not one cluster name.
    """
    fu = read_fu2022() if fu is None else fu
    cg = read_cg2020_clusters() if cg is None else cg
    cols = ("Dist", "pmRA", "pmDE", "AgeNN", "e_pmRA", "e_pmDE", "e_plx", "GLON", "GLAT")
    joined = join_cluster_parameters(fu["Cluster"], cols, catalogue=cg, split_pasted=True)
    known = np.asarray(joined["known"], bool)
    t = fu.copy()
    t["coord_pub"] = fu["coord"]
    t["CG_name"] = joined["Cluster"]
    dist = joined["Dist"].to(u.pc)
    t["has_distance"] = np.isfinite(dist.value) & (dist.value > 0)
    dist = np.where(t["has_distance"], dist.value, np.nan) * u.pc
    t["coord"] = SkyCoord(ra=joined["coord"].ra, dec=joined["coord"].dec, distance=dist,
                          pm_ra_cosdec=joined["pmRA"].to(u.mas / u.yr),
                          pm_dec=joined["pmDE"].to(u.mas / u.yr),
                          radial_velocity=u.Quantity(fu["RVmed"], KMS), frame="icrs")
    t["AgeNN"] = schema.log_age(joined["AgeNN"])
    for name in ("e_pmRA", "e_pmDE", "e_plx", "GLON", "GLAT"):
        t[name] = joined[name]
    t.meta["malformed_names"] = joined.meta["malformed_names"]
    t.meta["not_in_cg2020"] = [str(n) for n, k in zip(fu["Cluster"], known) if not k]
    return t
