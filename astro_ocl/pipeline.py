"""The catalogue build: method steps 1-6 wired together, with provenance.

:func:`build_catalogue` reads (or is given) the spectroscopic stars, the
cluster members and the cluster parameters, cross-matches them, runs the
quality control and the Monte Carlo, compares with the literature and returns
a :class:`CatalogueResult`.
"""
import datetime
import warnings
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord
from astropy.table import QTable

from .accounting import StageLog
from . import schema
from .sources.files import (cluster_resolver, read_cg2020_clusters, read_cg_members,
                            read_lamost)
from .config import conf
from .steps.crossmatch import (attach_source_ids, deduplicate_stars, join_members,
                               select_members, unique_pairs)
from .exceptions import DroppedRowsWarning, NoUsableDataError
from .logger import log
from .steps.montecarlo import draw, summarise
from .steps.quality import QualityCuts, parameter_flag, rv_flag
from .utils import atomic_directory, progress

__all__ = ["CatalogueResult", "build_catalogue", "cluster_rng", "clean_stars"]

REFERENCE = ("Fu X. et al. 2022, A&A 668, A4, 'LAMOST meets Gaia: the Galactic open "
             "clusters' (2022A&A...668A...4F)")


@dataclass
class CatalogueResult:
    """What :func:`build_catalogue` returns.

    Attributes
    ----------
    clusters : `~astropy.table.QTable`
        One row per cluster (labels of J/A+A/668/A4, see
        `astro_ocl.schema.CLUSTER_COLUMNS`) with a ``coord``
        `~astropy.coordinates.SkyCoord` (position, distance, proper motion and
        radial velocity ``RVmed``).
    members : `~astropy.table.QTable`
        One row per spectroscopic member star with its ``Flag`` (0, 1, 12).
    comparison : `~astropy.table.QTable`
        Offsets against each literature catalogue (paper Tables 1 and 3).
    matched : dict
        ``{(catalogue, quantity): matched table}`` behind ``comparison``.
    stage_log : `~astro_ocl.accounting.StageLog`
        Row counts of every stage and why rows were dropped.
    provenance : dict
        Package version, inputs, options, seed, date.
    """

    clusters: QTable
    members: QTable
    comparison: QTable = None
    matched: dict = field(default_factory=dict)
    stage_log: StageLog = field(default_factory=StageLog)
    provenance: dict = field(default_factory=dict)
    #: Paper Table 6 (`astro_ocl.steps.gradients.GradientResult`) and the clusters'
    #: Galactocentric positions 0-500 Myr ago (`astro_ocl.steps.dynamics.positions_back_in_time`);
    #: None when the build ran without orbits/gradients.
    gradients: object = None
    orbit_history: QTable = None

    def summary(self):
        """A short human-readable summary (what the CLI prints)."""
        c, m = self.clusters, self.members
        flags = np.asarray(m["Flag"])
        lines = [f"clusters: {len(c)}  member stars: {len(m)}  "
                 f"FLAG=1: {int(np.isin(flags, (1, 12)).sum())}  "
                 f"FLAG=12: {int((flags == 12).sum())}  FLAG=0: {int((flags == 0).sum())}"]
        if self.comparison is not None and len(self.comparison):
            lines.append("offsets, this catalogue minus literature (median, robust scatter, N):")
            for r in self.comparison:
                if r["N"]:
                    lines.append(f"  {r['catalogue']:<13s} {r['quantity']:<7s} "
                                 f"{r['median']:+8.3f} {r['robust_std']:7.3f} {r['unit']:<6s} "
                                 f"N={r['N']}")
        return "\n".join(lines)

    def write(self, outdir, *, overwrite=False, formats=("ecsv", "votable"), figures=False):
        """Write the catalogue into ``outdir``.

        ``clusters`` and ``members`` (in ``formats``), ``literature_comparison.ecsv``,
        ``stage_log.ecsv``, and when the result has them ``gradients.ecsv`` (paper
        Table 6) and ``orbit_history.ecsv`` (positions 0-500 Myr ago); with
        ``figures=True`` the paper's figures in ``figures/``. The whole directory is
        written atomically: a failure leaves the previous ``outdir`` (or nothing)
        in place, never a half-written one.

        Parameters
        ----------
        outdir : str or `~pathlib.Path`
            Output directory.
        overwrite : bool
            Replace an existing ``outdir``.
        formats : tuple of str
            Any of ``"ecsv"``, ``"votable"``.
        figures : bool
            Also draw the figures (`astro_ocl.sinks.figures.make_figures`, PNG and PDF).

        Returns
        -------
        list of `~pathlib.Path`
            The files written (at their final place).
        """
        from .sinks.tables import write_votable
        names = []
        with atomic_directory(outdir, overwrite=overwrite) as tmp:
            for label, table in (("clusters", self.clusters), ("members", self.members)):
                if "ecsv" in formats:
                    table.write(tmp / f"{label}.ecsv", format="ascii.ecsv")
                    names.append(f"{label}.ecsv")
                if "votable" in formats:
                    write_votable(table, tmp / f"{label}.vot", provenance=self.provenance)
                    names.append(f"{label}.vot")
            if self.comparison is not None:
                self.comparison.write(tmp / "literature_comparison.ecsv", format="ascii.ecsv")
                names.append("literature_comparison.ecsv")
            self.stage_log.as_table().write(tmp / "stage_log.ecsv", format="ascii.ecsv")
            names.append("stage_log.ecsv")
            if self.gradients is not None:
                self.gradients.table.write(tmp / "gradients.ecsv", format="ascii.ecsv")
                names.append("gradients.ecsv")
            if self.orbit_history is not None:
                self.orbit_history.write(tmp / "orbit_history.ecsv", format="ascii.ecsv")
                names.append("orbit_history.ecsv")
            if figures:
                from .sinks.figures import make_figures
                names += [str(f.relative_to(tmp)) for f in
                          make_figures(self, tmp / "figures")]
        return [Path(outdir) / n for n in names]


