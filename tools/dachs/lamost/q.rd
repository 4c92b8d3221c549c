<resource schema="lamost">
  <meta name="title">LAMOST LRS stellar parameters of open-cluster members (astro_ocl sample)</meta>
  <meta name="description">The 691 LAMOST low-resolution stars embedded in
    astro_ocl (real LAMOST LRS parameters of Gaia open-cluster members) with the
    column names of LAMOST's own catalogues and their Gaia DR2/DR3 source_ids,
    standing in for a VizieR LAMOST table (astro_ocl.conf.lamost_table).</meta>
  <meta name="creationDate">2026-11-24T00:00:00Z</meta>
  <meta name="subject">stellar-spectroscopy</meta>
  <meta name="creator.name">astro_ocl developers</meta>
  <meta name="contentLevel">Research</meta>
  <meta name="type">Catalog</meta>

  <table id="lrs_stellar" onDisk="True" adql="True" primary="obsid">
    <meta name="description">LAMOST LRS stellar parameters (sample).</meta>
    <column name="obsid" type="bigint" required="True" ucd="meta.id;meta.main" description="Sequential observation identifier (file order of the sample)"/>
    <column name="dr2_source_id" type="bigint" required="True" ucd="meta.id.cross" description="dr2_source_id"/>
    <column name="dr3_source_id" type="bigint" required="True" ucd="meta.id.cross" description="dr3_source_id"/>
    <column name="Cluster" type="text" ucd="meta.id.parent" description="Cluster"/>
    <column name="plx_cluster" type="double precision" unit="mas" description="plx_cluster"/>
    <column name="e_plx_cluster" type="double precision" unit="mas" description="e_plx_cluster"/>
    <column name="ra2000" type="double precision" unit="deg" ucd="pos.eq.ra;meta.main" description="ra2000"/>
    <column name="dec2000" type="double precision" unit="deg" ucd="pos.eq.dec;meta.main" description="dec2000"/>
    <column name="gmag" type="double precision" unit="mag" description="gmag"/>
    <column name="bpmag" type="double precision" unit="mag" description="bpmag"/>
    <column name="rpmag" type="double precision" unit="mag" description="rpmag"/>
    <column name="parallax" type="double precision" unit="mas" description="parallax"/>
    <column name="parallax_error" type="double precision" unit="mas" description="parallax_error"/>
    <column name="ruwe" type="double precision" description="ruwe"/>
    <column name="rv" type="double precision" unit="km/s" ucd="spect.dopplerVeloc.opt" description="rv"/>
    <column name="rv_err" type="double precision" unit="km/s" description="rv_err"/>
    <column name="teff" type="double precision" unit="K" description="teff"/>
    <column name="teff_err" type="double precision" unit="K" description="teff_err"/>
    <column name="logg" type="double precision" description="logg"/>
    <column name="logg_err" type="double precision" description="logg_err"/>
    <column name="feh" type="double precision" description="feh"/>
    <column name="feh_err" type="double precision" description="feh_err"/>
    <column name="alpha_m" type="double precision" description="alpha_m"/>
    <column name="alpha_m_err" type="double precision" description="alpha_m_err"/>
    <column name="snrg" type="double precision" description="snrg"/>
    <column name="nobs" type="bigint" required="True" description="nobs"/>
    <column name="rv_discrepancy_sig" type="double precision" description="rv_discrepancy_sig"/>
    <column name="rv_discrepancy" type="double precision" description="rv_discrepancy"/>
  </table>

  <data id="import">
    <sources>data/lrs_stellar.csv</sources>
    <csvGrammar/>
    <make table="lrs_stellar">
      <rowmaker idmaps="*"/>
    </make>
  </data>
</resource>
