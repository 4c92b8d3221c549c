<resource schema="cg2020">
  <meta name="title">Cantat-Gaudin et al. 2020 open clusters (astro_ocl sample)</meta>
  <meta name="description">The CG2020 cluster parameters (table1) and the
    Cantat-Gaudin member stars embedded in astro_ocl, laid out as VizieR serves
    J/A+A/640/A1/table1 and J/A+A/640/A1/nodup (astro_ocl.conf maps those
    names to cg2020.table1 and cg2020.nodup for the loopback tests).</meta>
  <meta name="creationDate">2026-11-24T00:00:00Z</meta>
  <meta name="subject">open-star-clusters</meta>
  <meta name="creator.name">astro_ocl developers</meta>
  <meta name="contentLevel">Research</meta>
  <meta name="type">Catalog</meta>

  <table id="nodup" onDisk="True" adql="True">
    <meta name="description">Cluster members (Gaia DR2) with membership probability.</meta>
    <column name="Cluster" type="text" ucd="meta.id.parent" description="Cluster name"/>
    <column name="GaiaDR2" type="bigint" required="True" ucd="meta.id;meta.main"
      description="Gaia DR2 source_id"/>
    <column name="RA_ICRS" type="double precision" unit="deg" ucd="pos.eq.ra;meta.main"
      description="Right ascension (ICRS, epoch J2015.5)"/>
    <column name="DE_ICRS" type="double precision" unit="deg" ucd="pos.eq.dec;meta.main"
      description="Declination (ICRS, epoch J2015.5)"/>
    <column name="pmRA" type="double precision" unit="mas/yr" ucd="pos.pm;pos.eq.ra"
      description="Proper motion in RA (times cos dec)"/>
    <column name="pmDE" type="double precision" unit="mas/yr" ucd="pos.pm;pos.eq.dec"
      description="Proper motion in Dec"/>
    <column name="plx" type="double precision" unit="mas" ucd="pos.parallax.trig"
      description="Parallax"/>
    <column name="Gmag" type="double precision" unit="mag" ucd="phot.mag;em.opt"
      description="G magnitude"/>
    <column name="proba" type="double precision" ucd="stat.probability"
      description="Membership probability"/>
  </table>

  <table id="table1" onDisk="True" adql="True" primary="Cluster">
    <meta name="description">Cluster parameters (CG2020 table1).</meta>
    <column name="Cluster" type="text" ucd="meta.id;meta.main" description="Cluster name"/>
    <column name="RA_ICRS" type="double precision" unit="deg" ucd="pos.eq.ra;meta.main"
      description="Mean right ascension of the members (ICRS)"/>
    <column name="DE_ICRS" type="double precision" unit="deg" ucd="pos.eq.dec;meta.main"
      description="Mean declination of the members (ICRS)"/>
    <column name="GLON" type="double precision" unit="deg" ucd="pos.galactic.lon"
      description="Galactic longitude"/>
    <column name="GLAT" type="double precision" unit="deg" ucd="pos.galactic.lat"
      description="Galactic latitude"/>
    <column name="r50" type="double precision" unit="deg" ucd="phys.angSize"
      description="Radius containing half the members"/>
    <column name="nbstars07" type="integer" required="True" ucd="meta.number"
      description="Number of members with probability >= 0.7"/>
    <column name="pmRA" type="double precision" unit="mas/yr" ucd="pos.pm;pos.eq.ra"
      description="Mean proper motion in RA (times cos dec)"/>
    <column name="e_pmRA" type="double precision" unit="mas/yr"
      ucd="stat.error;pos.pm;pos.eq.ra" description="Standard deviation of pmRA"/>
    <column name="pmDE" type="double precision" unit="mas/yr" ucd="pos.pm;pos.eq.dec"
      description="Mean proper motion in Dec"/>
    <column name="e_pmDE" type="double precision" unit="mas/yr"
      ucd="stat.error;pos.pm;pos.eq.dec" description="Standard deviation of pmDE"/>
    <column name="plx" type="double precision" unit="mas" ucd="pos.parallax.trig"
      description="Mean parallax"/>
    <column name="e_plx" type="double precision" unit="mas"
      ucd="stat.error;pos.parallax.trig" description="Standard deviation of plx"/>
    <column name="AgeNN" type="double precision" ucd="time.age"
      description="log10 age/yr (neural network)"/>
    <column name="AVNN" type="double precision" unit="mag" ucd="phys.absorption;em.opt.V"
      description="Extinction A_V (neural network)"/>
    <column name="DMNN" type="double precision" unit="mag" ucd="phot.mag.distMod"
      description="Distance modulus (neural network)"/>
    <column name="DistPc" type="double precision" unit="pc" ucd="pos.distance"
      description="Distance"/>
    <column name="X" type="double precision" unit="pc" ucd="pos.cartesian.x"
      description="Heliocentric Galactic X"/>
    <column name="Y" type="double precision" unit="pc" ucd="pos.cartesian.y"
      description="Heliocentric Galactic Y"/>
    <column name="Z" type="double precision" unit="pc" ucd="pos.cartesian.z"
      description="Heliocentric Galactic Z"/>
    <column name="Rgc" type="double precision" unit="pc" ucd="pos.distance;pos.galactocentric"
      description="Galactocentric radius"/>
  </table>

  <data id="import_nodup">
    <sources>data/nodup.csv</sources>
    <csvGrammar/>
    <make table="nodup">
      <rowmaker idmaps="*"/>
    </make>
  </data>
  <data id="import_table1">
    <sources>data/table1.csv</sources>
    <csvGrammar/>
    <make table="table1">
      <rowmaker idmaps="*"/>
    </make>
  </data>
</resource>
