"""A CDS submission bundle: ReadMe, fixed-width ``.dat`` tables and VOTables.

:func:`write_cds_bundle` writes a directory ready to send to CDS (VizieR)::

    ReadMe            CDS standard ReadMe (title, authors, abstract, description,
                      file summary, byte-by-byte description, notes, references)
    clusters.dat      fixed-width tables described byte by byte in the ReadMe
    members.dat
    clusters.vot      the same tables as CDS VOTables (format "votable.cds")
    members.vot

It is registered with `astropy.io.registry` as ``"cds.submission"`` (for one
table: the path is the directory)::

    clusters.write("submission", format="cds.submission", overwrite=True)

The ReadMe is generated with `cdspyreadme`, with its known pitfalls fixed:

* formats are forced from the package schema (cdspyreadme guesses them from
  the data, which changes the precision from one release to the next);
* units are given in CDS syntax (``km/s``, ``mas/yr``, ``[-]`` for [Fe/H],
  ``[cm/s2]`` for log g, ``[yr]`` for log ages) instead of astropy's
  ``to_string("cds")`` of a dex unit;
* labels/descriptions are set explicitly; the Note of a column goes to the
  Notes section; masked values are written blank and flagged ``?``;
* integral float columns with an ``I`` format are written as integers, and
  Unicode text is written as ASCII (the ReadMe and ``.dat`` are ASCII only).

Reading the bundle back with astropy's ``ascii.cds`` reader gives the same
values (to the written precision), units and masks; the tests check it.
The files are written atomically as a set (`astro_ocl.outputs.output_folder`);
existing files of the same names are replaced only with ``overwrite=True`` and
nothing else in the folder is touched.
"""
import datetime
import io
import re
import tempfile
import textwrap
from pathlib import Path

import astropy.units as u
import cdspyreadme
import numpy as np
from astropy.table import Column, MaskedColumn, Table

from .. import schema
from ..version import __version__
from ..logger import log
from ..outputs import output_folder
from . import labels
from .tables import auto_format, is_log_unit, to_plain_table
from .votable_cds import default_provenance, parse_cds_format, specs_for, write_votable_cds

__all__ = ["write_cds_bundle", "cds_unit_of", "DEFAULT_METADATA", "readme_fields"]

#: ReadMe fields used when the caller gives none.
#: A rebuild is a new catalogue: CDS assigns its designation (``J/???/???`` is
#: their placeholder) and the submitters are its authors, so pass ``catalogue``,
#: ``author``, ``authors`` and ``bibcode`` (of the paper describing it) in
#: ``metadata``. Fu et al. (2022), whose method it follows, is cited in the
#: references, not named as its author. ``title``, ``abstract`` and ``description``
#: are templates filled from the tables written (`astro_ocl.sinks.labels`):
#: ``{surveys}`` (the survey names), ``{spectra}`` (each survey's spectra with its
#: number of stars), ``{n_clusters}``, ``{n_stars}``, ``{n_realisations}``,
#: ``{zero_points}`` (what was done with the survey zero points) and
#: ``{survey_columns}``; the survey references are added to ``references``.
DEFAULT_METADATA = {
    "catalogue": "J/???/???",
    "title": "Galactic open clusters: Gaia members with {surveys} spectra "
             "(method of Fu et al. 2022, astro_ocl)",
    "author": "Anonymous",
    "authors": "Anonymous (give the authors with metadata={'authors': ...})",
    "date": str(datetime.date.today().year),
    "bibcode": "",
    "keywords": "open clusters and associations: general - stars: abundances - "
                "techniques: radial velocities - Galaxy: abundances",
    "abstract": "Radial velocities and metallicities of {n_clusters} Galactic open clusters "
                "derived from {spectra} of Gaia (Cantat-Gaudin et al.) cluster members, "
                "{n_stars} stars in all, with Monte Carlo uncertainties and quality flags, "
                "following the method of Fu et al. (2022, A&A 668, A4). {zero_points}",
    "description": "The cluster table gives, for each open cluster, the number of "
                   "spectroscopic members, the median and mean radial velocity and [Fe/H] "
                   "with their uncertainties from {n_realisations} Monte Carlo realisations, "
                   "and the dispersions{survey_columns}. The member table lists the {surveys} "
                   "stars matched to Cantat-Gaudin et al. members with their quality flag. "
                   "Built with the astro_ocl package.",
    "references": [
        "Fu X. et al. 2022, A&A 668, A4 (2022A&A...668A...4F)",
        "Cantat-Gaudin T. et al. 2020, A&A 640, A1 (2020A&A...640A...1C)",
        "Cantat-Gaudin T. et al. 2018, A&A 618, A93 (2018A&A...618A..93C)",
    ],
}