def cluster_rng(seed, cluster):
    """The random generator of one cluster: depends on the seed and the cluster name only.

    So a cluster gets the same draws whatever other clusters are built with it
    (the online build of a few clusters equals the offline build of all).

    Parameters
    ----------
    seed : int or None
        Global seed; None gives fresh entropy.
    cluster : str
        Cluster name.
    """
    if seed is None:
        return np.random.default_rng()
    return np.random.default_rng([int(seed), zlib.crc32(str(cluster).encode())])


def clean_stars(stars, *, stage_log):
    """Drop stars whose RV or RV error is missing or zero, with a counted warning.

    Parameters
    ----------
    stars : `~astropy.table.QTable`
        Canonical star table.
    stage_log : `~astro_ocl.accounting.StageLog`
    """
    rv = stars["rv"].to_value(u.km / u.s)
    erv = stars["e_rv"].to_value(u.km / u.s)
    no_rv = ~np.isfinite(rv)
    no_err = np.isfinite(rv) & ~np.isfinite(erv)
    zero_err = np.isfinite(rv) & np.isfinite(erv) & (erv == 0)
    bad = no_rv | no_err | zero_err
    dropped = {"missing rv": int(no_rv.sum()), "missing rv error": int(no_err.sum()),
               "zero rv error": int(zero_err.sum())}
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        warnings.warn(
            f"{int(bad.sum())} stars of {stars.meta.get('source', 'the input')} have no usable "
            f"radial velocity and are dropped "
            f"({', '.join(f'{v} {k}' for k, v in dropped.items() if v)}; first at row {first})",
            DroppedRowsWarning)
    stage_log.stage("usable RV", n_in=len(stars), n_out=int((~bad).sum()), dropped=dropped)
    return stars[~bad]


def _as_float(col):
    return np.asarray(getattr(col, "value", col), float)


