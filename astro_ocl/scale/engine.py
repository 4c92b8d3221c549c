"""The survey-scale engine: method steps 3-5 and 7 on HATS partitions, run by Dask.

Nothing here re-implements a rule of the method: each Dask task calls the
functions of :mod:`astro_ocl.steps` on one partition.

========================  =============================================================
step                      how it is distributed
========================  =============================================================
usable RV, members        `~astro_ocl.steps.statistics.clean_stars` and the probability
                          cut per HATS partition of the stars and of the members
member join (Gaia id)     the ids of the selected members go to every star partition,
                          which keeps only stars that are members (a semi-join);
                          `~astro_ocl.steps.crossmatch.deduplicate_stars` and
                          `~astro_ocl.steps.crossmatch.join_members` then run on those
positional match          ``lsdb`` cross-match of the stars without a Gaia id against
                          the Gaia catalogue (with its margin), each pixel pair by
                          `~astro_ocl.steps.crossmatch.sky_match`: same radius, same
                          epoch propagation, every source inside the radius kept; then
                          `~astro_ocl.steps.crossmatch.join_members` and
                          `~astro_ocl.steps.crossmatch.unique_pairs`
Monte Carlo, flags        `~astro_ocl.steps.statistics.cluster_statistics` on a Dask bag
                          of clusters (each cluster's stream comes from the seed and its
                          name: the partitioning does not change a number)
orbits                    `~astro_ocl.steps.dynamics.orbit_parameters` on a Dask bag of
                          clusters (streams from the seed and ``"orbit:" + name``)
========================  =============================================================

Rows are put back in the order of the input tables (column
:data:`~astro_ocl.scale.tables.ROW`) before the member join, so the matched table,
the flags and every cluster value equal the in-memory engine's.
"""
import os
import warnings
from contextlib import ExitStack

import astropy.units as u
import numpy as np
from astropy.table import QTable, vstack
from astropy.time import Time

from ..accounting import StageLog, Stages
from ..engines.base import Matched
from ..exceptions import (AstroOCLError, DroppedRowsWarning, InputDataError,
                          NoUsableDataError, ScaleError)
from ..logger import log
from ..sources.gaia_ids import gaia_release, id_pairs
from ..steps.gaia_ids import (apply_neighbour_choice, neighbour_choice, needs_translation,
                              translation_counts, translation_note)
from ..steps.crossmatch import (deduplicate_stars, join_members, select_members, sky_match,
                                survey_id_key, unique_pairs, without_gaia_sources)
from ..steps.dynamics import orbit_parameters
from ..steps.likelihood import LIKELIHOOD_COLUMNS, likelihood_statistics, widen_single_stars
from ..steps.statistics import STATISTICS_COLUMNS, clean_stars, cluster_rng, cluster_statistics
from ..utils import progress, require
from .catalogues import gaia_sources_from_archive_columns, hats_input
from .tables import ROW

__all__ = ["LsdbEngine", "MARGIN_EXTRA"]

#: Margin (arcsec) added to the match radius around each Gaia partition: room for
#: the proper-motion propagation (1 arcsec/yr over 10 yr).
MARGIN_EXTRA = 10.0


# ---- partition tasks (module level: pickled to the workers) ---------------------------------

def _members_partition(frame, canonical, wanted, threshold):
    """Members of one partition above the threshold (and in ``wanted``), with counts."""
    t = canonical(frame)
    counts = {"n": len(t), "other_cluster": 0, "below": 0}
    if wanted is not None:
        keep = np.isin(np.asarray(t["Cluster"]).astype(str), wanted)
        counts["other_cluster"] = int((~keep).sum())
        t = t[keep]
    above = np.asarray(t["proba"]) >= threshold
    counts["below"] = int((~above).sum())
    return t[above], counts