def readme_fields(named, provenance):
    """The values of the ``DEFAULT_METADATA`` templates for the tables ``named``.

    Parameters
    ----------
    named : dict
        ``{stem: table}`` (``clusters`` and ``members`` are recognised).
    provenance : dict

    Returns
    -------
    fields : dict
        ``surveys, spectra, n_clusters, n_stars, n_realisations, zero_points,
        survey_columns``.
    counts : dict
        ``{survey: stars}`` (`astro_ocl.sinks.labels.catalogue_survey_counts`).
    noun : str
        What ``counts`` count.
    """
    clusters, members = named.get("clusters"), named.get("members")
    counts, noun = labels.catalogue_survey_counts(members=members, clusters=clusters,
                                                  provenance=provenance)
    n_stars = (len(members) if members is not None
               else sum(n for n in counts.values() if n) or "the")
    names = list(counts)
    surveys = (names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]) \
        if names else "spectroscopic survey"
    has_columns = clusters is not None and "RVsurveys" in clusters.colnames
    fields = {
        "surveys": surveys,
        "spectra": labels.spectra_phrase(counts, noun=noun),
        "n_clusters": len(clusters) if clusters is not None else "the",
        "n_stars": n_stars,
        "n_realisations": provenance.get("n_realisations", "the"),
        "zero_points": labels.zero_point_sentence(provenance),
        "survey_columns": ("; RVsurveys and FeHsurveys say which surveys, with how many "
                           "stars, made each value" if has_columns else ""),
    }
    return fields, counts, noun


_README_TEMPLATE = """\
$catalogue                                                      ($author, $date)
================================================================================
$title
    $authors
    $bibcode
================================================================================
Keywords: $keywords

Abstract:
  $abstract

Description:
  $description

File Summary:
--------------------------------------------------------------------------------
$tablesIndex
--------------------------------------------------------------------------------

$bytebybyte
$provenance
References:
$references
================================================================================
     (prepared by astro_ocl $version with cdspyreadme)
"""


def cds_unit_of(unit, *, spec=None):
    """The unit of a column in CDS syntax (``---`` when it has none).

    Parameters
    ----------
    unit : `~astropy.units.UnitBase` or None
    spec : `~astro_ocl.schema.ColumnSpec`, optional
        Its ``cds_unit`` wins (log units: ``[-]``, ``[cm/s2]``, ``[yr]``).
    """
    if spec is not None and spec.cds_unit:
        return spec.cds_unit
    if unit is None:
        return "---"
    if is_log_unit(unit):
        phys = unit.physical_unit
        return "[-]" if phys == u.dimensionless_unscaled else f"[{phys.to_string('cds')}]"
    unit = u.Unit(unit)
    if unit == u.dimensionless_unscaled:
        return "---"
    return cds_unit_string(unit)


