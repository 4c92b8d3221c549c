"""Row accounting: every stage says how many rows came in, went out, and why any left."""
from astropy.table import Table

from .logger import log

__all__ = ["StageLog"]


class StageLog:
    """Ordered record of pipeline stages with row counts and drop reasons.

    Examples
    --------
    >>> sl = StageLog()
    >>> sl.stage("members", n_in=10, n_out=7, dropped={"probability < 0.7": 3})
    >>> sl.stage("sky match", n_in=7, n_out=8, added=2, dropped={"no Gaia source": 1})
    >>> print(sl.as_table()["stage", "n_in", "n_out", "n_dropped", "n_added"])
      stage   n_in n_out n_dropped n_added
    --------- ---- ----- --------- -------
      members   10     7         3       0
    sky match    7     8         1       2
    >>> sl["members"]["dropped"]
    {'probability < 0.7': 3}
    """

    def __init__(self):
        self.records = []

    def stage(self, name, *, n_in, n_out, dropped=None, added=0, note=""):
        """Record one stage; ``n_in - sum(dropped) + added`` must equal ``n_out``.

        Parameters
        ----------
        name : str
            Stage name.
        n_in, n_out : int
            Rows entering and leaving.
        dropped : dict, optional
            reason -> number of rows dropped for it (zero counts are omitted).
        added : int, optional
            Rows the stage created (e.g. one star matching two Gaia sources).
        note : str, optional
            Free text.
        """
        dropped = {k: int(v) for k, v in (dropped or {}).items() if v}
        if n_in - sum(dropped.values()) + added != n_out:
            raise RuntimeError(f"stage {name}: {n_in} rows in, dropped {dropped}, "
                               f"added {added} does not give {n_out} rows out")
        self.records.append(dict(stage=name, n_in=int(n_in), n_out=int(n_out),
                                 dropped=dropped, added=int(added), note=note))
        msg = f"{name}: {n_in} -> {n_out} rows"
        if added:
            msg += f" (added {added})"
        if dropped:
            msg += " (dropped " + ", ".join(f"{v} {k}" for k, v in dropped.items()) + ")"
        log.info(msg + (f"; {note}" if note else ""))

    def __iter__(self):
        return iter(self.records)

    def __getitem__(self, name):
        for r in self.records:
            if r["stage"] == name:
                return r
        raise KeyError(name)

    def as_table(self):
        """The log as a `~astropy.table.Table` (one row per stage).

        ``n_dropped`` counts the rows dropped (the sum of the reasons) and
        ``n_added`` the rows a stage created, so ``n_in - n_dropped + n_added ==
        n_out`` and neither is ever negative.
        """
        return Table(rows=[(r["stage"], r["n_in"], r["n_out"], sum(r["dropped"].values()),
                            r["added"], "; ".join(f"{k}: {v}" for k, v in r["dropped"].items()))
                           for r in self.records],
                     names=("stage", "n_in", "n_out", "n_dropped", "n_added", "reasons"),
                     dtype=(str, int, int, int, int, str))