def _cluster_statistics(matched, *, n_realisations, seed, cuts, show_progress):
    """Per-cluster FLAG=1/FLAG=12 and Monte Carlo statistics."""
    names = np.asarray(matched["Cluster"]).astype(str)
    rv = matched["rv"].to_value(u.km / u.s)
    erv = matched["e_rv"].to_value(u.km / u.s)
    feh, efeh = _as_float(matched["feh"]), _as_float(matched["e_feh"])
    param_ok = parameter_flag(matched["teff"], matched["logg"], matched["feh"],
                              matched["e_feh"], cuts=cuts)
    flags = np.zeros(len(matched), int)
    rows = []
    unique = np.unique(names)
    for name in progress(unique, desc="clusters", enabled=show_progress):
        idx = np.flatnonzero(names == name)
        rng = cluster_rng(seed, name)
        rv_draws = draw(rv[idx], erv[idx], n_realisations, rng)
        if idx.size == 1:
            f1 = np.array([True])
        else:
            f1, _, _ = rv_flag(rv_draws, nsigma=cuts.rv_nsigma, values=rv[idx])
        rv_stats = summarise(rv_draws[:, f1], rv[idx][f1], erv[idx][f1])
        f12 = f1 & param_ok[idx]
        feh_draws = draw(feh[idx][f12], efeh[idx][f12], n_realisations, rng)
        feh_stats = summarise(feh_draws, feh[idx][f12], efeh[idx][f12])
        flags[idx[f1]] = 1
        flags[idx[f12]] = 12
        rows.append((name, idx.size, rv_stats, feh_stats))
    return rows, flags


def _cluster_table(rows, cg, *, stage_log):
    """Assemble the cluster QTable from the statistics and the CG2020 parameters."""
    kms = u.km / u.s
    t = QTable()
    t["Cluster"] = [r[0] for r in rows]
    cg_names = np.asarray(cg["Cluster"]).astype(str)
    pos = {n: i for i, n in enumerate(cg_names)}
    idx = np.array([pos.get(n, -1) for n in t["Cluster"]])
    known = idx >= 0
    if not known.all():
        missing = list(np.asarray(t["Cluster"])[~known])
        warnings.warn(f"{len(missing)} clusters have no Cantat-Gaudin 2020 parameters "
                      f"(e.g. {missing[0]}): their position, distance and age are NaN",
                      DroppedRowsWarning)
    safe = np.where(known, idx, 0)

    def cgcol(name):
        col = cg[name][safe]
        val = u.Quantity(col) if hasattr(col, "unit") and col.unit is not None else \
            np.asarray(col, float)
        val = val.copy()
        val[~known] = np.nan
        return val

    ra = u.Quantity(cg["coord"].ra[safe])
    dec = u.Quantity(cg["coord"].dec[safe])
    ra[~known] = np.nan
    dec[~known] = np.nan
    rvmed = np.array([r[2].med for r in rows]) * kms
    dist = cgcol("Dist").to(u.pc)
    pmra, pmde = cgcol("pmRA"), cgcol("pmDE")
    t["coord"] = SkyCoord(ra=ra, dec=dec, distance=np.where(np.isfinite(dist), dist, np.nan * u.pc),
                          pm_ra_cosdec=pmra, pm_dec=pmde, radial_velocity=rvmed, frame="icrs")
    for name in ("GLON", "GLAT", "r50", "plx", "e_plx", "pmRA", "e_pmRA", "pmDE", "e_pmDE",
                 "Dist", "AgeNN"):
        t[name] = cgcol(name)
    t["Nall"] = np.array([r[1] for r in rows])
    t["Nflag1"] = np.array([r[2].n for r in rows])
    t["RVmed"] = rvmed
    t["e_RVmed"] = np.array([r[2].e_med for r in rows]) * kms
    t["RVmean"] = np.array([r[2].mean for r in rows]) * kms
    t["e_RVmean"] = np.array([r[2].e_mean for r in rows]) * kms
    t["s_RV"] = np.array([r[2].std for r in rows]) * kms
    t["Nflag12"] = np.array([r[3].n for r in rows])
    t["[Fe/H]med"] = np.array([r[3].med for r in rows]) * u.dex
    t["e_[Fe/H]med"] = np.array([r[3].e_med for r in rows]) * u.dex
    t["[Fe/H]mean"] = np.array([r[3].mean for r in rows]) * u.dex
    t["e_[Fe/H]mean"] = np.array([r[3].e_mean for r in rows]) * u.dex
    t["s_[Fe/H]"] = np.array([r[3].std for r in rows]) * u.dex
    schema.apply_schema(t, schema.CLUSTER_COLUMNS)
    t["coord"].info.description = ("ICRS position, distance, proper motion (CG2020) and "
                                   "radial velocity RVmed")
    stage_log.stage("clusters", n_in=len(t), n_out=len(t),
                    note=f"{int((t['Nflag12'] == 0).sum())} clusters without [Fe/H] "
                         "(no FLAG=12 star)")
    return t


