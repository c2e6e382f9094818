"""The columns of the CSV `roofbench run` and `roofbench predict` write, in their order: the
contract columns (design.md, "Command line") first, then roofbench's additions.

The binary's own table is predictor/csv_schema.cpp; tests/python/test_columns.py checks that
this list is the header the binary writes, so a script that names a column through
run_columns() names one the binary writes (a typo fails on import, not on a user's file).
"""

RUN_COLUMNS = [
    "op", "impl", "dtype", "threads", "batch", "shape", "ops", "bytes", "measured_s",
    "predicted_s", "bound", "variant", "repetitions", "cv", "achieved_ops_per_s",
    "achieved_bytes_per_s", "intensity", "status", "cache", "classic_s", "classic_bound",
    "t_compute_s", "t_memory_s", "overhead_s", "level", "model", "measured_over_predicted",
    "predicted_throughput_per_s", "measured_throughput_per_s", "predicted_ops_per_s", "noisy",
    "above_roof", "roof_ratio", "measured_first_s", "measured_second_s", "measured_lo_s",
    "measured_hi_s", "repetitions_rejected", "converged", "lived_s", "slowdown",
]
CONTRACT_COLUMNS = RUN_COLUMNS[:11]


def run_columns(*names):
    """The names, as a list, once each is known to be a column of the run CSV."""
    unknown = [n for n in names if n not in RUN_COLUMNS]
    if unknown:
        raise ValueError(f"not a column of roofbench's run CSV: {', '.join(unknown)}")
    return list(names)