def cds_unit_string(unit):
    """Write ``unit`` the way CDS ReadMes do: ``km/s``, ``mas/yr``, ``cm/s2``.

    astropy's ``to_string("cds")`` gives ``km.s-1``, valid but not the CDS
    habit; the result is checked to parse back (CDS format) to the same unit.

    Parameters
    ----------
    unit : `~astropy.units.UnitBase`
    """
    unit = u.Unit(unit)
    bases = getattr(unit, "bases", None)
    if not bases or unit.scale != 1:
        return unit.to_string("cds")
    num, den = [], []
    for base, power in zip(unit.bases, unit.powers):
        name = base.to_string("cds")
        p = abs(power)
        text = name if p == 1 else f"{name}{int(p) if float(p).is_integer() else p}"
        (num if power > 0 else den).append(text)
    out = ".".join(num) if num else "1"
    if den:
        out += "/" + ".".join(den) if len(den) == 1 else "/(" + ".".join(den) + ")"
    try:
        if u.Unit(out, format="cds") == unit:
            return out
    except ValueError:
        pass
    return unit.to_string("cds")


def _prepare(table, specs, column_descriptions=None):
    """A plain Table ready for cdspyreadme, with per-column (fmt, unit, description)."""
    plain = to_plain_table(table, specs=specs)
    out = Table()
    meta = {}
    for name in plain.colnames:
        col = plain[name]
        spec = specs.get(name)
        fmt = spec.fmt if spec else auto_format(col)
        kind, width, decimals = parse_cds_format(fmt)
        orig = table[name] if name in table.colnames else None
        unit = orig.unit if isinstance(orig, u.Quantity) else col.unit
        cunit = cds_unit_of(unit, spec=spec)
        desc = ((column_descriptions or {}).get(name) or (spec.description if spec else None)
                or col.description or name)
        if name == "Flag":
            desc = "Quality flag"  # the meaning goes to a Note
        data = np.ma.asarray(col)
        if data.dtype.kind == "f":
            data = np.ma.masked_invalid(data)
        if kind == "I" and data.dtype.kind == "f":
            data = np.ma.masked_array(np.round(data.filled(0)).astype(np.int64), mask=data.mask)
        elif kind == "I" and data.dtype.kind == "b":
            data = data.astype(np.int64)
        elif kind == "A":
            strs = np.array([str(v).encode("ascii", "replace").decode() for v in
                             np.asarray(data.filled("") if np.ma.isMaskedArray(data) else data)])
            width = max(width, max([len(s) for s in strs] or [1]))
            fmt = f"A{width}"
            data = np.ma.masked_array(strs, mask=np.ma.getmaskarray(data))
        if kind in "FE":
            # widen the format when the data needs more digits than the schema allows
            finite = np.asarray(data.compressed(), float)
            if finite.size:
                need = max(len(f"{v:.{decimals or 0}f}") for v in (finite.min(), finite.max()))
                if kind == "F" and need > width:
                    fmt = f"F{need}.{decimals}"
        # cdspyreadme takes the explanation from the column description when it
        # parses the column (after our settings): set it on the column itself
        if np.ma.is_masked(data):
            newcol = MaskedColumn(data.data, mask=data.mask, name=name, description=desc)
        else:
            newcol = Column(np.asarray(data), name=name, description=desc)
        out.add_column(newcol)
        meta[name] = (fmt, cunit, desc)
    return out, meta


def _bundle_tables(tables):
    """Normalise the ``tables`` argument into an ordered dict name -> table."""
    if hasattr(tables, "clusters") and hasattr(tables, "members"):  # CatalogueResult
        return {"clusters": tables.clusters, "members": tables.members}
    if isinstance(tables, Table):
        name = tables.meta.get("name") or tables.meta.get("schema") or "table1"
        return {str(name): tables}
    return dict(tables)


