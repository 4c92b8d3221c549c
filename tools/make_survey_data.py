"""Rebuild the embedded survey samples of astro_ocl/data from ../shared/data (issue 10).

Run from the repository root with the shared data folder beside it::

    python tools/make_survey_data.py [--shared ../shared/data]

Writes ``lamost_mrs_oc_members.ecsv``, ``occam_dr16_members.ecsv.gz`` and
``cg2018_members_occam.ecsv.gz`` into ``astro_ocl/data`` and prints their rows and
sha256 for ``astro_ocl/data/manifest.json``. Values are copied as published
(sentinels included): the readers handle them.
"""
import argparse
import gzip
import hashlib
import io
import re
from pathlib import Path

import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord
from astropy.table import Table

OUT = Path(__file__).resolve().parents[1] / "astro_ocl" / "data"
MRS = ("raw/KeyiDing_ISO_Open_Clusters/"
       "DistantClustersGaia_GALEX_SDSS_Skymapper_2MASS_WISE_ASASSN_LAMOST_MRS.csv")
OCCAM = "raw/fjaellet_apogee_rc_dimred/occam_member-DR16.fits"
CG2018 = "derived/cg2018_members_all.ecsv.gz"
MRS_COLUMNS = ["dr2_source_id", "dr3_source_id", "Cluster", "plx_cluster", "e_plx_cluster",
               "ra2000", "dec2000", "gmag", "bpmag", "rpmag", "parallax", "parallax_error",
               "ruwe", "rv", "rv_err", "teff", "teff_err", "logg", "logg_err", "feh", "feh_err",
               "alpha_m", "alpha_m_err", "nobs", "rv_discrepancy_sig", "rv_discrepancy",
               "imputed_uncertainties_flag"]
MRS_UNITS = {"plx_cluster": u.mas, "e_plx_cluster": u.mas, "ra2000": u.deg, "dec2000": u.deg,
             "gmag": u.mag, "bpmag": u.mag, "rpmag": u.mag, "parallax": u.mas,
             "parallax_error": u.mas, "rv": u.km / u.s, "rv_err": u.km / u.s, "teff": u.K,
             "teff_err": u.K}
OCCAM_COLUMNS = ["CLUSTER", "APOGEE_ID", "GLON", "GLAT", "VHELIO_AVG", "VSCATTER", "FE_H",
                 "FE_H_ERR", "RV_PROB", "FEH_PROB", "PM_PROB", "CG_PROB"]
#: CG2018 members kept within this distance of an OCCAM star (both at J2000)
NEAR = 5 * u.arcsec
DESIGNATION = re.compile(r"^2M(\d{2})(\d{2})(\d{2})(\d{2})([+-])(\d{2})(\d{2})(\d{2})(\d)$")


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def write_gz(table, path):
    buf = io.StringIO()
    table.write(buf, format="ascii.ecsv")
    with open(path, "wb") as f, \
            gzip.GzipFile(fileobj=f, mode="wb", mtime=0, filename="") as gz:
        gz.write(buf.getvalue().encode())


def designation_radec(ids):
    """2MASS designation -> (ra, dec) deg, half a unit of the last digit added (truncated)."""
    ra, dec = [], []
    for s in ids:
        h, m, sec, cs, sign, d, dm, ds, dds = DESIGNATION.match(s.strip()).groups()
        ra.append(15 * (int(h) + int(m) / 60 + (int(sec) + (int(cs) + 0.5) / 100) / 3600))
        v = int(d) + int(dm) / 60 + (int(ds) + (int(dds) + 0.5) / 10) / 3600
        dec.append(-v if sign == "-" else v)
    return np.array(ra), np.array(dec)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--shared", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    shared = Path(p.parse_args().shared)

    mrs = Table.read(shared / MRS, format="ascii.csv")[MRS_COLUMNS]
    mrs["Cluster"] = [str(c).strip() for c in mrs["Cluster"]]
    mrs["imputed_uncertainties_flag"] = np.asarray(mrs["imputed_uncertainties_flag"]) == "True"
    for c, unit in MRS_UNITS.items():
        mrs[c].unit = unit
    mrs.meta["comments"] = [
        "Real LAMOST medium-resolution (MRS) stellar parameters of Gaia open-cluster members, "
        f"{len(mrs)} stars in {len(set(mrs['Cluster']))} clusters.",
        f"Column subset of github KeyiDing/ISO_Open_Clusters @ 2aec17c iso_input/{Path(MRS).name}.",
        "rv_err = 9999 is a sentinel of the source (no RV error), kept as published.",
        "Cluster names are CG-style without underscore (NGC2682 == NGC_2682); LAMOST DR "
        "version not stated in the source repo."]
    out = OUT / "lamost_mrs_oc_members.ecsv"
    mrs.write(out, format="ascii.ecsv", overwrite=True)
    print(out.name, len(mrs), out.stat().st_size, sha256(out))

    occam = Table.read(shared / OCCAM)[OCCAM_COLUMNS]
    for c in ("CLUSTER", "APOGEE_ID"):
        occam[c] = [str(v).strip() for v in occam[c]]
    occam.meta = {"comments": [
        "OCCAM value-added catalogue, SDSS DR16, member table (Donor et al. 2020, AJ 159, 199): "
        f"all {len(occam)} rows, {len(OCCAM_COLUMNS)} of 17 columns (LOCATION_ID and the "
        "proper motions left out).",
        "Copied from github fjaellet/apogee_rc_dimred @ 871f105 data/occam_member-DR16.fits; "
        "values as published (sentinels VHELIO_AVG = 999999, VSCATTER = -1, FE_H = -9999.99, "
        "CG_PROB = -9999.99 kept)."]}
    for c in ("GLON", "GLAT"):
        occam[c].unit = u.deg
    for c in ("VHELIO_AVG", "VSCATTER"):
        occam[c].unit = u.km / u.s
    out = OUT / "occam_dr16_members.ecsv.gz"
    write_gz(occam, out)
    print(out.name, len(occam), out.stat().st_size, sha256(out))

    cg = Table.read(shared / CG2018, format="ascii.ecsv")
    ra, dec = designation_radec(occam["APOGEE_ID"])
    stars = SkyCoord(ra=ra * u.deg, dec=dec * u.deg)
    dt = (2000.0 - 2015.5)   # J2015.5 -> J2000 (2MASS), linear in RA*cos(Dec) and Dec
    cdec = np.cos(np.deg2rad(np.asarray(cg["dec"], float)))
    cra = np.asarray(cg["ra"], float) + np.asarray(cg["pmra"], float) * dt / 3.6e6 / cdec
    cde = np.asarray(cg["dec"], float) + np.asarray(cg["pmdec"], float) * dt / 3.6e6
    idx, _, _, _ = stars.search_around_sky(SkyCoord(ra=cra * u.deg, dec=cde * u.deg), NEAR)
    keep = np.zeros(len(cg), bool)
    keep[idx] = True
    sub = cg[keep]
    sub.meta["comments"] = list(cg.meta.get("comments", []))[:4] + [
        f"Subset: the {len(sub)} members within {NEAR} of an OCCAM DR16 star (APOGEE_ID 2MASS "
        "designation position, J2000) after moving the Gaia J2015.5 positions to J2000 with "
        "their proper motions."]
    out = OUT / "cg2018_members_occam.ecsv.gz"
    write_gz(sub, out)
    print(out.name, len(sub), out.stat().st_size, sha256(out), "clusters", len(set(sub["Cluster"])))


if __name__ == "__main__":
    main()
