"""Regenerate every performance figure that README.md and the docs quote.

    python benchmarks/run_all.py [--quick] [--only NAME ...] [--no-write]

Runs the benchmarks one after the other (never two at once), each in its own
process with ``--json``, and

1. writes ``docs/benchmarks.rst``: the machine (CPU, cores, memory), the load
   average before and after each benchmark, the library versions, the date, the
   command, and one table of every figure with its row id, what was measured, the
   baseline and the script that produced it;
2. rewrites the figures quoted in README.md and docs/*.rst. A quoted figure is
   written ``**<figure>** [bench:<row id>]``; its text is replaced by the row's
   figure (``tests/test_benchmark_figures.py`` checks that every performance figure
   in those files is quoted this way and equals its row).

``--quick`` runs each benchmark at reduced size or repetition (to check that
everything works; the header says so): figures to quote come from a full run on a
quiet machine. A benchmark that fails (no STILTS, no local TAP server) is reported
and its rows are missing; quotes of missing rows are left as they are and listed.
"""
import argparse
import datetime
import json
import os
import re
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402

ROOT = C.ROOT
DOC = ROOT / "docs" / "benchmarks.rst"

#: name -> (script, arguments of a full run, arguments of a quick run)
BENCHMARKS = {
    "crossmatch": ("bench_crossmatch.py", [], ["--quick"]),
    "orbits": ("bench_orbits.py", [], ["--quick"]),
    "build": ("bench_build.py", [], ["--quick"]),
    "gradients": ("bench_gradients.py", ["--repeat-emcee", "3"], ["--quick"]),
    "tap": ("bench_tap.py", [], ["--quick"]),
    "scale": ("bench_scale.py", ["--sizes", "1e6", "4e6", "11e6", "--gaia", "1e7",
                                 "--workers", "2", "1"], ["--quick"]),
}

#: How a quoted figure is written in README.md and docs/*.rst.
#: (The figure may run over a line break; whitespace in it counts as one space.)
QUOTE = re.compile(r"\*\*(?P<quote>[^*]+?)\*\*(?P<sep>\s+)\[bench:(?P<id>[A-Za-z0-9_.-]+)\]")


def same_quote(a, b):
    return " ".join(a.split()) == " ".join(b.split())


def run_benchmark(name, script, extra, workdir):
    """Run one benchmark in its own process, its output shown as it comes."""
    out = Path(workdir) / f"{name}.json"
    cmd = [sys.executable, str(ROOT / "benchmarks" / script), *extra, "--json", str(out)]
    print(f"\n===== {name}: {' '.join(cmd[1:])}", flush=True)
    load_before = C.load_now()
    env = dict(os.environ, MPLBACKEND="Agg",
               PYTHONPATH=os.pathsep.join([str(ROOT)] + [p for p in [
                   os.environ.get("PYTHONPATH")] if p]))
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=env, cwd=ROOT)
    for line in proc.stdout:
        print(f"  {line}", end="", flush=True)
    rc = proc.wait()
    if rc or not out.exists():
        print(f"===== {name} FAILED (exit {rc})", flush=True)
        return None
    data = json.loads(out.read_text())
    data["load_before"] = load_before
    data["arguments"] = " ".join([f"benchmarks/{script}", *extra])
    return data


def _cell(text):
    """Text for an rst table cell (``|`` and ``*`` escaped; see `unescape`)."""
    text = str(text).replace("\n", " ").strip() or "--"
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("*", "\\*")


def unescape(cell):
    """The text of a cell written by `_cell`."""
    return re.sub(r"\\(.)", r"\1", cell)


