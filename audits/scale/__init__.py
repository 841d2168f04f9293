"""Beyond one machine: partitions by supplier and day, audited in parallel, merged exactly.

    split_exports(sources, input_dir)                  split.py      exports -> INPUT/supplier=/day=/
    discover(input_dir) -> Layout                       layout.py     the partitions and the KB files
    prepare_kb(layout, out_dir, work_dir)               partitions.py the KB loaded once (a template)
    audit_partition(partition, ...)                     partitions.py load + checks -> Parquet parts
    merge_partitions(out_dir, work_dir)                 merge.py      repeat contacts across partitions
    draw_sample(out_dir, plan, seed)                    sample.py     per-partition top-k, merged
    open_outputs(out_dir)                               read.py       views over the Parquet parts

flows/partitioned_audit.py arranges them (the partitions as parallel tasks on a Dask cluster);
docs/scaling.md explains the scheme, what runs where and what it costs.
"""

from __future__ import annotations

from audits.scale.layout import Layout, Partition, discover
from audits.scale.merge import CROSS_PARTITION_CHECKS, MergeResult, merge_partitions
from audits.scale.partitions import KbTemplate, PartitionResult, audit_partition, prepare_kb, prune_outputs
from audits.scale.read import open_outputs
from audits.scale.sample import draw_sample, write_sample
from audits.scale.split import SplitResult, split_exports

__all__ = [
    "CROSS_PARTITION_CHECKS",
    "KbTemplate",
    "Layout",
    "MergeResult",
    "Partition",
    "PartitionResult",
    "SplitResult",
    "audit_partition",
    "discover",
    "draw_sample",
    "merge_partitions",
    "open_outputs",
    "prepare_kb",
    "prune_outputs",
    "split_exports",
    "write_sample",
]
