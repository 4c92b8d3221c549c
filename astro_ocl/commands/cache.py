"""``astro-ocl cache``: list or clear the cache of query results.

``astro-ocl cache list`` prints one line per cached result (UTC time, rows,
size, service, query); ``astro-ocl cache clear`` deletes them all (only the
cache's own files) and says what it removed and what it left in the folder.
"""
from pathlib import Path

from ..exceptions import ParameterError
from ..sources.archives.cache import QueryCache
from .common import HelpFormatter, describe, say

__all__ = ["add_parser", "run"]


def add_parser(sub):
    p = sub.add_parser("cache", help="list or clear the cache of archive query results",
                       description=describe(__doc__), formatter_class=HelpFormatter)
    p.add_argument("action", choices=("list", "clear"))
    p.add_argument("--dir", help="cache directory (default conf.cache_dir or the astropy "
                                 "cache dir)")
    return p


def run(args):
    if args.dir is not None and Path(args.dir).exists() and not Path(args.dir).is_dir():
        raise ParameterError("--dir", args.dir, "exists and is not a directory")
    cache = QueryCache(args.dir)
    if args.action == "clear":
        say(args, cache.clear())
        return 0
    entries = cache.entries()
    print(f"{len(entries)} cached results in {cache.directory}")
    for e in entries:
        query = " ".join(str(e.get("query", "")).split())
        print(f"{e.get('time_utc', '?'):<25s} {e.get('rows', '?'):>8} rows "
              f"{e.get('size', 0) / 1024:9.1f} KiB  {e.get('service', '?')}  {query[:100]}")
    return 0
