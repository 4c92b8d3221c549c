"""Print pip constraints pinning every dependency of astro_ocl to its floor.

``python tools/oldest_deps.py [extra ...] > oldest.txt`` then
``pip install -c oldest.txt -e ".[test]"`` (or, in one step into the running
interpreter's environment, ``python tools/oldest_deps.py --install``)
installs the oldest versions that
``pyproject.toml`` allows (what ``minimum_dependencies`` or ``uv pip install
--resolution lowest-direct`` do), so that the floors are tested (``tox -e
oldestdeps``). Only direct dependencies are pinned; each ``>=`` floor becomes
``==`` (the test tools are not pinned: users do not install them). The project's
own extras (``astro_ocl[...]``) are followed; the default extras are the optional
run-time features.
"""
import re
import sys
from pathlib import Path

try:
    import tomllib
except ImportError:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
_REQ = re.compile(r"^\s*([A-Za-z0-9_.\-]+)(\[[^\]]*\])?\s*(.*)$")


def requirements(extras=("test",)):
    """The direct requirement strings of the core and ``extras``."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    optional = project.get("optional-dependencies", {})
    out, todo, seen = list(project["dependencies"]), list(extras), set()
    while todo:
        extra = todo.pop()
        if extra in seen:
            continue
        seen.add(extra)
        for req in optional.get(extra, []):
            m = _REQ.match(req)
            if m and m.group(1).replace("-", "_") == project["name"].replace("-", "_"):
                todo += [e.strip() for e in m.group(2).strip("[]").split(",")]
            else:
                out.append(req)
    return out


def floors(reqs):
    """``name==floor`` for every requirement with a ``>=`` floor."""
    pins = {}
    for req in reqs:
        m = _REQ.match(req.split(";")[0])
        spec = re.search(r">=\s*([0-9][^,\s]*)", m.group(3)) if m else None
        if spec:
            pins[m.group(1).lower()] = spec.group(1)
    return [f"{k}=={v}" for k, v in sorted(pins.items())]


def install(pins):
    """``pip install -c <pins> -e .[test]`` into this interpreter's environment."""
    import subprocess
    import tempfile
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write("\n".join(pins) + "\n")
    try:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "-c", f.name,
                        "-e", f"{ROOT}[test]"], check=True)
    finally:
        Path(f.name).unlink()
    print("installed the floors:", " ".join(pins))


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--install"]
    pins = floors(requirements(args or ["plots", "vizier", "progress"]))
    if "--install" in sys.argv[1:]:
        install(pins)
    else:
        print("\n".join(pins))
