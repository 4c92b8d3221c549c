"""The reproducibility report of `astro_ocl.reproduce` as files: Markdown, HTML, ECSV, figures."""
import html
import re
from pathlib import Path

import numpy as np

from ..outputs import output_folder

__all__ = ["write_report", "report_markdown", "markdown_to_html", "report_files",
           "REPORT_FILES", "REPORT_TABLES"]

#: The tables of the report, by file stem, and what each holds.
REPORT_TABLES = {
    "columns": "every column of the published cluster table: agreement, verdict, finding, notes",
    "clusters": "per published cluster: published, ours (default) and fu2022 value of every "
                "compared column, and GalPot's energy and orbit",
    "table6": "the article's Table 6 against our fits, z per coefficient, per uncertainty",
    "table7": "the article's Table 7 against its rebuild, per cluster",
    "paper_tables": "every printed column of Tables 6 and 7: agreement and verdict",
    "claims": "every number the article's text quotes: paper, ours, verdict, explanation",
    "energy": "published energies against each computation, by Galactocentric radius",
    "hypotheses": "every hypothesis tested and its agreement with the published columns",
    "notes": "the explanations, each once, cited by key elsewhere",
}


def report_files(*, figures=True):
    """The files `write_report` may write into its folder (glob patterns).

    Parameters
    ----------
    figures : bool
        With the figures (``figures/*.png``).

    Returns
    -------
    tuple of str
    """
    names = ("report.md", "report.html", *(f"{k}.ecsv" for k in REPORT_TABLES))
    return names + ("figures/*.png",) if figures else names


#: Every file `write_report` may write, figures included (`report_files`).
REPORT_FILES = report_files()


def write_report(result, outdir, *, overwrite=False, figures=True):
    """Write a `~astro_ocl.reproduce.ReproductionResult` into ``outdir``, atomically.

    ``report.md``, ``report.html``, one ECSV per table of `REPORT_TABLES` and
    ``figures/`` (published against ours per column, Table 6 z, energy residuals),
    as a set (`astro_ocl.outputs.output_folder`): a failure leaves every earlier
    file as it was; nothing else in ``outdir`` is touched.

    Parameters
    ----------
    result : `~astro_ocl.reproduce.ReproductionResult`
    outdir : str or `~pathlib.Path`
    overwrite : bool
        Replace the files of the same names in ``outdir`` (nothing else there).
    figures : bool
        Draw the figures.

    Returns
    -------
    list of `~pathlib.Path`
    """
    names = []
    contents = {f"{k}.ecsv": v for k, v in REPORT_TABLES.items()}
    contents.update({"report.md": "the reproducibility report", "report.html": "the same, HTML"})
    with output_folder(outdir, overwrite=overwrite, writer="astro_ocl reproduce",
                       contents=contents) as tmp:
        for label, table in result.tables().items():
            table.write(tmp / f"{label}.ecsv", format="ascii.ecsv")
            names.append(f"{label}.ecsv")
        md = report_markdown(result)
        (tmp / "report.md").write_text(md, encoding="utf-8")
        (tmp / "report.html").write_text(markdown_to_html(md), encoding="utf-8")
        names += ["report.md", "report.html"]
        if figures:
            # plots are an optional extra (matplotlib), slow to import: only when asked
            from .figures.reproduce import (plot_energy_residuals, plot_published_vs_ours,
                                            plot_table6_z)
            drawn = plot_published_vs_ours(result.clusters, list(result.columns["column"]),
                                           tmp / "figures")
            drawn += plot_table6_z(result.table6, tmp / "figures")
            drawn += plot_energy_residuals(result.clusters, tmp / "figures")
            names += [str(p.relative_to(tmp)) for p in drawn]
    return [Path(outdir) / n for n in names]


def _num(x, fmt=".4g"):
    x = float(getattr(x, "value", x))
    return "-" if not np.isfinite(x) else format(x, fmt)


def _pct(x):
    x = float(getattr(x, "value", x))
    return "-" if not np.isfinite(x) else f"{100 * x:.1f} %"


def report_markdown(r):
    """The report of a `~astro_ocl.reproduce.ReproductionResult` as Markdown text."""
    lines = ["# Reproducing Fu et al. 2022 (A&A 668, A4; CDS J/A+A/668/A4)", "",
             f"astro_ocl {r.provenance.get('version')} on {r.provenance.get('date')}. `ours` is "
             "the package's default (physically correct) computation, `fu2022` the paper's "
             "convention (`convention=\"fu2022\"`). A verdict says what the numbers show "
             "against a stated tolerance; each explanation is written once under Notes and "
             "cited by its key.", ""]
    lines += _summary(r)
    lines += _columns(r)
    lines += _table6(r)
    lines += _table7(r)
    lines += _claims(r)
    lines += _energy(r)
    lines += _hypotheses(r)
    lines += ["", "## Notes", ""]
    lines += [f"- **{k}** ({ti}): {tx}" for k, ti, tx in r.notes]
    lines += ["", "## Defects of the published table and the article", ""]
    lines += [f"- {d}" for d in r.defects]
    lines += ["", "## Figures", "",
              "`figures/<column>.png`: published against ours per column (default and paper "
              "convention); `figures/table6_z.png`: z of every Table 6 coefficient for each "
              "per-cluster uncertainty; `figures/energy_residuals.png`: published energies "
              "against galpy (paper convention) and GalPot, by radius.", ""]
    return "\n".join(lines)


