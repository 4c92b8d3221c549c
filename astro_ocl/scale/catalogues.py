"""Stars, members and Gaia sources as HATS catalogues (opened with LSDB).

:func:`hats_input` accepts

* an opened `lsdb.Catalog`;
* the path of an existing HATS catalogue (a survey already imported, or Gaia DR3
  as distributed in HATS): its partitions are turned into canonical tables by
  the reader (the source adapter) of the input, or, for Gaia, by
  :func:`gaia_sources_from_archive_columns`;
* a table file (FITS, CSV, ECSV, VOTable, Parquet: whatever the source adapter
  reads): read by the adapter into the canonical table, flattened
  (:mod:`astro_ocl.scale.tables`) and imported **once** with ``hats-import`` into
  the cache (``<cache dir>/hats/<name>-<sha256 of the file>``); later builds open
  the cached catalogue without reading the file again;
* a table in memory (or None: the embedded sample the adapter reads by
  default), made a HATS catalogue in memory with `lsdb.from_dataframe`.

Each input is a `HatsInput`: the catalogue, how to turn a partition into a
canonical table, and its provenance (path, HATS version, partitions).
"""
import functools
import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord
from astropy.config.paths import get_cache_dir
from astropy.table import QTable, Table
from astropy.time import Time

from ..config import conf
from ..exceptions import InputDataError
from ..logger import log
from ..utils import file_sha256, umask_mode
from .tables import ROW, flatten, position_columns, unflatten

__all__ = ["HatsInput", "hats_input", "default_hats_cache", "gaia_sources_from_archive_columns",
           "SPEC_FILE"]

#: The file next to an imported catalogue that records how to rebuild canonical tables.
SPEC_FILE = "astro_ocl_columns.json"
#: Deepest HEALPix order of an import: order 7 pixels are 0.21 deg2 (Gaia DR3 has ~10 000
#: sources in one); deeper orders only make hats-import's pixel histogram slower.
HIGHEST_ORDER = 7
#: Bump when the flattened layout changes: old cache entries are then not reused.
CACHE_FORMAT = 1


def default_hats_cache():
    """Where imported catalogues live: ``<conf.cache_dir>/hats``, else
    ``<astropy cache dir>/astro_ocl/hats`` (next to the query cache)."""
    if conf.cache_dir:
        return Path(conf.cache_dir).expanduser() / "hats"
    return Path(get_cache_dir("astro_ocl")) / "hats"


@dataclass
class HatsInput:
    """One input of the survey-scale build as a HATS catalogue.

    Attributes
    ----------
    name : str
        ``"stars"``, ``"members"`` or ``"gaia"``.
    catalog : `lsdb.Catalog`
        The catalogue (lazy; partitions are read by the Dask workers).
    spec : dict or None
        Flattened-table spec (:func:`astro_ocl.scale.tables.flatten`); None for a
        catalogue in its own columns, converted by ``reader``.
    reader : callable or None
        Source adapter ``reader(table=Table, **reader_kwargs)`` for such catalogues.
    reader_kwargs : dict
    provenance : dict
        ``path``, ``hats_version``, ``partitions``, ``rows``, ``origin``.
    source : str or None
        The input file, when there was one (for `~astro_ocl.utils.describe_input`).
    """

    name: str
    catalog: object
    spec: dict = None
    reader: object = None
    reader_kwargs: dict = field(default_factory=dict)
    provenance: dict = field(default_factory=dict)
    source: str = None

    def canonical(self, frame):
        """A partition (`pandas.DataFrame`) as a canonical `~astropy.table.QTable`."""
        return to_canonical(frame, spec=self.spec, reader=self.reader,
                            reader_kwargs=self.reader_kwargs)

    @property
    def converter(self):
        """``canonical`` without the catalogue: a small picklable callable for Dask tasks."""
        return functools.partial(to_canonical, spec=self.spec, reader=self.reader,
                                 reader_kwargs=self.reader_kwargs)

    @property
    def radec(self):
        """Names of the catalogue's ra and dec columns."""
        info = self.catalog.hc_structure.catalog_info
        return info.ra_column, info.dec_column


def to_canonical(frame, *, spec, reader, reader_kwargs):
    """A partition as a canonical table (module-level: shipped to the workers)."""
    if spec is not None:
        return unflatten(frame, spec)
    t = reader(table=Table.from_pandas(frame.reset_index(drop=True)), **reader_kwargs)
    if ROW not in t.colnames:
        # no input order in a foreign catalogue: the HEALPix index orders rows
        t[ROW] = np.asarray(frame.index, dtype=np.int64)[:len(t)] if len(t) == len(frame) \
            else np.arange(len(t), dtype=np.int64)
    return t