def _member_table(matched, flags):
    m = QTable()
    m["Cluster"] = matched["Cluster"]
    m["GaiaDR2"] = np.asarray(matched["source_id"], dtype=np.int64)
    m["coord"] = matched["member_coord"] if "member_coord" in matched.colnames \
        else matched["coord"]
    if "member_parallax" in matched.colnames:
        m["plx"] = matched["member_parallax"]
    elif "parallax" in matched.colnames:
        m["plx"] = matched["parallax"]
    for src, dst in (("gmag", "Gmag"), ("bpmag", "BPmag"), ("rpmag", "RPmag")):
        if src in matched.colnames:
            m[dst] = matched[src]
        elif src == "gmag" and "member_gmag" in matched.colnames:
            m[dst] = matched["member_gmag"]
    m["PMemb"] = matched["proba"]
    for src, dst in (("rv", "RV"), ("e_rv", "e_RV"), ("teff", "Teff"), ("e_teff", "e_Teff"),
                     ("logg", "logg"), ("e_logg", "e_logg"), ("feh", "[Fe/H]"),
                     ("e_feh", "e_[Fe/H]"), ("snrg", "SNRg")):
        if src in matched.colnames:
            m[dst] = matched[src]
    m["Flag"] = flags
    schema.apply_schema(m, schema.MEMBER_COLUMNS)
    m["coord"].info.description = "ICRS position and proper motion (Gaia DR2, epoch J2015.5)"
    return m


