"""Bad input to every reader and to every CLI subcommand.

The bad inputs are copies of the real embedded files (``astro_ocl/data``)
corrupted in ``tmp_path``. Every reader is one row of :data:`READERS` and every
corruption one row of :data:`TABLE_CORRUPTIONS` or :data:`FILE_CORRUPTIONS`; a
test runs each (reader, corruption) pair that applies. A reader added later (an
adapter of another survey or cluster catalogue) needs one :class:`Reader` line.

What a bad input must give: an error of the package's hierarchy
(`astro_ocl.exceptions`) naming the file and, where it is about one, the column,
row and value; or, for rows a reader keeps on purpose (a missing value, a
duplicated star), a counted drop in the build's `~astro_ocl.accounting.StageLog`.
On the command line: exit status 1, one line on standard error (no traceback),
and nothing written or half-written in the output folder.
"""
import csv
import gzip
import io
import shlex
import shutil
import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable, Optional, Union

import astropy.units as u
import numpy as np
import pytest
from astropy.io.votable.exceptions import VOWarning
from astropy.table import Table

from astro_ocl import cli, exceptions
from astro_ocl.exceptions import (AstroOCLError, DroppedRowsWarning, InputDataError,
                                  MissingColumnError)
from astro_ocl.sources import clusters as cl
from astro_ocl.sources import files, literature, members, surveys
from astro_ocl.utils import data_path

from helpers import one_line_error as _one_line_error  # noqa: E402 (tests/ is on sys.path)

# ---- the readers -----------------------------------------------------------------------


@dataclass
class Reader:
    """One reader of astro_ocl.sources and what its input file looks like.

    Parameters
    ----------
    read : callable
        ``read(path)`` -> table.
    file : str or `~pathlib.Path`
        The embedded file (relative to ``astro_ocl/data``) the bad inputs are made from,
        or a real file of the tests (an absolute path).
    kind : str
        ``ecsv`` or ``votable`` (edited as an astropy table), ``csv`` or ``psv``
        (pipe-separated), edited as text; ``ecsv>csv``: an ECSV file edited as an
        astropy table and given to the reader as CSV.
    required : str
        A column the reader cannot do without.
    numeric : str
        A numeric column the reader converts.
    error : str, optional
        An uncertainty column (negative values refused).
    unit : str, optional
        A column with a unit in the file (ECSV): a wrong unit is refused.
    unique : bool
        Rows are clusters: a name twice is refused (else duplicates are counted by
        the build).
    unit_as : str, optional
        The output column of ``unit`` (default the same name).
    dup_row : int
        The row "duplicated row" repeats (one the reader keeps).
    """
    read: Callable
    file: Union[str, Path]
    kind: str
    required: str
    numeric: str
    error: Optional[str] = None
    unit: Optional[str] = None
    unique: bool = False
    unit_as: Optional[str] = None
    dup_row: int = 4
    skip: dict = field(default_factory=dict)


#: Real files of the tests (recorded archive answers, a DR3 membership).
TESTS_DATA = Path(__file__).resolve().parent / "data"
ARCHIVE_DATA = Path(__file__).resolve().parent / "archives" / "data"


def _lamost_members(path):
    return surveys.read_lamost_members(path, members.read_cg_members(), chunk_rows=200)


@lru_cache(maxsize=1)
def _occam_members():
    return members.read_cg_members(data_path(surveys.OCCAM_MEMBERS_FILE))


def _occam_stream(path):
    """The OCCAM rows near the embedded CG2018 members, streamed in chunks."""
    return surveys.read_survey_members("apogee", path, _occam_members(), chunk_rows=2000)


def _table6_file(tmp_path):
    """A paper Table 6 file in the layout `read_fu2022_table6` reads (a copy in that layout)."""
    t = Table(names=cl.TABLE6_COLUMNS, dtype=(str, str, str, int, float, float, float))
    for g in cl.TABLE6_GROUPS:
        for x in cl.TABLE6_X:
            for c in "abc":
                t.add_row((g, x, c, 10, 0.1, 0.01, 0.01))
    path = tmp_path / "table6.ecsv"
    t.write(path, format="ascii.ecsv", overwrite=True)
    return path