def gaia_sources_from_archive_columns(*, table, obstime=None):
    """Gaia sources (``source_id``, ``coord`` with proper motions) from archive columns.

    Reads the column names of the Gaia archive (and of the Gaia DR3 HATS
    catalogue): ``source_id, ra, dec, pmra, pmdec`` and ``ref_epoch``.

    Parameters
    ----------
    table : `~astropy.table.Table`
        One partition.
    obstime : `~astropy.time.Time`, optional
        Epoch of the positions when there is no ``ref_epoch`` column (default J2016.0,
        Gaia DR3).
    """
    cols = {c.lower(): c for c in table.colnames}
    missing = [c for c in ("source_id", "ra", "dec") if c not in cols]
    if missing:
        raise InputDataError(f"Gaia sources need columns {missing}",
                             source=str(table.meta.get("source", "HATS catalogue")))
    if "ref_epoch" in cols and len(table):
        epochs = np.unique(np.asarray(table[cols["ref_epoch"]], float))
        if epochs.size > 1:
            raise InputDataError(f"several ref_epoch values {epochs} in one Gaia table",
                                 column="ref_epoch")
        obstime = Time(float(epochs[0]), format="jyear")
    obstime = Time(2016.0, format="jyear") if obstime is None else obstime
    kw = {}
    if "pmra" in cols and "pmdec" in cols:
        kw = dict(pm_ra_cosdec=np.asarray(table[cols["pmra"]], float) * u.mas / u.yr,
                  pm_dec=np.asarray(table[cols["pmdec"]], float) * u.mas / u.yr)
    out = QTable()
    out["source_id"] = np.asarray(table[cols["source_id"]], dtype=np.int64)
    out["coord"] = SkyCoord(ra=np.asarray(table[cols["ra"]], float) * u.deg,
                            dec=np.asarray(table[cols["dec"]], float) * u.deg,
                            obstime=obstime, frame="icrs", **kw)
    return out


def _is_hats_dir(path):
    return path.is_dir() and any((path / n).exists() for n in
                                 ("properties", "hats.properties", "collection.properties"))


def _hats_version(path):
    """``hats_version`` from a catalogue's properties file (None without one)."""
    if path is None:
        return None
    for name in ("properties", "hats.properties"):
        p = Path(path) / name
        if p.is_file():
            for line in p.read_text().splitlines():
                if line.split("=")[0].strip() in ("hats_version", "hats_builder"):
                    return line.split("=", 1)[1].strip()
    return None


def _provenance(catalog, *, path, origin):
    import hats
    return {"path": str(path) if path is not None else "<in memory>", "origin": origin,
            "hats_version": _hats_version(path) or f"hats {hats.__version__} (in memory)",
            "partitions": int(catalog.npartitions),
            "rows": int(getattr(catalog.hc_structure.catalog_info, "total_rows", 0) or 0)}


def _open(path, *, margin=None):
    import lsdb
    kw = {} if margin is None or not Path(margin).exists() else {"margin_cache": str(margin)}
    return lsdb.open_catalog(str(path), **kw)


def hats_input(value, *, name, reader, reader_kwargs=None, cache_dir=None, margin_arcsec=None,
               client=None, partition_rows=None):
    """One input of the build as a `HatsInput` (see the module docstring).

    Parameters
    ----------
    value : `lsdb.Catalog`, str, `~pathlib.Path`, `~astropy.table.Table` or None
        The input.
    name : str
        ``"stars"``, ``"members"`` or ``"gaia"`` (names cache entries).
    reader : callable
        The source adapter: ``reader(path)``, ``reader(table=...)``; ``reader()``
        reads the embedded default.
    reader_kwargs : dict, optional
        Passed to ``reader``.
    cache_dir : str or `~pathlib.Path`, optional
        Where imported catalogues are kept (default :func:`default_hats_cache`).
    margin_arcsec : float, optional
        Margin (arcsec) to build around each partition: the Gaia side of the
        positional match needs radius + proper motion x epoch difference.
    client : `distributed.Client`, optional
        Runs ``hats-import``.
    partition_rows : int, optional
        Rows per partition (default: hats-import's threshold, 1 000 000; in
        memory ``lsdb.from_dataframe``'s).

    Returns
    -------
    `HatsInput`
    """
    import lsdb
    reader_kwargs = dict(reader_kwargs or {})
    if isinstance(value, lsdb.Catalog):
        return HatsInput(name, value, None, reader, reader_kwargs,
                         _provenance(value, path=None, origin="lsdb catalogue"))
    if isinstance(value, (str, os.PathLike)):
        path = Path(value).expanduser()
        if _is_hats_dir(path):
            spec_file = path / SPEC_FILE
            spec = json.loads(spec_file.read_text()) if spec_file.exists() else None
            cat = _open(path, margin=path.parent / f"{path.name}_margin")
            return HatsInput(name, cat, spec, reader, reader_kwargs,
                             _provenance(cat, path=path, origin="HATS catalogue"))
        if not path.is_file():
            raise InputDataError("no such file or HATS catalogue", source=str(path))
        return _cached_import(path, name=name, reader=reader, reader_kwargs=reader_kwargs,
                              cache_dir=cache_dir, margin_arcsec=margin_arcsec, client=client,
                              partition_rows=partition_rows)
    table = value if isinstance(value, Table) else None
    if table is None and value is not None:
        raise InputDataError(f"cannot read {type(value).__name__} as a {name} table")
    if table is None:
        table = reader(**reader_kwargs)
        source = table.meta.get("source")
        if source and Path(source).is_file():
            return _cached_import(Path(source), name=name, reader=reader,
                                  reader_kwargs=reader_kwargs, cache_dir=cache_dir,
                                  margin_arcsec=margin_arcsec, client=client,
                                  partition_rows=partition_rows, table=table)
    elif not (isinstance(table, QTable)
              and any(isinstance(table[c], SkyCoord) for c in table.colnames)):
        table = reader(table=table, path=table.meta.get("source"), **reader_kwargs)
    frame, spec = flatten(table)
    ra, dec = position_columns(spec)
    kw = {} if partition_rows is None else {"partition_rows": int(partition_rows)}
    cat = lsdb.from_dataframe(frame, ra_column=ra, dec_column=dec,
                              margin_threshold=margin_arcsec, catalog_name=name, **kw)
    return HatsInput(name, cat, spec, None, {},
                     _provenance(cat, path=None, origin="table in memory (lsdb.from_dataframe)"),
                     source=table.meta.get("source"))


