"""Row accounting: every stage says how many rows came in, went out, and why any left."""
from astropy.table import Table

from .logger import log

__all__ = ["StageLog", "Stages"]


class Stages:
    """The names of the build's stages (`StageLog` records), one place for all.

    ``INPUT`` is a template: ``Stages.INPUT.format(label)`` names the input of
    one survey.
    """

    INPUT = "input stars ({})"
    FILE_ROWS = "survey file rows"
    NEAR_MEMBERS = "survey rows near members"
    GAIA_IDS = "Gaia DR2 -> DR3 ids"
    REQUESTED = "requested clusters"
    USABLE_RV = "usable RV"
    MEMBERS = "members"
    UNIQUE = "unique stars"
    JOIN = "join members"
    JOIN_POSITION = "join members (by position)"
    NO_GAIA_ID = "stars without Gaia id"
    SKY_MATCH = "sky match"
    ONE_MATCH = "one match per star"
    SEVERAL_SURVEYS = "stars of several surveys"
    REQUESTED_WITH_MEMBERS = "requested clusters with members"
    CLUSTERS = "clusters"
    ORBITS = "orbits"


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

    _KEYS = ("stage", "n_in", "n_out", "dropped", "added", "note")

    def __init__(self, records=()):
        self._records = []
        self.extend(records)

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
        self._records.append(dict(stage=name, n_in=int(n_in), n_out=int(n_out),
                                  dropped=dropped, added=int(added), note=note))
        msg = f"{name}: {n_in} -> {n_out} rows"
        if added:
            msg += f" (added {added})"
        if dropped:
            msg += " (dropped " + ", ".join(f"{v} {k}" for k, v in dropped.items()) + ")"
        log.info(msg + (f"; {note}" if note else ""))

    def append(self, record):
        """Add a record made elsewhere (another log, a worker): checked as `stage` checks.

        Parameters
        ----------
        record : dict
            ``stage, n_in, n_out`` and optionally ``dropped, added, note``.
        """
        unknown = set(record) - set(self._KEYS)
        if unknown or "stage" not in record:
            raise ValueError(f"a stage record has the keys {self._KEYS}, got {sorted(record)}")
        rec = {k: v for k, v in record.items() if k != "stage"}
        self.stage(record["stage"], **rec)

    def extend(self, records):
        """Add the records of another `StageLog` (or an iterable of records), in order."""
        for r in records:
            self.append(r)

    @staticmethod
    def merged(name, logs):
        """One record of stage ``name`` summed over several logs (e.g. one per partition).

        Parameters
        ----------
        name : str
            The stage.
        logs : iterable of `StageLog` or of lists of records

        Returns
        -------
        dict or None
            ``stage, n_in, n_out, dropped, added, note`` (the first non-empty note),
            or None when no log has the stage.
        """
        recs = [r for one in logs for r in one if r["stage"] == name]
        if not recs:
            return None
        dropped = {}
        for r in recs:
            for k, v in r["dropped"].items():
                dropped[k] = dropped.get(k, 0) + v
        return dict(stage=name, n_in=sum(r["n_in"] for r in recs),
                    n_out=sum(r["n_out"] for r in recs), dropped=dropped,
                    added=sum(r["added"] for r in recs),
                    note=next((r["note"] for r in recs if r["note"]), ""))

    def to_records(self):
        """The records as a list of plain dicts (copies: pickled to or from a worker)."""
        return [dict(r, dropped=dict(r["dropped"])) for r in self._records]

    def __len__(self):
        return len(self._records)

    def __iter__(self):
        return iter(self._records)

    def __getitem__(self, name):
        for r in self._records:
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
                           for r in self._records],
                     names=("stage", "n_in", "n_out", "n_dropped", "n_added", "reasons"),
                     dtype=(str, int, int, int, int, str))