READERS = {
    "read_lamost": Reader(surveys.read_lamost, "lamost_lrs_oc_members.ecsv", "ecsv",
                          required="rv", numeric="teff", error="rv_err", unit="rv"),
    # (without a Gaia id column the rows are kept by position: rv is what it needs)
    "read_lamost_members": Reader(_lamost_members, "examples/lamost_lrs_example.csv", "csv",
                                  required="rv", numeric="teff", error="rv_err"),
    "read_cg_members": Reader(members.read_cg_members, "cg2018_members_subset.ecsv.gz", "ecsv",
                              required="Source", numeric="PMemb", unit="parallax"),
    "read_cg2020_clusters": Reader(cl.read_cg2020_clusters, "cantat_gaudin_2020_table1.tsv.gz",
                                   "psv", required="plx", numeric="plx", error="e_plx",
                                   unique=True),
    "read_fu2022": Reader(cl.read_fu2022, "fu2022_clusters.csv.gz", "csv", required="RVmed",
                          numeric="RVmed", error="e_RVmed", unique=True),
    "read_cluster_dynamics_input": Reader(lambda p: cl.read_cluster_dynamics_input(path=p),
                                          "zhong2020.csv.gz", "csv", required="DMode",
                                          numeric="RV", error="e_RV", unique=True),
    "read_fu2022_table7": Reader(cl.read_fu2022_table7, "fu2022_table7.ecsv", "ecsv",
                                 required="X", numeric="X", error="e_[Fe/H]", unique=True),
    "read_fu2022_table6": Reader(cl.read_fu2022_table6, "table6", "ecsv", required="paper",
                                 numeric="paper", error="paper_plus", unique=True),
    "read_table_file": Reader(files.read_table_file, "lamost_lrs_oc_members.ecsv", "ecsv",
                              required="rv", numeric="teff",
                              skip={"missing column": "reads any table",
                                    "misnamed column": "reads any table",
                                    "non-numeric value": "reads any table",
                                    "infinite value": "reads any table",
                                    "negative uncertainty": "reads any table",
                                    "NaN value": "reads any table",
                                    "header only": "reads any table"}),
    # the survey adapters of astro_ocl.sources.surveys, on their embedded samples
    "read_lamost_mrs": Reader(surveys.read_lamost_mrs, "lamost_mrs_oc_members.ecsv", "ecsv",
                              required="rv", numeric="teff", error="rv_err", unit="rv"),
    "read_occam": Reader(surveys.read_occam, "occam_dr16_members.ecsv.gz", "ecsv",
                         required="VHELIO_AVG", numeric="VHELIO_AVG", error="FE_H_ERR",
                         unit="VHELIO_AVG", unit_as="rv"),
    # streamed through another adapter than read_lamost_members' (positions from
    # APOGEE_ID, no Gaia id); row 32 is near a member, so it is kept
    "read_survey_members[apogee]": Reader(_occam_stream, "occam_dr16_members.ecsv.gz",
                                          "ecsv>csv", required="VHELIO_AVG",
                                          numeric="VHELIO_AVG", error="FE_H_ERR", dup_row=32),
    # a recorded Gaia archive answer (2 gaia_source rows with RVS velocities)
    "read_gaia_rvs": Reader(surveys.read_gaia_rvs, ARCHIVE_DATA / "gaia_dr3_sources.vot",
                            "votable", required="radial_velocity", numeric="radial_velocity",
                            error="radial_velocity_error", unit="radial_velocity",
                            unit_as="rv"),
    # the cluster-parameter catalogues read_cluster_catalogue dispatches to
    "read_hr23_clusters": Reader(cl.read_hr23_clusters, "hunt2023.csv.gz", "csv",
                                 required="dist50", numeric="dist50", error="e_Plx",
                                 unique=True),
    "read_dias2021_clusters": Reader(cl.read_dias2021_clusters, "dias2021.csv.gz", "csv",
                                     required="Dist", numeric="Dist", error="e_Dist",
                                     unique=True),
    # a real Gaia DR3 membership (Tarricq et al. 2022) in a layout of the HR23 members
    "read_hr23_members": Reader(members.read_hr23_members,
                                TESTS_DATA / "tarricq2022_dr3_members.csv.gz", "csv",
                                required="Source", numeric="parallax"),
}
for _name, _spec in literature.LITERATURE.items():
    READERS[f"read_literature[{_name}]"] = Reader(
        (lambda n: lambda p: literature.read_literature(n, path=p))(_name),
        _spec.file, "csv", required=_spec.rv or _spec.feh, numeric=_spec.rv or _spec.feh,
        error=_spec.e_rv or _spec.e_feh, unique=True)


