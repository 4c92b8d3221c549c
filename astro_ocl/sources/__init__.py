"""Readers of the published tables and the column schema."""
from .names import NameResolver, name_key, normalise_name  # noqa: F401
from .files import (LITERATURE, cluster_resolver, read_cg2020_clusters,  # noqa: F401
                    read_cg_members, read_fu2022, read_lamost, read_literature)