def write_cds_bundle(tables, path, *, overwrite=False, provenance=None, metadata=None,
                     votables=True, descriptions=None, ucds=None, column_descriptions=None):
    """Write a CDS submission directory (ReadMe, ``.dat`` files, VOTables).

    Parameters
    ----------
    tables : `~astropy.table.Table`, dict or `~astro_ocl.result.CatalogueResult`
        One table, a mapping ``{file stem: table}``, or a result (its
        ``clusters`` and ``members``).
    path : str or `~pathlib.Path`
        The directory to create.
    overwrite : bool
        Replace the files of the same names in ``path`` (nothing else there);
        otherwise an existing one raises `~astro_ocl.exceptions.OutputExistsError`.
    provenance : dict, optional
        Written to the ReadMe and as VOTable INFOs (default: the result's or
        the first table's ``meta["provenance"]``).
    metadata : dict, optional
        ReadMe fields overriding :data:`DEFAULT_METADATA`: ``catalogue, title,
        author, authors, date, bibcode, keywords, abstract, description,
        references`` (list of str). ``author`` (the first author, who names
        the catalogue) defaults to the first name of ``authors``.
    votables : bool
        Also write ``<stem>.vot`` for each table.
    descriptions : dict, optional
        ``{stem: one-line description}`` for the File Summary.
    ucds, column_descriptions : dict, optional
        ``{column: UCD}`` and ``{column: explanation}`` for columns the package
        schema does not know (a user's table).

    Returns
    -------
    list of `~pathlib.Path`
        The files of the bundle (at their final place).
    """
    if provenance is None:
        provenance = getattr(tables, "provenance", None)
    named = _bundle_tables(tables)
    if provenance is None:
        first = next(iter(named.values()))
        provenance = default_provenance(first.meta)
    given = metadata or {}
    md = {**DEFAULT_METADATA, **given}
    if given.get("authors") and not given.get("author"):
        # the first author (who names the catalogue) is the first of ``authors``
        md["author"] = str(given["authors"]).split(",")[0].strip()
    # the default texts say what the tables hold: their surveys and star counts
    fields, counts, _ = readme_fields(named, provenance)
    for key in ("title", "abstract", "description"):
        if key not in given:
            md[key] = " ".join(md[key].format(**fields).split())
    if "references" not in given:
        md["references"] = list(dict.fromkeys(
            md["references"] + labels.survey_references(counts, provenance)))
    # the File Summary names the surveys; the VOTables also give their numbers of stars
    user_descriptions = descriptions or {}
    descriptions = {**labels.catalogue_descriptions(named, provenance, counts_in_text=False),
                    **user_descriptions}
    vot_descriptions = {**labels.catalogue_descriptions(named, provenance),
                        **user_descriptions}
    path = Path(path)
    names = []
    with output_folder(path, overwrite=overwrite, writer="astro_ocl CDS bundle",
                       manifest=False) as tmp:  # the folder holds what CDS receives
        tm = cdspyreadme.CDSTablesMaker(outfolder=str(tmp))
        for key in ("title", "author", "authors", "catalogue", "date", "abstract", "keywords",
                    "bibcode"):
            setattr(tm, key, md[key])
        tm.more_description = md["description"]
        for stem, table in named.items():
            specs = specs_for(table)
            plain, colmeta = _prepare(table, specs, column_descriptions)
            desc = descriptions.get(stem) or table.meta.get("description") or stem
            ctab = tm.addTable(plain, name=f"{stem}.dat", description=desc)
            for name in plain.colnames:
                fmt, cunit, cdesc = colmeta[name]
                ccol = ctab.get_column(name)
                ccol.set_format(fmt)
                ccol.unit = cunit
                ccol.description = cdesc
                note = schema.flag_note(provenance) if name == "Flag" else None
                if note:  # the meaning of the flags for the cuts this build used
                    ccol.note = "\n    ".join(textwrap.wrap(note, width=75))
            names.append(f"{stem}.dat")
        tm.writeCDSTables()
        prov = "".join(f"  {k}: {v}\n" for k, v in provenance.items())
        values = {
            "provenance": ("Provenance:\n" + _wrap_block(prov) + "\n") if prov else "",
            "references": "".join(f"  {r}\n" for r in md["references"]).rstrip("\n"),
            "version": __version__,
        }
        readme_template = _README_TEMPLATE if md["bibcode"] else \
            _README_TEMPLATE.replace("    $bibcode\n", "")
        with tempfile.NamedTemporaryFile("w", suffix=".template", dir=tmp, delete=False) as fd:
            fd.write(readme_template)
            template = fd.name
        tm.setReadmeTemplate(template, values)
        buf = io.StringIO()
        tm.makeReadMe(out=buf)
        with open(tmp / "ReadMe", "w", encoding="ascii", errors="replace") as fd:
            fd.write(_fix_readme(buf.getvalue()))
        Path(template).unlink()
        names.insert(0, "ReadMe")
        if votables:
            for stem, table in named.items():
                write_votable_cds(table, tmp / f"{stem}.vot", provenance=provenance,
                                  table_name=stem,
                                  table_description=vot_descriptions.get(stem), ucds=ucds,
                                  descriptions=column_descriptions)
                names.append(f"{stem}.vot")
    log.info("wrote CDS bundle %s (%s)", path, ", ".join(names))
    return [path / n for n in names]