def _stars_partition(frame, canonical, member_ids, choice=None):
    """Usable stars of one partition: those with a member's Gaia id, and counts
    (``choice``: their DR2 ids translated to DR3 first, as the members')."""
    t = canonical(frame)
    n, sl, translated = len(t), StageLog(), {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if choice is not None:
            t = apply_neighbour_choice(t, choice, stage_log=sl)
            translated = translation_counts(t)
        t = clean_stars(t, stage_log=sl)
    if "source_id" in t.colnames:
        has_id = ~np.ma.getmaskarray(t["source_id"])
    else:
        has_id = np.zeros(len(t), bool)
    ids = np.asarray(np.ma.getdata(t["source_id"]), np.int64)[has_id] if has_id.any() \
        else np.array([], np.int64)
    member = np.zeros(len(t), bool)
    member[has_id] = np.isin(ids, member_ids)
    key = survey_id_key(t)
    n_dup = len(t) - int(np.unique(np.asarray(t[key])).size) if key and len(t) else 0
    return dict(log=sl.to_records(),
                warnings=[str(w.message) for w in caught
                          if issubclass(w.category, DroppedRowsWarning)],
                ids=np.unique(ids), n_id=int(has_id.sum()), n_pos=int((~has_id).sum()),
                candidates=t[member], key=key, n_dup=n_dup, n=n, translated=translated)


def _id_pairs_partition(frame, canonical):
    """The DR2/DR3 id pairs the stars of one partition carry (None without DR3 ids)."""
    t = canonical(frame)
    if "source_id" not in t.colnames or "dr3_source_id" not in t.colnames:
        return None
    return id_pairs(t)


def _no_id_partition(frame, canonical):
    """Rows of a star partition without a Gaia id and with a usable RV (for the match);
    stars known by a survey id only keep one spectrum each (`deduplicate_stars`: the
    repeated spectra of a star share its position, hence its partition)."""
    t = canonical(frame)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = clean_stars(t, stage_log=StageLog())
        key = survey_id_key(t)
        if "source_id" in t.colnames:
            t = t[np.ma.getmaskarray(t["source_id"])]
        elif key:
            t = deduplicate_stars(_sorted(t), key=key, stage_log=StageLog())
    return frame[np.isin(np.asarray(frame[ROW]), np.asarray(t[ROW]))]


def _pairs_partition(frame, member_ids, canonical, star_cols, sep_col, n_col, src_col):
    """Cross-match pairs of one partition whose Gaia source is a selected member."""
    n_pairs = len(frame)
    n_stars = int(np.unique(np.asarray(frame[ROW])).size) if n_pairs else 0
    keep = np.isin(np.asarray(frame[src_col], np.int64), member_ids)
    sub = frame[keep]
    t = canonical(sub[star_cols])
    if "source_id" in t.colnames:
        t.remove_column("source_id")
    t["source_id"] = np.asarray(sub[src_col], np.int64)
    t["match_sep"] = np.asarray(sub[sep_col], float) * u.arcsec
    t["match_sep"].info.description = ("Separation of the LAMOST and (propagated) Gaia "
                                       "positions")
    t["n_match"] = np.asarray(sub[n_col], np.int64)
    t["n_match"].info.description = "Number of Gaia sources within the match radius"
    t["star_row"] = np.asarray(t[ROW], np.int64)
    t["star_row"].info.description = "Row of the star in the input table"
    return dict(n_pairs=n_pairs, n_stars=n_stars, pairs=t)


def _stats_partition(groups, n_realisations, seed, cuts):
    """Monte Carlo statistics of a partition of clusters: [(stats, rows, flags)]."""
    out = []
    for sub in groups:
        stats, flags = cluster_statistics(sub, n_realisations=n_realisations, seed=seed,
                                          cuts=cuts, show_progress=False)
        out.append((stats, np.asarray(sub["_matched_row"]), flags))
    return out


def _likelihood_partition(groups, zero_points, cuts, correlated):
    """Likelihood statistics of a partition of clusters: [(cluster rows, star rows, stars)]."""
    out = []
    for sub in groups:
        # single-star errors: the typical dispersion of all the clusters, added after
        fits, stars = likelihood_statistics(sub, zero_points=zero_points, cuts=cuts,
                                            show_progress=False, single_star_dispersion=False,
                                            correlated_zero_points=correlated)
        out.append((fits, np.asarray(sub["_matched_row"]), stars))
    return out


def _orbits_partition(chunks, n_samples, seed, convention, kwargs):
    out = []
    for rows, sub in chunks:
        names = np.asarray(sub["Cluster"]).astype(str)
        # one process per Dask worker: the workers already spread the clusters
        out.append((rows, orbit_parameters(sub, n_samples=n_samples,
                                           rngs=[cluster_rng(seed, f"orbit:{n}") for n in names],
                                           progress=False, convention=convention, n_jobs=1,
                                           **kwargs)))
    return out


def _sky_match_algorithm():
    """The lsdb cross-match algorithm that runs `~astro_ocl.steps.crossmatch.sky_match`."""
    import pandas as pd
    import pyarrow as pa
    from astropy.coordinates import SkyCoord
    from lsdb.core.crossmatch.abstract_crossmatch_algorithm import AbstractCrossmatchAlgorithm

    class StepsSkyMatch(AbstractCrossmatchAlgorithm):
        """All Gaia sources within the radius of each star (`sky_match`, per pixel pair)."""

        extra_columns = pd.DataFrame({
            "match_sep_arcsec": pd.Series(dtype=pd.ArrowDtype(pa.float64())),
            "n_match": pd.Series(dtype=pd.ArrowDtype(pa.int64()))})

        def __init__(self, *, radius, epoch, gaia):
            super().__init__()
            self.radius, self.epoch, self.gaia = radius, epoch, gaia

        def perform_crossmatch(self, args):
            left, right = args.left_df, args.right_df
            info = args.left_catalog_info
            stars = SkyCoord(ra=left[info.ra_column].to_numpy(float) * u.deg,
                             dec=left[info.dec_column].to_numpy(float) * u.deg, frame="icrs")
            sources = self.gaia(right)["coord"]
            i_star, i_src, sep = sky_match(stars, sources, radius=self.radius, epoch=self.epoch)
            counts = np.bincount(i_star, minlength=len(left))
            extra = pd.DataFrame({
                "match_sep_arcsec": pd.Series(sep.to_value(u.arcsec),
                                              dtype=pd.ArrowDtype(pa.float64())),
                "n_match": pd.Series(counts[i_star], dtype=pd.ArrowDtype(pa.int64()))})
            return i_star, i_src, extra

    return StepsSkyMatch


def _gaia_reader(path=None, *, table=None, **kwargs):
    """Gaia sources from a file or a partition in the Gaia archive's columns."""
    if table is None:
        from astropy.table import Table
        table = Table.read(path)
    return gaia_sources_from_archive_columns(table=table, **kwargs)


class LsdbEngine:
    """Steps 1-5 and 7 of the build on HATS catalogues with LSDB, run by Dask.

    Follows the build-engine protocol `astro_ocl.engines.base.Engine` (as
    `~astro_ocl.engines.memory.MemoryEngine` does in memory).

    Use it as a context manager: without a ``client`` it starts a
    `distributed.LocalCluster` (one single-threaded worker process per core, or
    ``n_workers``) and closes it on exit, also on an error or an interrupt, so no
    worker process is left behind. With ``scheduler`` it connects to a running
    Dask scheduler (e.g. one started by ``dask-jobqueue`` on SLURM).

    Parameters
    ----------
    client : `distributed.Client`, optional
        An existing client (kept open).
    scheduler : str, optional
        Address of a running scheduler (``tcp://host:8786``).
    n_workers : int, optional
        Workers of the local cluster (default: the machine's cores).
    cache_dir : str or `~pathlib.Path`, optional
        Where imported HATS catalogues are kept
        (`~astro_ocl.scale.catalogues.default_hats_cache`).
    partition_rows : int, optional
        Rows per HATS partition of imported inputs.
    show_progress : bool, optional
        Progress bars over partitions.
    """

    name = "lsdb"

    def __init__(self, *, client=None, scheduler=None, n_workers=None, cache_dir=None,
                 partition_rows=None, show_progress=None):
        for module in ("lsdb", "hats_import", "distributed"):
            require(module, feature="the survey-scale engine (engine='lsdb')")
        self.client, self._scheduler, self._n_workers = client, scheduler, n_workers
        self.cache_dir, self.partition_rows = cache_dir, partition_rows
        self.show_progress = show_progress
        self._stack = None
        #: (stage, partitions, seconds) of every Dask computation, in order (for
        #: benchmarks; the build reads nothing the engine keeps)
        self.timings = []

    # ---- the Dask cluster -----------------------------------------------------------------
    def __enter__(self):
        from distributed import Client, LocalCluster
        self._stack = ExitStack()
        try:
            if self.client is None and self._scheduler:
                self.client = self._stack.enter_context(Client(self._scheduler))
                self._origin = f"scheduler {self._scheduler}"
            elif self.client is None:
                n = int(self._n_workers or os.cpu_count() or 1)
                cluster = self._stack.enter_context(LocalCluster(
                    n_workers=n, threads_per_worker=1, processes=True,
                    dashboard_address="127.0.0.1:0"))
                self.client = self._stack.enter_context(Client(cluster))
                self._origin = f"LocalCluster ({n} workers)"
            else:
                self._origin = f"client {self.client.scheduler.address}"
        except BaseException:
            self._stack.close()
            raise
        log.info("lsdb engine on %s", self._origin)
        return self

    def __exit__(self, *exc):
        stack, self._stack = self._stack, None
        if stack is not None:
            stack.close()
            self.client = None
        return False

    @property
    def n_workers(self):
        """Workers of the Dask cluster now."""
        return len(self.client.scheduler_info().get("workers", {}))

    def provenance(self):
        """What goes into the build's provenance: engine, workers, scheduler, versions."""
        import dask
        import lsdb
        return {"engine": "lsdb", "engine_workers": self.n_workers,
                "engine_scheduler": self._origin,
                "engine_versions": f"lsdb {lsdb.__version__}, dask {dask.__version__}"}

    def _run(self, tasks, desc):
        """Compute Dask ``tasks`` (delayed) with a progress bar; worker loss -> ScaleError."""
        import time
        from distributed import as_completed
        started = time.perf_counter()
        futures = self.client.compute(tasks)
        try:
            for _ in progress(as_completed(futures), total=len(futures), desc=desc,
                              enabled=self.show_progress):
                pass
            result = self.client.gather(futures)
            self.timings.append((desc, len(futures), time.perf_counter() - started))
            log.info("%s: %d partitions in %.1f s", desc, len(futures), self.timings[-1][2])
            return result
        except AstroOCLError:
            raise
        except Exception as exc:
            from distributed import KilledWorker
            from distributed.comm.core import CommClosedError
            if isinstance(exc, (KilledWorker, CommClosedError, OSError, TimeoutError)):
                raise ScaleError(f"{desc}: the Dask cluster failed ({type(exc).__name__}: "
                                 f"{exc}); the build stopped and wrote nothing") from exc
            raise
        finally:
            self.client.cancel(futures)

    def _input(self, value, *, name, used, **options):
        """`~astro_ocl.scale.catalogues.hats_input` with the engine's cache, client and
        partitioning, recorded in ``used`` (the inputs of one match) under ``name``."""
        used[name] = hats_input(value, name=name, cache_dir=self.cache_dir,
                                client=self.client, partition_rows=self.partition_rows,
                                **options)
        return used[name]

    def _partitions(self, catalog):
        return catalog.to_delayed()

    # ---- steps 1-3 ----------------------------------------------------------------------------
    def match(self, inputs, *, options, stage_log):
        """Steps 1-3 of a build (the engine protocol): `match_surveys` of its inputs.

        Parameters
        ----------
        inputs : `~astro_ocl.engines.base.BuildInputs`
        options : `~astro_ocl.options.BuildOptions`
        stage_log : `~astro_ocl.accounting.StageLog`

        Returns
        -------
        `~astro_ocl.engines.base.Matched`
        """
        return self.match_surveys(
            {s.label: dict(stars=s.value, reader=s.reader(), radius=s.radius,
                           epoch=options.epoch) for s in inputs.surveys},
            inputs.members, gaia_sources=inputs.gaia_sources,
            member_reader=inputs.member_reader, member_kwargs={"resolver": inputs.resolver},
            wanted=inputs.wanted, threshold=options.membership_threshold, stage_log=stage_log)

    def match_stars(self, stars, members, *, gaia_sources=None, star_reader, member_reader,
                    member_kwargs=None, gaia_reader=None, wanted=None, threshold=0.7,
                    radius=3.5 * u.arcsec, epoch=None, label="stars", stage_log):
        """Steps 1-3 for one star table: the stars matched to the selected members.

        As `match_surveys` with one survey (``label``); see there.

        Returns
        -------
        matched : `~astropy.table.QTable`
            As `astro_ocl.steps.crossmatch.match_stars` (plus :data:`ROW`).
        """
        return self.match_surveys(
            {label: dict(stars=stars, reader=star_reader, radius=radius, epoch=epoch)},
            members, gaia_sources=gaia_sources, member_reader=member_reader,
            member_kwargs=member_kwargs, gaia_reader=gaia_reader, wanted=wanted,
            threshold=threshold, stage_log=stage_log).by_survey[label]

    def match_surveys(self, surveys, members, *, gaia_sources=None, member_reader,
                      member_kwargs=None, gaia_reader=None, wanted=None, threshold=0.7,
                      stage_log):
        """Steps 1-3, survey by survey: each survey's stars matched to the selected members.

        The stage log gets the in-memory build's records in its order: every
        survey's input, the requested clusters, every survey's usable RVs, the
        members, then each survey's match.

        Parameters
        ----------
        surveys : dict of str to dict
            For each survey label, in the order of the surveys: ``stars`` (the input, see
            `~astro_ocl.scale.catalogues.hats_input`), ``reader`` (its source
            adapter), ``radius`` (`~astropy.units.Quantity`, of the positional
            match) and ``epoch`` (`~astropy.time.Time` of the star positions, or
            None: the one the adapter recorded, else no propagation).
        members, gaia_sources
            Inputs (`~astro_ocl.scale.catalogues.hats_input`). ``gaia_sources`` is
            needed for stars without a Gaia id, except stars known by a survey id
            (APOGEE), matched to the selected members' own Gaia positions without it.
        member_reader : callable
            The membership adapter.
        gaia_reader : callable, optional
            Reader of a Gaia file or partition (default: the Gaia archive's columns,
            `~astro_ocl.scale.catalogues.gaia_sources_from_archive_columns`).
        member_kwargs : dict, optional
            Passed to ``member_reader`` (e.g. the cluster-name resolver).
        wanted : list of str, optional
            Keep only members of these clusters.
        threshold : float
            Membership probability threshold.
        stage_log : `~astro_ocl.accounting.StageLog`

        Returns
        -------
        `~astro_ocl.engines.base.Matched`
            The matched stars of each survey (``by_survey``, as
            `astro_ocl.steps.crossmatch.match_stars` plus :data:`ROW`), their
            sources and Gaia-id translations, and the HATS catalogues read
            (``provenance``).

        Raises
        ------
        NoUsableDataError
            A survey without any star matched to a member.
        """
        used = {}  # the HATS inputs of this match
        selected, member_log = self._select_members(
            members, member_reader=member_reader, member_kwargs=member_kwargs, wanted=wanted,
            threshold=threshold, used=used)
        member_ids = np.unique(np.asarray(selected["source_id"], np.int64))
        ids_future = self.client.scatter(member_ids, broadcast=True)

        # stars: usable RV per partition; those with a member's Gaia id are gathered
        scans, star_inputs, translations = {}, {}, {}
        for label, spec in surveys.items():
            name = "stars" if len(surveys) == 1 else f"stars_{_slug(label)}"
            st = star_inputs[label] = self._input(spec["stars"], name=name,
                                                  reader=spec["reader"], used=used)
            choice = self._neighbour_choice(st, used["members"], label)
            sent = None if choice is None else self.client.scatter(choice, broadcast=True)
            scans[label] = (st, self._run(
                [delayed_call(_stars_partition, p, st.converter, ids_future, sent)
                 for p in self._partitions(st.catalog)],
                f"stars{'' if label == 'stars' else ' ' + label} (partitions)"), choice)
        for label, (st, sparts, choice) in scans.items():
            n_stars = sum(s["n"] for s in sparts)
            stage_log.stage(Stages.INPUT.format(label), n_in=n_stars, n_out=n_stars,
                            note=str(st.source or st.provenance["path"]))
            if choice is not None:  # as the in-memory engine translates: counts summed
                rec = StageLog.merged(Stages.GAIA_IDS, [s["log"] for s in sparts])
                rec["note"] = translations[label] = translation_note(
                    choice, **{k: sum(s["translated"][k] for s in sparts)
                               for k in ("n_changed", "shared")})
                stage_log.append(rec)
        stage_log.extend(r for r in member_log if r["stage"] == Stages.REQUESTED)
        for label, (st, sparts, _) in scans.items():
            usable = StageLog.merged(Stages.USABLE_RV, [s["log"] for s in sparts])
            stage_log.append(usable)
            n_bad = usable["n_in"] - usable["n_out"]
            if n_bad:  # one warning for all partitions (as clean_stars gives in memory)
                reasons = ", ".join(f"{v} {k}" for k, v in usable["dropped"].items())
                warnings.warn(
                    f"{n_bad} stars of {st.source or st.provenance['path']} have no usable "
                    f"radial velocity and are dropped ({reasons}; in "
                    f"{sum(bool(s['warnings']) for s in sparts)} of {len(sparts)} "
                    "partitions)", DroppedRowsWarning)
        stage_log.extend(r for r in member_log if r["stage"] == Stages.MEMBERS)

        out, gaia_inputs = {}, {}
        margin = max(u.Quantity(s["radius"], u.arcsec).to_value(u.arcsec)
                     for s in surveys.values()) + MARGIN_EXTRA
        for label, (st, sparts, _) in scans.items():
            spec = surveys[label]
            radius = u.Quantity(spec["radius"], u.arcsec)
            epoch = spec.get("epoch")
            if epoch is None:
                epoch = (st.spec or {}).get("meta", {}).get("epoch")
            epoch = None if epoch is None else Time(epoch)
            out[label] = self._match_survey(
                st, sparts, selected, member_ids, gaia_sources=gaia_sources,
                gaia_reader=gaia_reader or _gaia_reader, gaia_inputs=gaia_inputs,
                margin=margin, radius=radius, epoch=epoch, stage_log=stage_log, used=used)
            if "survey" not in out[label].colnames:
                out[label]["survey"] = np.full(len(out[label]), label)
        prov = {}
        for name, inp in used.items():
            p = inp.provenance
            prov[f"hats_{name}"] = (f"{p['path']} ({p['origin']}; {p['hats_version']}; "
                                    f"{p['partitions']} partitions, {p['rows']} rows)")
        return Matched(by_survey=out,
                       star_sources={k: st.source for k, st in star_inputs.items()},
                       translations={k: translations.get(k, "none") for k in star_inputs},
                       members_source=str(used["members"].source),
                       members_release=_release(used["members"]), provenance=prov)

    def _neighbour_choice(self, st, members, label):
        """None when the stars' ids are of the members' Gaia release, else the DR2 -> DR3
        choice from the stars' own ``dr2/dr3_source_id`` pairs, gathered over the
        partitions (`~astro_ocl.steps.gaia_ids.neighbour_choice`, as
        `~astro_ocl.engines.memory.MemoryEngine` makes it in memory)."""
        s_rel, m_rel = _release(st), _release(members)
        source = str(st.source or st.provenance["path"])
        if not needs_translation(s_rel, m_rel, source=source):
            return None
        parts = [p for p in self._run([delayed_call(_id_pairs_partition, p, st.converter)
                                       for p in self._partitions(st.catalog)],
                                      f"Gaia ids {label} (partitions)") if p is not None]
        if not parts:
            raise InputDataError(
                "the members carry Gaia DR3 ids and the stars DR2 ids without a "
                "dr3_source_id column: engine='lsdb' translates with the stars' own pairs "
                "only; add them, or build with engine='memory' and online=True "
                "(gaiadr3.dr2_neighbourhood)", source=source)
        # the partitions' pairs, each distinct pair once (as id_pairs of the whole table)
        pairs = id_pairs(vstack(parts), dr2="dr2_source_id", dr3="dr3_source_id")
        pairs.meta["source"] = "the stars' own dr2/dr3_source_id pairs"
        log.info("members are Gaia %s, stars %s: translating the stars' ids", m_rel, s_rel)
        return neighbour_choice(pairs)

    def _select_members(self, members, *, member_reader, member_kwargs, wanted, threshold,
                        used):
        """The members above the threshold, one cluster per star, and their stage records."""
        mb = self._input(members, name="members", reader=member_reader,
                         reader_kwargs=member_kwargs, used=used)
        parts = self._run([delayed_call(_members_partition, p, mb.converter, wanted, threshold)
                           for p in self._partitions(mb.catalog)], "members (partitions)")
        n_members = sum(c["n"] for _, c in parts)
        member_log = StageLog()  # recorded after the stars' stages, as the in-memory engine
        if wanted is not None:
            n_other = sum(c["other_cluster"] for _, c in parts)
            member_log.stage(Stages.REQUESTED, n_in=n_members,
                             n_out=n_members - n_other,
                             dropped={"member of another cluster": n_other})
            n_members -= n_other
        above = _sorted(vstack([t for t, _ in parts if len(t)], metadata_conflicts="silent")
                        if any(len(t) for t, _ in parts) else parts[0][0])
        n_below = sum(c["below"] for _, c in parts)
        sub = StageLog()
        selected = select_members(above, threshold=threshold, stage_log=sub)
        r = sub[Stages.MEMBERS]
        member_log.stage(Stages.MEMBERS, n_in=n_members, n_out=r["n_out"],
                         dropped={f"probability < {threshold}": n_below,
                                  **{k: v for k, v in r["dropped"].items()
                                     if not k.startswith("probability")}})
        return selected, member_log

    def _match_survey(self, st, sparts, selected, member_ids, *, gaia_sources, gaia_reader,
                      gaia_inputs, margin, radius, epoch, stage_log, used):
        """Step 3 for one survey scanned by `_stars_partition`: by Gaia id, then by position."""
        n_id, n_pos = sum(s["n_id"] for s in sparts), sum(s["n_pos"] for s in sparts)
        key = next((s["key"] for s in sparts if s["key"]), None)
        out = []
        if n_id:
            n_unique = int(np.unique(np.concatenate([s["ids"] for s in sparts])).size)
            cands = [s["candidates"] for s in sparts if len(s["candidates"])]
            cand = _sorted(vstack(cands, metadata_conflicts="silent") if cands
                           else sparts[0]["candidates"])
            if "source_id" in cand.colnames and hasattr(cand["source_id"], "mask"):
                cand["source_id"] = np.asarray(np.ma.getdata(cand["source_id"]), np.int64)
            sub = StageLog()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                cand = deduplicate_stars(cand, stage_log=sub)
            stage_log.stage(Stages.UNIQUE, n_in=n_id, n_out=n_unique,
                            dropped={"repeated source_id (kept highest S/N)": n_id - n_unique})
            joined = join_members(cand, selected, stage_log=StageLog(), require=False)
            stage_log.stage(Stages.JOIN, n_in=n_unique, n_out=len(joined),
                            dropped={"not a selected cluster member": n_unique - len(cand)})
            out.append(joined)
        if key:  # one spectrum per survey id before the positional match (as in memory)
            n_dup = sum(s["n_dup"] for s in sparts)
            stage_log.stage(Stages.UNIQUE, n_in=n_pos, n_out=n_pos - n_dup,
                            dropped={f"repeated {key} (kept highest S/N)": n_dup})
            if n_dup:
                warnings.warn(f"{n_dup} repeated observations with the same {key} in "
                              f"{st.source or st.provenance['path']}: kept the one with the "
                              "highest S/N", DroppedRowsWarning)
            n_pos -= n_dup
        if n_pos:
            sources = gaia_sources
            if sources is None and key:  # as in memory: the members' own Gaia positions
                sources = selected["source_id", "coord"]
            if sources is None:
                without_gaia_sources(n_pos, any_id=bool(n_id), stage_log=stage_log)
            else:
                if id(sources) not in gaia_inputs:
                    name = "gaia" if sources is gaia_sources else "gaia_members"
                    gaia_inputs[id(sources)] = self._input(sources, name=name, reader=gaia_reader,
                                                           margin_arcsec=margin, used=used)
                out.append(self._match_by_position(st, gaia_inputs[id(sources)], member_ids,
                                                   selected, n_pos=n_pos, n_id=n_id,
                                                   radius=radius, epoch=epoch,
                                                   stage_log=stage_log))
        matched = out[0] if len(out) == 1 else vstack(out, metadata_conflicts="silent") \
            if out else QTable()
        if len(matched) == 0:
            raise NoUsableDataError("no spectroscopic star is a selected cluster member")
        return matched

    def _match_by_position(self, st, ga, member_ids, selected, *, n_pos, n_id, radius, epoch,
                           stage_log):
        no_id = st.catalog.map_partitions(_no_id_partition, st.converter,
                                          meta=st.catalog.meta)
        algo = _sky_match_algorithm()(radius=radius, epoch=epoch, gaia=ga.converter)
        xm = no_id.crossmatch(ga.catalog, algorithm=algo, suffixes=("", "__gaia"),
                              suffix_method="overlapping_columns", log_changes=False)
        src_col = "source_id__gaia" if "source_id__gaia" in xm.columns else "source_id"
        ids = self.client.scatter(member_ids, broadcast=True)
        star_cols = list(st.catalog.columns)
        parts = self._run([delayed_call(_pairs_partition, p, ids, st.converter, star_cols,
                                        "match_sep_arcsec", "n_match", src_col)
                           for p in self._partitions(xm)], "positional match (partitions)")
        n_pairs = sum(p["n_pairs"] for p in parts)
        n_matched = sum(p["n_stars"] for p in parts)
        pairs = [p["pairs"] for p in parts if len(p["pairs"])]
        if not pairs:
            pairs = [parts[0]["pairs"]] if parts else []
        table = vstack(pairs, metadata_conflicts="silent") if pairs else QTable()
        if len(table):
            order = np.lexsort((table["match_sep"].to_value(u.arcsec),
                                np.asarray(table[ROW])))
            table = table[order]
        note = (f"{n_pairs - n_matched} extra rows for stars with several Gaia sources inside "
                f"{radius}; " + (f"Gaia positions propagated to {Time(epoch).jyear:.2f}"
                                 if epoch is not None else "no epoch propagation"))
        stage_log.stage(Stages.SKY_MATCH, n_in=n_pos, n_out=n_pairs,
                        dropped={f"no Gaia source within {radius}": n_pos - n_matched},
                        added=n_pairs - n_matched, note=note)
        joined = join_members(table, selected, stage_log=StageLog(), require=False)
        stage_log.stage(Stages.JOIN if not n_id else Stages.JOIN_POSITION,
                        n_in=n_pairs, n_out=len(joined),
                        dropped={"not a selected cluster member": n_pairs - len(joined)})
        return unique_pairs(joined, stage_log=stage_log)

    # ---- steps 4-5 ----------------------------------------------------------------------------
    def _cluster_bag(self, matched, columns):
        """The stars of each cluster (only ``columns``: no SkyCoord travels) as a Dask bag."""
        import dask.bag as db
        names = np.asarray(matched["Cluster"]).astype(str)
        work = QTable([matched[c] for c in columns if c in matched.colnames], copy=False)
        work["_matched_row"] = np.arange(len(matched))
        order = np.argsort(names, kind="stable")  # rows of a cluster keep their order
        unique, first = np.unique(names[order], return_index=True)
        groups = [work[idx] for idx in np.split(order, first[1:])]
        return db.from_sequence(groups,
                                npartitions=max(1, min(len(groups), 4 * self.n_workers)))

    def cluster_statistics(self, matched, *, n_realisations, seed, cuts, show_progress=None):
        """As `astro_ocl.steps.statistics.cluster_statistics`, clusters spread over workers."""
        bag = self._cluster_bag(matched, STATISTICS_COLUMNS)
        results = self._run(bag.map_partitions(_stats_partition, n_realisations, seed,
                                               cuts).to_delayed(), "clusters (partitions)")
        stats, flags = [], np.zeros(len(matched), int)
        for part in results:
            for s, rows, f in part:
                stats.extend(s)
                flags[rows] = f
        stats.sort(key=lambda s: s.cluster)
        return stats, flags

    def likelihood_statistics(self, matched, *, zero_points, cuts, show_progress=None,
                              correlated_zero_points=False):
        """As `astro_ocl.steps.likelihood.likelihood_statistics`, clusters spread over workers."""
        bag = self._cluster_bag(matched, LIKELIHOOD_COLUMNS)
        results = self._run(bag.map_partitions(_likelihood_partition, zero_points, cuts,
                                               correlated_zero_points).to_delayed(),
                            "clusters (partitions)")
        parts = [p for part in results for p in part]
        fits = vstack([f for f, _, _ in parts], metadata_conflicts="silent")
        fits = fits[np.argsort(np.asarray(fits["Cluster"]).astype(str), kind="stable")]
        fits.meta.update(parts[0][0].meta)
        for key in ("stars_outside_rv_fit", "stars_outside_feh_fit"):
            fits.meta[key] = sum(int(f.meta.get(key, 0)) for f, _, _ in parts)
        fits = widen_single_stars(fits)
        stars = QTable()
        template = parts[0][2]
        for name in template.colnames:
            col = np.zeros(len(matched), dtype=np.asarray(template[name]).dtype)
            for _, rows, st in parts:
                col[rows] = np.asarray(st[name])
            stars[name] = col
            stars[name].info.description = template[name].info.description
        return fits, stars

    # ---- step 7 -------------------------------------------------------------------------------
    def orbit_parameters(self, clusters, *, n_samples, seed, convention, show_progress=None,
                         **kwargs):
        """As `astro_ocl.steps.dynamics.orbit_parameters` with per-cluster streams, spread."""
        import dask.bag as db
        n = len(clusters)
        step = max(1, int(np.ceil(n / (4 * self.n_workers))))
        chunks = [(np.arange(i, min(i + step, n)), clusters[i:i + step])
                  for i in range(0, n, step)]
        bag = db.from_sequence(chunks, npartitions=max(1, len(chunks)))
        results = self._run(bag.map_partitions(_orbits_partition, n_samples, seed, convention,
                                               kwargs).to_delayed(), "orbits (partitions)")
        parts = sorted((p for part in results for p in part), key=lambda p: p[0][0])
        out = vstack([t for _, t in parts], metadata_conflicts="silent")
        out.meta.update(parts[0][1].meta)
        return out


def _release(inp):
    """The Gaia release of a `HatsInput`'s ids (its table's ``meta["gaia_release"]``)."""
    return gaia_release(QTable(meta=(inp.spec or {}).get("meta", {})))


def delayed_call(func, *args):
    """``dask.delayed(func)(*args)``."""
    from dask import delayed
    return delayed(func)(*args)


def _slug(label):
    """A survey label as part of a catalogue name (``LAMOST-LRS`` -> ``lamost_lrs``)."""
    return "".join(c if c.isalnum() else "_" for c in str(label).lower())


def _sorted(table):
    """Rows in the order of the input table."""
    if ROW in table.colnames and len(table):
        return table[np.argsort(np.asarray(table[ROW]), kind="stable")]
    return table
