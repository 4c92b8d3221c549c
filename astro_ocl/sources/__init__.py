"""Sources: canonical `~astropy.table.QTable` objects in, nothing else.

Readers of the published tables (files or the embedded copies) and the archives
(:mod:`astro_ocl.sources.archives`, TAP). A source never cross-matches and never
computes science; the names, units and descriptions of its columns come from
:mod:`astro_ocl.schema`.

=============================  ============================================
:mod:`~.sources.clusters`      cluster parameters (CG2020, HR23, Dias 2021), Fu et al.
                               2022, Zhong et al. 2020
:mod:`~.sources.members`       Cantat-Gaudin (DR2) and Hunt & Reffert (DR3) members
:mod:`~.sources.gaia_ids`      Gaia release of the ids, DR2 -> DR3 translation
:mod:`~.sources.surveys`       survey adapters: LAMOST LRS/MRS, APOGEE, GALAH,
                               Gaia RVS (files of any size)
:mod:`~.sources.literature`    literature cluster catalogues, tidal radii, clouds
:mod:`~.sources.names`         cluster-name normalisation
:mod:`~.sources.files`         reading files and converting values
:mod:`~.sources.archives`      Gaia and VizieR through TAP
=============================  ============================================
"""
from .clusters import (cluster_resolver, join_cluster_parameters,  # noqa: F401
                       read_cg2020_clusters, read_cluster_catalogue, read_fu2022)
from .literature import LITERATURE, read_literature  # noqa: F401
from .members import read_cg_members, read_hr23_members  # noqa: F401
from .names import NameResolver, name_key, normalise_name  # noqa: F401
from .surveys import SURVEYS, read_lamost, read_survey  # noqa: F401