_BBB_LINE = re.compile(r"^\s*(\d+)(?:-\s*(\d+))?\s+([AIFE]\d+(?:\.\d+)?)\s+(\S+)\s+(\S+)\s*(.*)$")


def _fix_readme(text):
    """Realign the byte-by-byte sections of a cdspyreadme ReadMe.

    cdspyreadme gives the Units column a fixed width of 6 characters, so a
    longer unit (``[cm/s2]``, ``mas/yr``...) shifts Label and Explanations on
    that line; this rebuilds each section with widths fitting the longest entry
    and re-wraps the explanations to 80 characters.
    """
    lines = text.splitlines()
    out, i = [], 0
    while i < len(lines):
        line = lines[i]
        if not line.startswith("Byte-by-byte Description of file:"):
            out.append(line)
            i += 1
            continue
        out.extend(lines[i:i + 2])  # title and rule
        header_at = i + 2
        i += 4  # title, rule, header, rule
        entries = []
        while i < len(lines) and not lines[i].startswith("-----"):
            m = _BBB_LINE.match(lines[i])
            if m:
                entries.append(list(m.groups()))
            elif entries:
                entries[-1][5] += " " + lines[i].strip()
            i += 1
        wb = max(len(e[1] or e[0]) for e in entries)
        wf = max(6, max(len(e[2]) for e in entries))
        wu = max(5, max(len(e[3]) for e in entries))
        wl = max(5, max(len(e[4]) for e in entries))
        out.append(f"{'Bytes':>{2 * wb + 1}} {'Format':<{wf}} {'Units':<{wu}} {'Label':<{wl}} "
                   "Explanations")
        out.append(lines[header_at + 1])
        for start, end, fmt, unit, label, expl in entries:
            pos = (f"{start:>{wb}}-{end:>{wb}}" if end else f"{'':>{wb}} {start:>{wb}}")
            head = f"{pos} {fmt:<{wf}} {unit:<{wu}} {label:<{wl}} "
            # continuation lines under the text (after "? " of a nullable column),
            # every line within 80 characters
            indent = len(head) + (2 if expl.startswith("? ") else 0)
            out.extend(textwrap.wrap(expl, width=max(80, indent + 20), initial_indent=head,
                                     subsequent_indent=" " * indent) or [head])
    # drop the doubled rules (and blank lines between them) cdspyreadme leaves
    clean = []
    for line in out:
        if line.startswith("-----"):
            j = len(clean)
            while j and not clean[j - 1].strip():
                j -= 1
            if j and clean[j - 1].startswith("-----") and j < len(clean):
                del clean[j:]
                continue
            if j and clean[j - 1].startswith("-----") and j == len(clean):
                continue
        clean.append(line)
    text = "\n".join(clean) + "\n"
    return re.sub(r"\n{3,}", "\n\n", text)


def _wrap_block(text):
    lines = []
    for line in text.splitlines():
        lines.extend(textwrap.wrap(line, width=80, subsequent_indent="      ") or [""])
    return "\n".join(lines)