# ---- editable copies of the embedded files ----------------------------------------------

class TextTable:
    """A delimited text file (CSV, pipe-separated) as header + rows of strings."""

    def __init__(self, path, delimiter):
        self.delimiter = delimiter
        opener = gzip.open if str(path).endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8", newline="") as f:
            rows = list(csv.reader(f, delimiter=delimiter))
        self.header, self.rows = rows[0], rows[1:]

    def _index(self, name):
        return [h.strip() for h in self.header].index(name)

    def drop(self, name):
        j = self._index(name)
        self.header.pop(j)
        for r in self.rows:
            r.pop(j)

    def rename(self, name, new):
        self.header[self._index(name)] = new

    def set(self, name, row, text):
        self.rows[row][self._index(name)] = text

    def get(self, name, row):
        return self.rows[row][self._index(name)]

    def duplicate(self, row):
        self.rows.insert(row + 1, list(self.rows[row]))

    def head_only(self):
        self.rows = []

    def text(self):
        buf = io.StringIO()
        w = csv.writer(buf, delimiter=self.delimiter, lineterminator="\n")
        w.writerow(self.header)
        w.writerows(self.rows)
        return buf.getvalue()


class EcsvTable:
    """An ECSV (or VOTable) file as an astropy Table (string values allowed)."""

    def __init__(self, path, format="ascii.ecsv", out_format=None):
        self.format = out_format or format
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", VOWarning)  # the Gaia archive's unit strings
            self.t = Table.read(path, format=format)

    def drop(self, name):
        self.t.remove_column(name)

    def rename(self, name, new):
        self.t.rename_column(name, new)

    def _as_text(self, name):
        col = self.t[name]
        if col.dtype.kind not in "US":
            text = np.array([str(v) for v in np.ma.filled(col.astype(float), np.nan)],
                            dtype="U32")
            self.t[name] = Table.Column(text, name=name, unit=col.unit)
        return self.t[name]

    def set(self, name, row, text):
        self._as_text(name)[row] = text

    def get(self, name, row):
        return str(self.t[name][row])

    def duplicate(self, row):
        self.t.insert_row(row + 1, self.t[row])

    def head_only(self):
        self.t = self.t[:0]

    def text(self):
        buf = io.StringIO() if self.format.startswith("ascii") else io.BytesIO()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", VOWarning)
            self.t.write(buf, format=self.format)
        out = buf.getvalue()
        return out if isinstance(out, str) else out.decode("utf-8")


def _original(reader, tmp_path):
    if isinstance(reader.file, Path):  # a real file of the tests
        return reader.file
    if reader.file == "table6":
        folder = tmp_path / "orig"
        folder.mkdir(exist_ok=True)
        return _table6_file(folder)
    return data_path(reader.file)


def _editable(reader, tmp_path):
    path = _original(reader, tmp_path)
    if reader.kind == "ecsv":
        return EcsvTable(path)
    if reader.kind == "votable":
        return EcsvTable(path, format="votable")
    if reader.kind == "ecsv>csv":
        return EcsvTable(path, out_format="ascii.csv")
    return TextTable(path, "|" if reader.kind == "psv" else ",")


def _suffix(reader):
    return {"ecsv": ".ecsv", "votable": ".vot", "csv": ".csv", "ecsv>csv": ".csv",
            "psv": ".tsv"}[reader.kind]


def _write(reader, tmp_path, text, *, name=None):
    """Write ``text`` as the reader's input file (uncompressed, same extension)."""
    path = tmp_path / (name or f"bad{_suffix(reader)}")
    path.write_text(text, encoding="utf-8")
    return path


def _read(reader, path):
    return reader.read(str(path))


# ---- corruptions of the table: (name, edit, check) --------------------------------------

def _nrows(tab):
    return len(tab.rows if hasattr(tab, "rows") else tab.t)


def _row_of(reader, tab, name):
    """A data row (not the first: row numbers must be right) with a value in ``name``."""
    for i in range(min(3, _nrows(tab) - 1), _nrows(tab)):
        v = tab.get(name, i).strip()
        if v not in ("", "nan", "--", "NaN"):
            return i
    raise AssertionError(f"no value in {name}")


