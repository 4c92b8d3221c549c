"""The stage log: counts that add up, records that travel between processes."""
import pytest

from astro_ocl.accounting import StageLog, Stages


def test_stage_log_table_counts_added_rows():
    log = StageLog()
    log.stage("sky match", n_in=3, n_out=5, added=3, dropped={"no Gaia source": 1})
    row = log.as_table()[0]
    assert row["n_dropped"] == 1 and row["n_added"] == 3
    assert row["n_in"] - row["n_dropped"] + row["n_added"] == row["n_out"]


def test_records_appended_and_merged_are_checked():
    log = StageLog()
    log.stage(Stages.MEMBERS, n_in=10, n_out=7, dropped={"probability < 0.7": 3})
    other = StageLog(log.to_records())             # a copy, as a worker sends it back
    assert list(other) == list(log) and other.to_records() is not log.to_records()
    parts = [StageLog([dict(stage="usable RV", n_in=5, n_out=4, dropped={"missing rv": 1})]),
             StageLog([dict(stage="usable RV", n_in=3, n_out=3)])]
    merged = StageLog.merged(Stages.USABLE_RV, parts)
    assert (merged["n_in"], merged["n_out"], merged["dropped"]) == (8, 7, {"missing rv": 1})
    assert StageLog.merged("no such stage", parts) is None
    with pytest.raises(RuntimeError, match="does not give"):
        log.append(dict(stage="bad", n_in=3, n_out=4))     # counts that do not add up
    with pytest.raises(ValueError, match="keys"):
        log.append(dict(stage="bad", n_in=3, n_out=3, rows=3))