def _digest(value):
    """A digest of a reader option that is an object (e.g. a cluster-name resolver)."""
    import pickle
    try:
        return hashlib.sha256(pickle.dumps(value)).hexdigest()[:16]
    except Exception:  # not picklable: its type names it
        return type(value).__qualname__


def _cached_import(path, *, name, reader, reader_kwargs, cache_dir, margin_arcsec, client,
                   partition_rows, table=None):
    """Import ``path`` (read by ``reader``) with hats-import into the cache, once."""
    simple = {k: v if isinstance(v, (str, int, float, bool, type(None))) else _digest(v)
              for k, v in sorted(reader_kwargs.items())}
    key = hashlib.sha256(json.dumps([CACHE_FORMAT, file_sha256(path), reader.__module__,
                                     reader.__qualname__, simple, margin_arcsec,
                                     partition_rows], default=str).encode()).hexdigest()[:16]
    root = Path(cache_dir) if cache_dir is not None else default_hats_cache()
    entry = root / f"{name}-{key}"
    catalog_dir, margin_dir = entry / name, entry / f"{name}_margin"
    if not (catalog_dir / SPEC_FILE).exists():
        table = reader(path, **reader_kwargs) if table is None else table
        _import(table, entry, name=name, margin_arcsec=margin_arcsec, client=client,
                partition_rows=partition_rows)
    else:
        log.info("%s: HATS catalogue from the cache %s", path, entry)
    spec = json.loads((catalog_dir / SPEC_FILE).read_text())
    cat = _open(catalog_dir, margin=margin_dir)
    prov = _provenance(cat, path=catalog_dir, origin=f"imported from {path} (hats-import)")
    if margin_dir.exists():
        prov["margin_arcsec"] = margin_arcsec
    return HatsInput(name, cat, spec, None, {}, prov, source=str(path))


def _import(table, entry, *, name, margin_arcsec, client, partition_rows):
    """hats-import ``table`` (flattened) into ``entry``; atomic: all or nothing."""
    from hats_import.catalog.arguments import ImportArguments
    from hats_import.margin_cache.margin_cache_arguments import MarginCacheArguments
    from hats_import.pipeline import pipeline_with_client
    entry.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{entry.name}.", suffix=".part", dir=entry.parent))
    tmp.chmod(umask_mode(directory=True))  # the cache entry it becomes: as any new folder
    try:
        frame, spec = flatten(table)
        ra, dec = position_columns(spec)
        staged = tmp / "input"
        staged.mkdir()
        frame.to_parquet(staged / "part0.parquet", index=False)
        kw = {} if partition_rows is None else {"pixel_threshold": int(partition_rows)}
        log.info("importing %d %s rows with hats-import into %s", len(frame), name, entry)
        pipeline_with_client(ImportArguments(
            ra_column=ra, dec_column=dec, input_file_list=[str(staged / "part0.parquet")],
            file_reader="parquet", output_path=str(tmp), output_artifact_name=name,
            tmp_dir=str(tmp / "work"), resume=False, progress_bar=False,
            highest_healpix_order=HIGHEST_ORDER, **kw), client)
        if margin_arcsec:
            try:
                pipeline_with_client(MarginCacheArguments(
                    input_catalog_path=str(tmp / name), output_path=str(tmp),
                    output_artifact_name=f"{name}_margin", margin_threshold=float(margin_arcsec),
                    tmp_dir=str(tmp / "work"), resume=False, progress_bar=False), client)
            except ValueError as exc:  # one partition: no margin to build
                log.info("no margin for %s: %s", name, exc)
        shutil.rmtree(staged)
        shutil.rmtree(tmp / "work", ignore_errors=True)
        (tmp / name / SPEC_FILE).write_text(json.dumps(spec, indent=1, default=str))
        if entry.exists():
            shutil.rmtree(entry)
        os.replace(tmp, entry)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