def _expect(exc_type, path, **named):
    """Context: ``exc_type`` raised, naming the file and the given column/row/value."""
    class _Check:
        def __enter__(self):
            self.raises = pytest.raises(exc_type)
            self.info = self.raises.__enter__()
            return self

        def __exit__(self, *exc):
            out = self.raises.__exit__(*exc)
            err = self.info.value
            msg = str(err)
            assert isinstance(err, AstroOCLError)
            assert Path(path).name in msg, msg
            for key, want in named.items():
                assert getattr(err, key, None) == want, (key, getattr(err, key, None), msg)
                shown = repr(want) if key in ("column", "value") and isinstance(want, str) \
                    else str(want)
                assert shown in msg, (shown, msg)
            return out
    return _Check()


def corrupt_missing(reader, tab, tmp_path):
    tab.drop(reader.required)
    path = _write(reader, tmp_path, tab.text())
    with _expect(MissingColumnError, path):
        _read(reader, path)


def corrupt_misnamed(reader, tab, tmp_path):
    tab.rename(reader.required, reader.required + "_typo")
    path = _write(reader, tmp_path, tab.text())
    with _expect(MissingColumnError, path) as check:
        _read(reader, path)
    assert reader.required in str(check.info.value)


def corrupt_non_numeric(reader, tab, tmp_path):
    i = _row_of(reader, tab, reader.numeric)
    tab.set(reader.numeric, i, "abc")
    path = _write(reader, tmp_path, tab.text())
    with _expect(InputDataError, path, column=reader.numeric, row=i, value="abc"):
        _read(reader, path)


def corrupt_infinite(reader, tab, tmp_path):
    i = _row_of(reader, tab, reader.numeric)
    tab.set(reader.numeric, i, "inf")
    path = _write(reader, tmp_path, tab.text())
    with _expect(InputDataError, path, column=reader.numeric, row=i):
        _read(reader, path)


def corrupt_negative_error(reader, tab, tmp_path):
    i = _row_of(reader, tab, reader.error)
    tab.set(reader.error, i, "-1.5")
    path = _write(reader, tmp_path, tab.text())
    with _expect(InputDataError, path, column=reader.error, row=i, value=-1.5):
        _read(reader, path)


def corrupt_wrong_unit(reader, tab, tmp_path):
    tab.t[reader.unit].unit = u.km  # km where km/s or mas is meant
    path = _write(reader, tmp_path, tab.text())
    with _expect(InputDataError, path, column=reader.unit) as check:
        _read(reader, path)
    assert "km" in str(check.info.value)


def corrupt_other_unit(reader, tab, tmp_path):
    """A unit that converts (km/s as m/s, mas as arcsec) gives the same values."""
    col = tab.t[reader.unit]
    target = {"km / s": u.m / u.s, "mas": u.arcsec}[str(col.unit)]
    want = _read(reader, _write(reader, tmp_path, tab.text(), name=f"ref{_suffix(reader)}"))
    tab.t[reader.unit] = (u.Quantity(col.astype(float), col.unit).to(target)).value
    tab.t[reader.unit].unit = target
    got = _read(reader, _write(reader, tmp_path, tab.text()))
    name = reader.unit_as or reader.unit
    assert u.allclose(u.Quantity(got[name]), u.Quantity(want[name]), rtol=1e-12,
                      equal_nan=True)


def corrupt_duplicate(reader, tab, tmp_path):
    k = min(reader.dup_row, _nrows(tab) - 1)
    tab.duplicate(k)
    path = _write(reader, tmp_path, tab.text())
    if reader.unique:
        with _expect(InputDataError, path, row=k + 1) as check:
            _read(reader, path)
        assert "duplicate" in str(check.info.value)
    else:  # kept by the reader: the build counts it (test_duplicated_stars_counted)
        n = len(_read(reader, _write(reader, tmp_path, _editable(reader, tmp_path).text(),
                                     name=f"ref{_suffix(reader)}")))
        assert len(_read(reader, path)) == n + 1


def corrupt_head_only(reader, tab, tmp_path):
    tab.head_only()
    path = _write(reader, tmp_path, tab.text())
    with _expect(InputDataError, path) as check:
        _read(reader, path)
    assert "no data rows" in str(check.info.value) or "no row" in str(check.info.value)