def write_doc(results, info, args, failed):
    """docs/benchmarks.rst from the benchmarks' rows."""
    mode = "quick (reduced sizes and repetitions; not for quoting)" if args.quick else "full"
    versions = ", ".join(f"{k} {info[k]}" for k in
                         ("python", "numpy", "scipy", "astropy", "galpy", "emcee", "pyvo",
                          "threadpoolctl", "lsdb", "dask", "stilts", "java")
                         if info.get(k))
    intro = (
        "Every performance figure that README.md and these docs quote is a row of the "
        "table below, produced by the benchmark script named in the row; a quoted figure "
        "is written ``**<figure>** [bench:<row id>]`` and ``benchmarks/run_all.py`` "
        "rewrites it from the row (``tests/test_benchmark_figures.py`` checks both). "
        "Speed figures are ratios against the best baseline at its documented best "
        "(astropy's ``search_around_sky`` with the small catalogue searched around, STILTS "
        "``tmatch2`` with its fastest ``tuning`` on the same files, galpy's McMillan17 "
        "with ``dop853_c``), timed as whole processes where tools are compared, "
        "interleaved (A B A B ...), medians kept; memory in separate runs (PSS of the "
        "process and its workers). Each script's docstring says exactly what it "
        "measures.")
    lines = [
        ".. This file is written by benchmarks/run_all.py: do not edit it by hand.",
        "",
        "Benchmarks",
        "==========",
        "",
        *textwrap.wrap(intro, 88),
        "",
        f"* Command: ``python benchmarks/run_all.py{' --quick' if args.quick else ''}``",
        f"* Mode: {mode}",
        f"* Date: {info['date']}; astro_ocl commit {info.get('astro_ocl commit')}",
        f"* Machine: {info['cpu']}, {info['cores']} cores ({info['usable cores']} usable), "
        f"{info['memory GiB']} GiB; {info['os']}",
        f"* Load average (1, 5, 15 min) at the start: {info['load average (1, 5, 15 min)']}; "
        f"at the end: {C.load_now()}",
        f"* Versions: {versions}",
    ]
    for name, data in results.items():
        lines.append(f"* ``{data['arguments']}``: load average {data['load_before'][0]} "
                     f"before, {data['load_after'][0]} after")
    for name in failed:
        lines.append(f"* ``{name}``: failed or not run in this run (no rows)")
    lines += ["", ".. list-table::", "   :header-rows: 1", "   :widths: 18 34 16 20 12", "",
              "   * - Row", "     - What", "     - Figure", "     - Baseline",
              "     - Script"]
    for name, data in results.items():
        for f in data["figures"]:
            lines += [f"   * - ``{f['id']}``", f"     - {_cell(f['what'])}",
                      f"     - {_cell(f['quote'])}", f"     - {_cell(f['baseline'])}",
                      f"     - ``{Path(f['script']).name}``"]
    notes = [n for data in results.values() for n in data.get("notes", [])]
    if notes:
        lines += ["", "Notes of this run:", ""]
        for n in notes:
            lines += textwrap.wrap(_cell(n), 88, initial_indent="* ", subsequent_indent="  ")
    DOC.write_text("\n".join(lines) + "\n")
    print(f"\nwrote {DOC.relative_to(ROOT)}")


def quoting_files():
    return [ROOT / "README.md"] + sorted(p for p in (ROOT / "docs").glob("*.rst")
                                         if p.name != "benchmarks.rst")


def rewrite_text(text, rows, unknown):
    """``text`` with each quoted figure replaced by its row's; unknown ids appended."""
    def sub(m):
        row = rows.get(m.group("id"))
        if row is None:
            unknown.append(m.group("id"))
            return m.group(0)
        if same_quote(m.group("quote"), row["quote"]):
            return m.group(0)  # unchanged (keeps its line breaks)
        return f"**{row['quote']}**{m.group('sep')}[bench:{m.group('id')}]"
    return QUOTE.sub(sub, text)


def rewrite_quotes(rows):
    """Rewrite the quoted figures of README.md and docs/*.rst; returns the unknown ids."""
    unknown = []
    for path in quoting_files():
        text = path.read_text()
        missing = []
        new = rewrite_text(text, rows, missing)
        unknown += [f"{path.relative_to(ROOT)}: {m}" for m in missing]
        if new != text:
            path.write_text(new)
    return unknown


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="reduced sizes and repetitions")
    ap.add_argument("--only", nargs="+", choices=list(BENCHMARKS),
                    help="these benchmarks only (printed; the docs are not written)")
    ap.add_argument("--no-write", action="store_true",
                    help="print only: leave docs/benchmarks.rst and the quotes alone")
    args = ap.parse_args(argv)
    info = C.print_machine(tools=True)
    started = datetime.datetime.now()
    results, failed = {}, []
    with tempfile.TemporaryDirectory(prefix="run_all_") as tmp:
        for name, (script, full, quick) in BENCHMARKS.items():
            if args.only and name not in args.only:
                continue
            data = run_benchmark(name, script, quick if args.quick else full, tmp)
            if data is None:
                failed.append(name)
            else:
                results[name] = data
    rows = {}
    for data in results.values():
        for f in data["figures"]:
            if f["id"] in rows:
                raise SystemExit(f"two rows with the id {f['id']}")
            rows[f["id"]] = f
    print(f"\n{len(rows)} figures from {len(results)} benchmarks in "
          f"{(datetime.datetime.now() - started).total_seconds() / 60:.1f} min"
          + (f"; failed: {', '.join(failed)}" if failed else ""))
    for f in rows.values():
        print(f"  [{f['id']}] {f['quote']}  -- {f['what']}")
    if args.no_write or args.only:
        return 1 if failed else 0
    write_doc(results, info, args, failed)
    unknown = rewrite_quotes(rows)
    print("rewrote the quoted figures of README.md and docs/*.rst")
    if unknown:
        print("quotes whose row this run did not produce (left as they were):")
        for u in unknown:
            print(f"  {u}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