def _summary(r):
    c, pt, cl = r.columns, r.paper_tables, r.claims
    s = r.table6.meta["summary"]
    counts = lambda t: ", ".join(f"{v} {k}" for k, v in zip(  # noqa: E731
        *np.unique(np.asarray(t["verdict"]), return_counts=True)))
    out = ["## Summary", "",
           f"- Published cluster table: {len(c)} columns; {counts(c)}.",
           f"- Table 6 ({s['fu2022']['n']} coefficients), z = (ours - paper) / the paper's "
           f"error: with sigma = s_[Fe/H] (the paper's) max abs(z) {s['fu2022']['max_abs_z']:.2f}, "
           f"{s['fu2022']['n_within_0.5']} within {r.table6.meta['tolerance_abs_z']:g}, widths "
           f"{s['fu2022']['median_width_ratio']:.2f} of the paper's; with sigma = e_[Fe/H]med "
           f"(the default) max abs(z) {s['default']['max_abs_z']:.2f}, {s['default']['n_over_1']} "
           f"beyond 1, widths {s['default']['median_width_ratio']:.2f}. The paper used s_[Fe/H] "
           "(note table6).",
           f"- Table 7 ({len(r.table7)} clusters, {int(np.sum(pt['table'] == '7'))} columns): "
           f"{counts(pt[pt['table'] == '7'])} (notes table7, table6).",
           f"- Numbers quoted in the text: {len(cl)}; {counts(cl)}.",
           ""]
    return out