def build_catalogue(*, stars=None, members=None, cluster_params=None, gaia_sources=None,
                    clusters=None, membership_threshold=None, n_realisations=None, seed=None,
                    cuts=None, match_radius=None, epoch=None, literature=True, online=False,
                    show_progress=None, orbits=True, orbit_samples=100, gradients=False,
                    **online_options):
    """Build the open-cluster catalogue (Fu et al. 2022 method steps 1-6).

    With no arguments it runs offline on the real embedded sample: 691 LAMOST
    LRS stars, Cantat-Gaudin members of 19 clusters and CG2020 table1.

    Parameters
    ----------
    stars : `~astropy.table.QTable`, str or `~pathlib.Path`, optional
        Spectroscopic stars (canonical table from
        `~astro_ocl.sources.read_lamost`, or a file it can read).
    members : `~astropy.table.QTable`, str or `~pathlib.Path`, optional
        Cluster members (`~astro_ocl.sources.read_cg_members` layout).
    cluster_params : `~astropy.table.QTable`, optional
        Cluster parameters (`~astro_ocl.sources.read_cg2020_clusters` layout).
    gaia_sources : `~astropy.table.QTable`, optional
        Gaia sources (``source_id``, ``coord`` with proper motions) used to give
        stars without a ``source_id`` one by position.
    clusters : list of str, optional
        Restrict to these clusters (any spelling; unknown names raise
        `~astro_ocl.exceptions.UnknownClusterError`).
    membership_threshold : float, optional
        Minimum membership probability (default ``conf.membership_threshold``, 0.7).
    n_realisations : int, optional
        Monte Carlo realisations K (default ``conf.n_realisations``, 5000).
    seed : int, optional
        Random seed; with the same seed the result is identical.
    cuts : `~astro_ocl.steps.quality.QualityCuts`, optional
        Quality-control thresholds.
    match_radius : `~astropy.units.Quantity`, optional
        Positional match radius (default ``conf.match_radius_arcsec``, 3.5 arcsec).
    epoch : `~astropy.time.Time` or str, optional
        Epoch of the star positions for the positional match.
    literature : bool or list or dict
        Compare with the embedded literature catalogues (True), some of them
        (names), given tables, or not at all (False).
    online : bool
        Fetch the inputs from the live services instead (see
        `astro_ocl.sources.archives.online`); ``online_options`` go there.
    show_progress : bool, optional
        Progress bars (default: on a terminal).
    orbits : bool
        Add Galactocentric positions, velocities, integrals of motion and orbits
        (`astro_ocl.steps.dynamics.orbit_parameters`, method step 7) to the cluster table.
    orbit_samples : int
        Monte Carlo orbits per cluster for their ``e_`` uncertainties (0: none).
    gradients : bool
        Fit the metallicity gradients (paper Table 6, method step 8) on the
        clusters, or on the embedded Zhong et al. (2020) clusters when the
        catalogue has too few (`astro_ocl.steps.gradients.gradients_for_catalogue`).
        Off by default here (some seconds of MCMC); ``astro-ocl build`` fits them.

    Returns
    -------
    CatalogueResult
    """
    if online:
        from .sources.archives.online import fetch_inputs
        fetched = fetch_inputs(clusters=clusters, membership_threshold=membership_threshold,
                               **online_options)
        stars = fetched["stars"] if stars is None else stars
        members = fetched["members"] if members is None else members
        cluster_params = fetched["cluster_params"] if cluster_params is None else cluster_params
    elif online_options:
        raise TypeError(f"unexpected options {sorted(online_options)} (only with online=True)")
    threshold = conf.membership_threshold if membership_threshold is None \
        else float(membership_threshold)
    n_realisations = conf.n_realisations if n_realisations is None else int(n_realisations)
    if n_realisations < 2:
        raise ValueError(f"n_realisations must be at least 2, got {n_realisations}")
    cuts = QualityCuts() if cuts is None else cuts
    radius = u.Quantity(conf.match_radius_arcsec if match_radius is None else match_radius,
                        u.arcsec)
    stage_log = StageLog()
    started = datetime.datetime.now(datetime.timezone.utc)

    cg = cluster_params if cluster_params is not None else read_cg2020_clusters()
    resolver = cluster_resolver(cg)
    if stars is None or not isinstance(stars, QTable):
        stars = read_lamost(stars)
    if members is None or not isinstance(members, QTable):
        members = read_cg_members(members, resolver=resolver)
    stage_log.stage("input stars", n_in=len(stars), n_out=len(stars),
                    note=str(stars.meta.get("source", "")))

    if clusters is not None:
        if isinstance(clusters, str):
            clusters = [clusters]
        wanted = sorted({resolver.resolve(c) for c in clusters})
        keep = np.isin(np.asarray(members["Cluster"]).astype(str), wanted)
        stage_log.stage("requested clusters", n_in=len(members), n_out=int(keep.sum()),
                        dropped={"member of another cluster": int((~keep).sum())})
        members = members[keep]
    else:
        wanted = None

    stars = clean_stars(stars, stage_log=stage_log)
    positional = "source_id" not in stars.colnames
    if positional:
        if gaia_sources is None:
            raise NoUsableDataError(
                "the stars have no Gaia source_id; pass gaia_sources= (Gaia sources with "
                "proper motions) to cross-match them by position")
        stars = attach_source_ids(stars, gaia_sources, radius=radius, epoch=epoch,
                                  stage_log=stage_log)
    else:
        stars = deduplicate_stars(stars, stage_log=stage_log)
    selected = select_members(members, threshold=threshold, stage_log=stage_log)
    matched = join_members(stars, selected, stage_log=stage_log)
    if positional:
        matched = unique_pairs(matched, stage_log=stage_log)

    if wanted is not None:
        empty = sorted(set(wanted) - set(np.asarray(matched["Cluster"]).astype(str)))
        if empty:
            warnings.warn(f"{len(empty)} requested clusters have no usable spectroscopic "
                          f"member and are left out: {', '.join(empty)}", DroppedRowsWarning)
            stage_log.stage("requested clusters with members", n_in=len(wanted),
                            n_out=len(wanted) - len(empty),
                            dropped={"no usable spectroscopic member": len(empty)})

    rows, flags = _cluster_statistics(matched, n_realisations=n_realisations, seed=seed,
                                      cuts=cuts, show_progress=show_progress)
    cluster_table = _cluster_table(rows, cg, stage_log=stage_log)
    member_table = _member_table(matched, flags)

    provenance = {
        "package": "astro_ocl", "version": _package_version(),
        "date": started.isoformat(timespec="seconds"),
        "method": REFERENCE,
        "stars": str(stars.meta.get("source", "<table>")),
        "members": str(members.meta.get("source", "<table>")),
        "cluster_params": str(cg.meta.get("source", "<table>")),
        "membership_threshold": threshold, "n_realisations": n_realisations,
        "seed": "none" if seed is None else int(seed),
        "match_radius": str(radius), **{f"qc_{k}": v for k, v in cuts.as_meta().items()},
    }
    for t in (cluster_table, member_table):
        t.meta.update(provenance)
    cluster_table.meta["description"] = "Open clusters: LAMOST radial velocities and [Fe/H]"
    member_table.meta["description"] = "LAMOST member stars of the clusters, with quality flags"

    comparison, matched_lit = None, {}
    if literature is not False:
        from .steps.compare import literature_comparison
        comparison, matched_lit = literature_comparison(
            cluster_table, None if literature is True else literature)
    # ---- stage: orbits and gradients (method steps 7-8; astro_ocl.steps.dynamics/gradients) ----
    orbit_history = gradient_result = None
    if orbits:
        from .steps.dynamics import orbit_parameters, positions_back_in_time
        names = np.asarray(cluster_table["Cluster"]).astype(str)
        orb = orbit_parameters(cluster_table, n_samples=orbit_samples,
                               rngs=[cluster_rng(seed, f"orbit:{n}") for n in names],
                               progress=show_progress)
        for name in orb.colnames:
            if name != "Cluster":
                cluster_table[name] = orb[name]
        have = np.isfinite(np.asarray(orb["Energy"], float))
        # clusters without an orbit stay in the table (orbit columns NaN): a note, no drop
        stage_log.stage("orbits", n_in=len(cluster_table), n_out=len(cluster_table),
                        note=f"McMillan17, {orbit_samples} Monte Carlo orbits per cluster; "
                             f"{int((~have).sum())} clusters without distance, proper motion "
                             "or RV have NaN orbit columns")
        cluster_table.meta.update({f"orbit_{k}": v for k, v in orb.meta.items()})
        provenance["orbit_samples"] = int(orbit_samples)
        orbit_history = positions_back_in_time(cluster_table[have])
    if gradients:
        from .steps.gradients import gradients_for_catalogue
        gradient_result = gradients_for_catalogue(cluster_table if orbits else None, seed=seed,
                                                  progress=show_progress)
    # ---- end of the orbits and gradients stage ----------------------------------------
    log.info("built %d clusters from %d member stars", len(cluster_table), len(member_table))
    return CatalogueResult(clusters=cluster_table, members=member_table, comparison=comparison,
                           matched=matched_lit, stage_log=stage_log, provenance=provenance,
                           gradients=gradient_result, orbit_history=orbit_history)


def _package_version():
    from . import __version__
    return __version__