def corrupt_nan(reader, tab, tmp_path):
    """A missing value is read as NaN (the build counts the rows it cannot use)."""
    i = _row_of(reader, tab, reader.numeric)
    tab.set(reader.numeric, i, "nan")
    path = _write(reader, tmp_path, tab.text())
    out = _read(reader, path)
    assert len(out) > 0
    assert any(np.isnan(np.asarray(u.Quantity(out[c]).value, float)).any()
               for c in out.colnames if getattr(out[c], "dtype", None) is not None
               and out[c].dtype.kind == "f")


TABLE_CORRUPTIONS = {
    "missing column": (corrupt_missing, None),
    "misnamed column": (corrupt_misnamed, None),
    "non-numeric value": (corrupt_non_numeric, None),
    "infinite value": (corrupt_infinite, None),
    "NaN value": (corrupt_nan, None),
    "negative uncertainty": (corrupt_negative_error, "error"),
    "unit km for km/s or mas": (corrupt_wrong_unit, "unit"),
    "convertible unit": (corrupt_other_unit, "unit"),
    "duplicated row": (corrupt_duplicate, None),
    "header only": (corrupt_head_only, None),
}


def _pairs(corruptions):
    for rname, reader in READERS.items():
        for cname, (_, needs) in corruptions.items():
            if needs and getattr(reader, needs) is None:
                continue
            if needs == "unit" and reader.kind not in ("ecsv", "votable"):
                continue
            marks = [pytest.mark.skip(reason=reader.skip[cname])] if cname in reader.skip else []
            yield pytest.param(rname, cname, id=f"{rname}-{cname}", marks=marks)


@pytest.mark.parametrize("rname,cname", list(_pairs(TABLE_CORRUPTIONS)))
def test_bad_table(rname, cname, tmp_path):
    reader = READERS[rname]
    func, _ = TABLE_CORRUPTIONS[cname]
    func(reader, _editable(reader, tmp_path), tmp_path)


# ---- corruptions of the file: (name, make path, expected) --------------------------------

def _text_of(reader, tmp_path):
    return _editable(reader, tmp_path).text()


def file_empty(reader, tmp_path):
    return _write(reader, tmp_path, ""), "empty"


