"""Configuration of ``astro_ocl``.

Two kinds of settings live here:

* :data:`conf`, an `astropy.config.ConfigNamespace`: service URLs, table names,
  timeouts, retries, row limits, the cache and progress bars, nothing else. Every
  item can be set in
  ``~/.astropy/config/astro_ocl.cfg`` or at run time
  (``astro_ocl.conf.timeout = 120``, or ``with conf.set_temp("timeout", 10):``).
* :class:`galactic_parameters`, an `astropy.utils.state.ScienceState` holding the
  Sun's position and motion used for Galactocentric coordinates and orbits.

Science defaults (membership threshold 0.7, 5000 Monte Carlo realisations, match
radius 3.5 arcsec, quality cuts) are *not* configuration: they are explicit keyword
defaults of `astro_ocl.build_catalogue`, recorded in the provenance of every
output, so that no line in a user's config file can silently change published
numbers.

Nothing here touches the network.
"""
import astropy.units as u
from astropy import config as _config
from astropy.utils.state import ScienceState

__all__ = ["Conf", "conf", "galactic_parameters"]


class Conf(_config.ConfigNamespace):
    """Configuration parameters for `astro_ocl`."""

    # --- services -------------------------------------------------------------
    gaia_tap_url = _config.ConfigItem(
        "https://gea.esac.esa.int/tap-server/tap",
        "TAP endpoint of the ESA Gaia archive.")
    vizier_tap_url = _config.ConfigItem(
        "https://tapvizier.cds.unistra.fr/TAPVizieR/tap",
        "TAP endpoint of VizieR (CDS).")
    timeout = _config.ConfigItem(
        60.0, "Timeout in seconds of every single request to a service (connection and "
        "each read; see query_deadline for the whole query).", cfgtype="float")
    retries = _config.ConfigItem(
        3, "How often a request is retried after a timeout, HTTP 5xx or 429.", cfgtype="integer")
    retry_backoff = _config.ConfigItem(
        1.0, "First wait in seconds before a retry; doubled at each further retry.",
        cfgtype="float")
    retry_max_wait = _config.ConfigItem(
        60.0, "Longest single wait in seconds between retries (also caps a server's "
        "Retry-After).", cfgtype="float")
    job_timeout = _config.ConfigItem(
        1200.0, "Overall deadline in seconds of one asynchronous TAP job, from its "
        "submission to the end of the result download (polling included); the job is "
        "aborted when it passes.", cfgtype="float")
    query_deadline = _config.ConfigItem(
        3600.0, "Overall deadline in seconds of one query: every attempt, retry, backoff "
        "wait, job poll and download together. Passing it raises QueryTimeoutError.",
        cfgtype="float")
    samp_timeout = _config.ConfigItem(
        30.0, "Deadline in seconds of every SAMP call (hub connection, client lookup, "
        "table send).", cfgtype="float")
    row_limit = _config.ConfigItem(
        1_000_000,
        "Default maximum number of rows (MAXREC) of a query. A result that reaches it "
        "raises (never a silent truncation).", cfgtype="integer")
    cache_dir = _config.ConfigItem(
        "", "Directory of the query-result cache; empty means "
        "<astropy cache dir>/astro_ocl/queries.")
    use_cache = _config.ConfigItem(
        True, "Whether query results are cached on disk.", cfgtype="boolean")
    cache_max_age = _config.ConfigItem(
        30.0, "Age in days after which a cached query result expires and is fetched "
        "again (0: never).", cfgtype="float")

    # --- table names (schema-qualified, as the services name them) ---------------
    gaia_dr2_table = _config.ConfigItem("gaiadr2.gaia_source", "Gaia DR2 main table.")
    gaia_dr3_table = _config.ConfigItem("gaiadr3.gaia_source", "Gaia DR3 main table.")
    gaia_dr2_neighbourhood_table = _config.ConfigItem(
        "gaiadr3.dr2_neighbourhood", "Gaia DR3 <-> DR2 cross-match table.")
    cg2020_members_table = _config.ConfigItem(
        "J/A+A/640/A1/nodup", "Cantat-Gaudin et al. 2020 members (VizieR).")
    cg2020_clusters_table = _config.ConfigItem(
        "J/A+A/640/A1/table1", "Cantat-Gaudin et al. 2020 cluster parameters (VizieR).")
    hr23_members_table = _config.ConfigItem(
        "J/A+A/673/A114/members", "Hunt & Reffert 2023 members, Gaia DR3 ids (VizieR).")
    lamost_table = _config.ConfigItem(
        "V/164/stellar5", "LAMOST stellar-parameter table on VizieR (DR5: V/164/stellar5).")

    # --- behaviour -------------------------------------------------------------------
    show_progress = _config.ConfigItem(
        True, "Show progress bars on long work (when tqdm is installed and the "
        "output is a terminal).", cfgtype="boolean")


conf = Conf()


class galactic_parameters(ScienceState):
    """The Sun's place and motion in the Galaxy, as used by Fu et al. (2022).

    The value is a dict with

    ``R0``
        Galactocentric distance of the Sun (8.2 kpc).
    ``z_sun``
        Height of the Sun above the plane (20.8 pc, Bennett & Bovy 2019).
    ``v_circ``
        Circular velocity at the Sun (232.8 km/s, McMillan 2017).
    ``solar_motion``
        (U, V, W) of the Sun with respect to the LSR, (11.1, 12.24, 7.25) km/s
        (Schönrich, Binney & Dehnen 2010); U positive towards the Galactic centre.

    Examples
    --------
    >>> import astropy.units as u
    >>> from astro_ocl.config import galactic_parameters
    >>> galactic_parameters.get()["R0"]
    <Quantity 8.2 kpc>
    >>> with galactic_parameters.set(dict(galactic_parameters.get(), R0=8.0 * u.kpc)):
    ...     galactic_parameters.get()["R0"]
    <Quantity 8. kpc>
    """

    _value = {
        "R0": 8.2 * u.kpc,
        "z_sun": 20.8 * u.pc,
        "v_circ": 232.8 * u.km / u.s,
        "solar_motion": (11.1, 12.24, 7.25) * (u.km / u.s),
    }

    @classmethod
    def validate(cls, value):
        required = {"R0", "z_sun", "v_circ", "solar_motion"}
        if not isinstance(value, dict) or not required <= set(value):
            raise ValueError(
                f"galactic_parameters must be a dict with keys {sorted(required)}, got {value!r}")
        out = dict(value)
        out["R0"] = u.Quantity(out["R0"], u.kpc)
        out["z_sun"] = u.Quantity(out["z_sun"], u.pc)
        out["v_circ"] = u.Quantity(out["v_circ"], u.km / u.s)
        out["solar_motion"] = u.Quantity(out["solar_motion"], u.km / u.s)
        if out["solar_motion"].shape != (3,):
            raise ValueError("solar_motion must be three velocities (U, V, W)")
        return out