def _columns(r):
    out = ["## The published cluster table (CDS J/A+A/668/A4)", "",
           "| column | rebuilt from | n | median diff | max diff | within tol. | fu2022 within "
           "| tolerance | verdict | finding | notes |",
           "|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in r.columns:
        out.append(f"| {row['column']} | {row['group']} | {row['n']} | {_num(row['median_diff'])} "
                   f"| {_num(row['max_diff'])} | {_pct(row['frac_ok'])} "
                   f"| {_pct(row['frac_ok_fu2022'])} | {row['tolerance']} | {row['verdict']} "
                   f"| {row['finding']} | {row['notes'] or '-'} |")
    return out + [""]


def _paper_rows(r, table):
    pt = r.paper_tables[r.paper_tables["table"] == table]
    out = ["| column | measure | n | within tol. (default) | within tol. (fu2022) | tolerance "
           "| verdict | finding | notes |", "|---|---|---|---|---|---|---|---|---|"]
    for row in pt:
        out.append(f"| {row['column']} | {row['measure']} | {row['n']} | {_pct(row['frac_ok'])} "
                   f"| {_pct(row['frac_ok_fu2022'])} | {row['tolerance']} | {row['verdict']} "
                   f"| {row['finding']} | {row['notes']} |")
    return out


def _table6(r):
    t6 = r.table6
    s = t6.meta["summary"]
    out = ["## Table 6 (metallicity gradients)", "",
           f"Model: {t6.meta.get('model')}. Fits: {t6.meta.get('method')}, on the published "
           "catalogue with CG2020 ages (clusters with >= 3 FLAG=12 stars and a CG2020 age and "
           f"distance). Paper values: {t6.meta.get('paper_values')}. z = (ours - paper) / the "
           "paper's error on the side of ours. Figure: `figures/table6_z.png`.", "",
           "| per-cluster sigma | n | max abs z | within tol. | beyond 1 | widths / paper's |",
           "|---|---|---|---|---|---|"]
    for label, v in s.items():
        out.append(f"| `{v['uncertainty']}` ({label}) | {v['n']} | {v['max_abs_z']:.2f} "
                   f"| {v['n_within_0.5']} | {v['n_over_1']} | {v['median_width_ratio']:.2f} |")
    out += [""] + _paper_rows(r, "6") + [
        "", "| age group | x | coef | N | paper | +/- | s_[Fe/H]: p50 | z | e_[Fe/H]med: p50 "
        "| z |", "|---|---|---|---|---|---|---|---|---|---|"]
    for q in t6:
        out.append(f"| {q['age_group']} | {q['x']} | {q['coefficient']} | {q['N']} "
                   f"| {q['paper']:.4g} | +{q['paper_plus']:.3g}/-{q['paper_minus']:.3g} "
                   f"| {q['p50_fu2022']:.4g} | {q['z_fu2022']:+.2f} | {q['p50_default']:.4g} "
                   f"| {q['z_default']:+.2f} |")
    return out + [""]


def _table7(r):
    t7 = r.table7
    cols = [c[:-4] for c in t7.colnames if c.endswith("_pub")]
    out = ["## Table 7 (young clusters along the Radcliffe wave)", "",
           f"Ours: {t7.meta.get('ours')}. Paper values: {t7.meta.get('paper_values')}.", ""]
    out += _paper_rows(r, "7")
    out += ["", "| Cluster | " + " | ".join(f"{c} paper / ours" for c in cols) + " |",
            "|---|" + "---|" * len(cols)]
    for q in t7:
        cells = []
        for c in cols:
            ours = q[f"{c}_fu2022"] if c == "e_[Fe/H]" else q[f"{c}_ours"]
            cells.append(f"{_num(q[f'{c}_pub'], '.6g')} / {_num(ours, '.6g')}")
        out.append(f"| {q['Cluster']} | " + " | ".join(cells) + " |")
    out += ["", "(e_[Fe/H]: ours in the paper's convention, s_[Fe/H].)"]
    return out + [""]


def _claims(r):
    out = ["## Numbers quoted in the article's text", "",
           "Tolerance: one unit of the article's last printed digit (counts: equal). `ours "
           "(correct)`: the default convention where it differs; `catalogue`: the published "
           "CDS table.", "",
           "| section | quantity | paper | ours | ours (correct) | catalogue | verdict "
           "| explanation |", "|---|---|---|---|---|---|---|---|"]
    for q in r.claims:
        ours = _num(q["ours"], ".4g") + (f" ({q['ours_text']})" if q["ours_text"] else "")
        out.append(f"| {q['section']} | {q['quantity']} | {q['paper_text']} {q['unit']} "
                   f"| {ours} | {_num(q['ours_correct'])} | {_num(q['catalogue'])} "
                   f"| {q['verdict']} | {q['explanation']} |")
    return out + [""]


def _energy(r):
    e = r.energy
    out = ["## Energy by Galactocentric radius", "",
           "Medians of computed minus published energy (km2/s2) per radius bin of the paper "
           "frame; `galpy - GalPot` is the difference of the two McMillan17 potentials at the "
           "same point (note energy). Figure: `figures/energy_residuals.png`.", "",
           "| R bin | n | default | fu2022 | GalPot (d sin b) | GalPot (ZGC) | galpy - GalPot "
           "| max abs fu2022 | max abs GalPot |", "|---|---|---|---|---|---|---|---|---|"]
    for q in e:
        out.append(f"| {q['R_bin']} | {q['n']} | {_num(q['default'], '+.1f')} "
                   f"| {_num(q['fu2022'], '+.1f')} | {_num(q['galpot'], '+.2f')} "
                   f"| {_num(q['galpot_ZGC'], '+.1f')} | {_num(q['galpy_minus_galpot'], '+.1f')} "
                   f"| {_num(q['max_abs_fu2022'], '.1f')} | {_num(q['max_abs_galpot'], '.2f')} |")
    return out + [""]


def _hypotheses(r):
    out = ["## Hypotheses tested", "",
           "Differences: hypothesis minus published, on the clusters with a CG2020 distance.", "",
           "| hypothesis | column | n | median diff | max diff | median rel. | within tol. "
           "| holds |", "|---|---|---|---|---|---|---|---|"]
    for h in r.hypotheses:
        out.append(f"| {h['hypothesis']} | {h['column']} | {h['n']} | {_num(h['median_diff'])} "
                   f"| {_num(h['max_diff'])} | {_num(h['median_reldiff'], '.2g')} "
                   f"| {_pct(h['frac_ok'])} | {'yes' if h['holds'] else 'no'} |")
    return out + [""]


def markdown_to_html(md):
    """A self-contained HTML page of the Markdown report (tables, lists, headings)."""
    out = ["<!DOCTYPE html><html><head><meta charset='utf-8'>"
           "<title>Reproducing Fu et al. 2022</title><style>"
           "body{font-family:sans-serif;max-width:80em;margin:auto}"
           "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px}"
           "</style></head><body>"]
    in_table = in_list = False
    for line in md.splitlines():
        esc = html.escape(line)
        if line.startswith("|"):
            cells = [html.escape(x.strip()) for x in line.strip("|").split("|")]
            if set("".join(cells)) <= set("-"):
                continue
            if not in_table:
                out.append("<table>")
                in_table = True
                out.append("<tr>" + "".join(f"<th>{_inline(x)}</th>" for x in cells) + "</tr>")
            else:
                out.append("<tr>" + "".join(f"<td>{_inline(x)}</td>" for x in cells) + "</tr>")
            continue
        if in_table:
            out.append("</table>")
            in_table = False
        if line.startswith("- "):
            if not in_list:
                out.append("<ul>")
                in_list = True
            out.append(f"<li>{_inline(esc[2:])}</li>")
            continue
        if in_list:
            out.append("</ul>")
            in_list = False
        if line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            out.append(f"<h{level}>{_inline(esc[level:].strip())}</h{level}>")
        elif line.strip():
            out.append(f"<p>{_inline(esc)}</p>")
    if in_table:
        out.append("</table>")
    if in_list:
        out.append("</ul>")
    out.append("</body></html>")
    return "\n".join(out)


def _inline(text):
    text = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", text)
    return re.sub(r"`(.+?)`", r"<code>\1</code>", text)