def file_cut_in_a_row(reader, tmp_path):
    text = _text_of(reader, tmp_path).rstrip("\n")
    last = text.rsplit("\n", 1)[1]
    return _write(reader, tmp_path, text[:len(text) - len(last) // 2]), None


def file_gzip_cut(reader, tmp_path):
    data = gzip.compress(_text_of(reader, tmp_path).encode())
    path = tmp_path / f"bad{_suffix(reader)}.gz"
    path.write_bytes(data[: int(len(data) * 0.6)])
    return path, None


def file_not_utf8(reader, tmp_path):
    text = _text_of(reader, tmp_path)
    lines = text.split("\n")
    k = next(i for i in range(len(lines) - 1, 0, -1) if lines[i].strip())
    path = tmp_path / f"bad{_suffix(reader)}"
    path.write_bytes("\n".join(lines[:k]).encode() + b"\n" + b"\xe9\xff"
                     + lines[k].encode() + b"\n")
    return path, None


def file_directory(reader, tmp_path):
    path = tmp_path / f"dir{_suffix(reader)}"
    path.mkdir()
    return path, "directory"


def file_missing(reader, tmp_path):
    return tmp_path / f"nosuch{_suffix(reader)}", "does not exist"


FILE_CORRUPTIONS = {
    "empty file": file_empty,
    "cut in a row": file_cut_in_a_row,
    "gzip cut short": file_gzip_cut,
    "not UTF-8": file_not_utf8,
    "directory": file_directory,
    "missing file": file_missing,
}


@pytest.mark.parametrize("rname", list(READERS))
@pytest.mark.parametrize("cname", list(FILE_CORRUPTIONS))
def test_bad_file(rname, cname, tmp_path):
    reader = READERS[rname]
    path, words = FILE_CORRUPTIONS[cname](reader, tmp_path)
    with _expect(InputDataError, path) as check:
        _read(reader, path)
    if words:
        assert words in str(check.info.value)


@pytest.mark.parametrize("rname", list(READERS))
def test_non_ascii_path(rname, tmp_path):
    """A file in a folder and under a name that are not ASCII reads as the original."""
    reader = READERS[rname]
    text = _text_of(reader, tmp_path)
    ref = _read(reader, _write(reader, tmp_path, text, name=f"ref{_suffix(reader)}"))
    folder = tmp_path / "données_星団"
    folder.mkdir()
    path = _write(reader, folder, text, name=f"étoiles_λ{_suffix(reader)}")
    got = _read(reader, path)
    assert len(got) == len(ref) > 0
    assert got.colnames == ref.colnames


@pytest.mark.parametrize("rname", ["read_cg2020_clusters", "read_fu2022", "read_hr23_clusters",
                                   "read_dias2021_clusters"])
def test_edited_file_read_again(rname, tmp_path):
    """A reader that caches its table reads a file again once it is changed in place."""
    reader = READERS[rname]
    tab = _editable(reader, tmp_path)
    path = _write(reader, tmp_path, tab.text())
    assert len(_read(reader, path)) > 0
    i = _row_of(reader, tab, reader.numeric)
    tab.set(reader.numeric, i, "abc")
    _write(reader, tmp_path, tab.text())
    with _expect(InputDataError, path, column=reader.numeric, row=i, value="abc"):
        _read(reader, path)


def test_non_ascii_cluster_name(tmp_path):
    """A cluster name that is not ASCII nor known is kept and reported, not a crash."""
    reader = READERS["read_cg_members"]
    tab = _editable(reader, tmp_path)
    tab.t["Cluster"] = tab.t["Cluster"].astype("U32")
    tab.t["Cluster"][0] = "Amas_ünbekannt_星"
    out = _read(reader, _write(reader, tmp_path, tab.text()))
    assert out.meta["n_unknown_clusters"] >= 1
    assert "Amas_ünbekannt_星" in set(out["Cluster"])


# ---- what the build counts -----------------------------------------------------------------

def _stars_file(tmp_path, edit):
    reader = READERS["read_lamost"]
    tab = _editable(reader, tmp_path)
    edit(tab)
    return _write(reader, tmp_path, tab.text(), name="stars.ecsv")


def _dropped(result, stage):
    rows = [r for r in result.stage_log if r["stage"] == stage]
    assert rows, [r["stage"] for r in result.stage_log]
    return rows[0]


@pytest.fixture(scope="module")
def reference_build():
    """The build of the unedited LAMOST LRS sample: what the edited copies are compared to.

    Only ``lamost_lrs``: by default the build combines every embedded survey (the MRS
    sample's rv_err sentinels and APOGEE's repeated observations are counted drops of
    their own), while the tests below give the edited LRS sample as ``stars=``.
    """
    import astro_ocl
    return astro_ocl.build_catalogue(surveys=["lamost_lrs"], **QUICK_BUILD)


#: The quick build the edited copies and the reference are made with.
QUICK_BUILD = dict(seed=1, n_realisations=50, orbit_samples=0, gradients=False,
                   literature=False)


def _edited_build(tmp_path, edit, *, warns):
    """The quick build of an edited copy of the LAMOST sample, warning ``warns``."""
    import astro_ocl
    with pytest.warns(DroppedRowsWarning, match=warns):
        return astro_ocl.build_catalogue(stars=_stars_file(tmp_path, edit), **QUICK_BUILD)


def test_duplicated_stars_counted(tmp_path, reference_build):
    res = _edited_build(tmp_path, lambda tab: (tab.duplicate(4), tab.duplicate(10)),
                        warns="2 repeated observations of 2 stars")
    ref = _dropped(reference_build, "unique stars")
    row = _dropped(res, "unique stars")
    assert row["n_in"] == ref["n_in"] + 2
    assert row["n_out"] == ref["n_out"]
    assert sum(row["dropped"].values()) == sum(ref["dropped"].values()) + 2


def test_missing_rv_counted(tmp_path, reference_build):
    def edit(tab):
        for i in (3, 7, 11):
            tab.set("rv", i, "nan")
    res = _edited_build(tmp_path, edit, warns="3 missing rv; first at row 3")
    ref = _dropped(reference_build, "usable RV")
    row = _dropped(res, "usable RV")
    assert row["n_in"] == ref["n_in"]
    assert row["n_out"] == ref["n_out"] - 3
    assert sum(row["dropped"].values()) == sum(ref["dropped"].values()) + 3


def test_zero_rv_error_counted(tmp_path, reference_build):
    """A zero uncertainty is no measurement error: the row is dropped and counted."""
    def edit(tab):
        for i in (3, 7):
            tab.set("rv_err", i, "0")
    res = _edited_build(tmp_path, edit, warns="2 zero rv error; first at row 3")
    ref = _dropped(reference_build, "usable RV")
    row = _dropped(res, "usable RV")
    assert row["n_out"] == ref["n_out"] - 2
    assert row["dropped"].get("zero rv error", 0) == ref["dropped"].get("zero rv error", 0) + 2


# ---- the command line ------------------------------------------------------------------------

def _bad_stars(tmp_path):
    reader = READERS["read_lamost"]
    tab = _editable(reader, tmp_path)
    tab.set("teff", 5, "abc")
    return _write(reader, tmp_path, tab.text(), name="stars_bad.ecsv")


def _bad_members(tmp_path):
    reader = READERS["read_cg_members"]
    tab = _editable(reader, tmp_path)
    tab.drop("Source")
    return _write(reader, tmp_path, tab.text(), name="members_bad.ecsv")


def _cut_stars(tmp_path):
    path, _ = file_gzip_cut(READERS["read_lamost"], tmp_path)
    return path.rename(tmp_path / "stars_cut.ecsv.gz")


def _bad_catalogue(tmp_path):
    """A built-catalogue folder whose clusters.ecsv is cut in the middle of a row."""
    d = tmp_path / "catalogue_bad"
    d.mkdir()
    text = Path(data_path("lamost_lrs_oc_members.ecsv")).read_text()
    (d / "clusters.ecsv").write_text(text[: len(text) // 2])
    (d / "members.ecsv").write_text(text)
    return d


def _bad_gradient_clusters(tmp_path):
    """The published catalogue has no AgeNN column: gradients cannot use it."""
    reader = READERS["read_fu2022"]
    return _write(reader, tmp_path, _editable(reader, tmp_path).text(),
                  name="clusters_bad.csv")


def _bad_upload(tmp_path):
    path = tmp_path / "upload_été.vot"
    path.write_text("<?xml version='1.0'?><VOTABLE><RESOURCE><TABLE><FIELD name='a' "
                    "datatype='int'/><DATA><TABLEDATA><TR><TD>1</TD>")
    return path


CLI_INPUTS = {
    "stars_bad": _bad_stars,
    "stars_cut": _cut_stars,
    "members_bad": _bad_members,
    "catalogue_bad": _bad_catalogue,
    "clusters_bad": _bad_gradient_clusters,
    "upload_bad": _bad_upload,
}

#: (command line, what the error line must name); {tmp} is the test folder, {NAME} the
#: bad input CLI_INPUTS[NAME] made there.
CLI_CASES = [
    ("build --stars {stars_bad} --out {out} --overwrite", "'teff'"),
    ("build --stars {stars_cut} --out {out} --overwrite", "stars_cut.ecsv.gz"),
    ("build --members {members_bad} --out {out} --overwrite", "members_bad.ecsv"),
    ("build --stars {tmp}/Données_星 --out {out} --overwrite", "Données_星"),
    ("export --catalogue {catalogue_bad} --out {out} --format ecsv", "clusters.ecsv"),
    ("gradients --clusters {clusters_bad} --out {out}/g.ecsv", "clusters_bad.csv"),
    ("gradients --clusters {clusters_bad} --out {out}/g.ecsv", "'AgeNN'"),
    ("query gaia 'SELECT 1' --upload t={upload_bad} --out {out}/q.ecsv", "upload_été.vot"),
    ("cache list --dir {stars_bad}", "stars_bad.ecsv"),
    ("reproduce --out {stars_bad}/sub", "stars_bad.ecsv"),
]


@pytest.mark.parametrize("command,named", CLI_CASES,
                         ids=[c[0].split("{")[0] + c[1] for c in CLI_CASES])
def test_cli_bad_input(command, named, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    made = {k: v(tmp_path) for k, v in CLI_INPUTS.items() if "{" + k + "}" in command}
    out = tmp_path / "out_ü"
    out.mkdir()
    (out / "previous.txt").write_text("previous output\n")
    before = sorted(tmp_path.rglob("*"))
    argv = shlex.split(command.format(tmp=tmp_path, out=out, **made))
    try:
        rc = cli.main(argv)
    except SystemExit as exc:
        rc = exc.code
    line = _one_line_error(capsys, rc, 1)
    assert line.startswith(f"astro-ocl {argv[0]}: error: "), line
    assert named in line, line
    # nothing written, nothing half-written, no temporary file left
    assert sorted(tmp_path.rglob("*")) == before
    assert (out / "previous.txt").read_text() == "previous output\n"


def test_cli_bad_input_subprocess(tmp_path):
    """The installed entry point: one line on stderr, exit status 1, no traceback."""
    import os
    import subprocess
    import sys
    bad = _bad_stars(tmp_path)
    res = subprocess.run([sys.executable, "-m", "astro_ocl.cli", "build", "--stars", str(bad),
                          "--out", str(tmp_path / "out")], capture_output=True, text=True,
                         timeout=300, env={**os.environ, "MPLBACKEND": "Agg"},
                         cwd=Path(__file__).resolve().parents[1])
    assert res.returncode == 1
    lines = [x for x in res.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and "Traceback" not in res.stderr, res.stderr
    assert "stars_bad.ecsv" in lines[0] and "'teff'" in lines[0] and "'abc'" in lines[0]
    assert not (tmp_path / "out").exists()


def test_every_exception_in_one_hierarchy():
    for name in exceptions.__all__:
        cls = getattr(exceptions, name)
        assert issubclass(cls, (exceptions.AstroOCLError, exceptions.AstroOCLWarning)), name


def test_readers_table_covers_every_reader():
    """Every public ``read_*`` of astro_ocl.sources is a row of READERS (or excused)."""
    import astro_ocl.sources as sources
    covered = {r.read.__name__ for r in READERS.values()} | {
        "read_literature", "read_lamost_members", "read_cluster_dynamics_input",
        "read_fu2022_table6",
        # rows read_survey_members[apogee] and read_lamost_members (= its "lamost_lrs")
        "read_survey_members",
        # dispatchers: read_survey(name, path) = read_table_file + SURVEYS[name].adapter,
        # the adapters of read_lamost, read_lamost_mrs, read_occam, read_gaia_rvs (rows);
        # read_cluster_catalogue(name, path) calls read_cg2020_clusters,
        # read_hr23_clusters or read_dias2021_clusters (rows)
        "read_survey", "read_cluster_catalogue"}
    excused = {"read_zucker2020", "read_tidal_radii", "read_dwarf_colours",  # FILE_EXTRA
               "read_delimited",
               # no real APOGEE allStar or GALAH table is stored here (the package embeds
               # none; tests/test_surveys.py checks their adapters on column layouts only):
               # no real file to corrupt
               "read_apogee_allstar", "read_galah"}
    public = set()
    for mod in (sources.clusters, sources.literature, sources.members, sources.surveys,
                sources.files):
        public |= {n for n in mod.__all__ if n.startswith("read_")}
    assert public - covered - excused == set()


# read_zucker2020, read_tidal_radii and read_dwarf_colours have no column choice: only
# the file corruptions
FILE_EXTRA = {
    "read_zucker2020": (literature.read_zucker2020, "zucker2020_tablea1.tsv.gz"),
    "read_tidal_radii": (literature.read_tidal_radii, "hunt2023.csv.gz"),
    "read_dwarf_colours": (literature.read_dwarf_colours, "pecaut_mamajek2013_dwarf_bprp.ecsv"),
}


@pytest.mark.parametrize("rname", list(FILE_EXTRA))
@pytest.mark.parametrize("cname", ["empty file", "gzip cut short", "directory", "missing file"])
def test_bad_file_other_readers(rname, cname, tmp_path):
    read, name = FILE_EXTRA[rname]
    src = data_path(name)
    raw = gzip.decompress(src.read_bytes()) if name.endswith(".gz") else src.read_bytes()
    suffix = ".tsv" if name.endswith(".tsv.gz") else ".ecsv" if ".ecsv" in name else ".csv"
    if cname == "empty file":
        path = tmp_path / f"empty{suffix}"
        path.write_bytes(b"")
    elif cname == "gzip cut short":
        data = gzip.compress(raw)
        path = tmp_path / f"cut{suffix}.gz"
        path.write_bytes(data[: len(data) // 2])
    elif cname == "directory":
        path = tmp_path / f"dir{suffix}"
        path.mkdir()
    else:
        path = tmp_path / f"nosuch{suffix}"
    with _expect(InputDataError, path):
        read(str(path))
    shutil.rmtree(tmp_path, ignore_errors=True)
