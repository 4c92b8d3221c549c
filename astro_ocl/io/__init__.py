"""Writers: VOTable, CDS submission bundle, regions."""
