<resource schema="gaiadr2">
  <meta name="title">Gaia DR2-like sources of the astro_ocl sample (loopback tests)</meta>
  <meta name="description">Gaia DR2 astrometry (ICRS, epoch J2015.5) of the
    Cantat-Gaudin member stars embedded in astro_ocl, served under the Gaia
    archive's table name gaiadr2.gaia_source so the archive layer runs the
    same ADQL as against the ESA Gaia archive.</meta>
  <meta name="creationDate">2026-11-24T00:00:00Z</meta>
  <meta name="subject">astrometry</meta>
  <meta name="creator.name">astro_ocl developers</meta>
  <meta name="contentLevel">Research</meta>
  <meta name="type">Catalog</meta>

  <table id="gaia_source" onDisk="True" adql="True" primary="source_id">
    <meta name="description">Gaia DR2 astrometry of cluster members (subset).</meta>
    <mixin>//scs#pgs-pos-index</mixin>
    <column name="source_id" type="bigint" required="True"
      ucd="meta.id;meta.main" description="Gaia DR2 source identifier"/>
    <column name="ra" type="double precision" unit="deg" required="True"
      ucd="pos.eq.ra;meta.main" description="Right ascension (ICRS, epoch J2015.5)"/>
    <column name="dec" type="double precision" unit="deg" required="True"
      ucd="pos.eq.dec;meta.main" description="Declination (ICRS, epoch J2015.5)"/>
    <column name="pmra" type="double precision" unit="mas/yr"
      ucd="pos.pm;pos.eq.ra" description="Proper motion in RA (times cos dec)"/>
    <column name="pmdec" type="double precision" unit="mas/yr"
      ucd="pos.pm;pos.eq.dec" description="Proper motion in Dec"/>
    <column name="parallax" type="double precision" unit="mas"
      ucd="pos.parallax.trig" description="Parallax"/>
    <column name="phot_g_mean_mag" type="double precision" unit="mag"
      ucd="phot.mag;em.opt" description="G-band mean magnitude"/>
    <column name="ref_epoch" type="double precision" unit="yr"
      ucd="meta.ref;time.epoch" description="Reference epoch (Julian years)"/>
  </table>

  <data id="import">
    <sources>data/gaia_source.csv</sources>
    <csvGrammar/>
    <make table="gaia_source">
      <rowmaker idmaps="*"/>
    </make>
  </data>
</resource>
