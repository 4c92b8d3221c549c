"""Safe ADQL construction: quoting of identifiers and literals.

User input (cluster names, table names from a configuration, column lists) never
reaches a query by string pasting: identifiers go through :func:`quote_identifier`
or :func:`quote_table`, values through :func:`quote_literal` (or :func:`in_list`).
A value such as ``NGC_2682' OR '1'='1`` becomes a single string literal and
cannot change the query.

Examples
--------
>>> from astro_ocl.sources.archives.adql import quote_table, quote_literal, in_list
>>> quote_table("gaiadr2.gaia_source")
'gaiadr2.gaia_source'
>>> quote_table("J/A+A/640/A1/nodup")
'"J/A+A/640/A1/nodup"'
>>> quote_literal("NGC_2682' OR '1'='1")
"'NGC_2682'' OR ''1''=''1'"
>>> in_list("Cluster", ["NGC_2682", "IC_4665"])
"Cluster IN ('NGC_2682', 'IC_4665')"
"""
import math
import numbers
import re

import numpy as np

__all__ = ["quote_identifier", "quote_table", "quote_literal", "in_list", "ADQL_RESERVED"]

_REGULAR = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")

#: ADQL 2.1 reserved words (and the SQL ones ADQL reserves): such a name must be
#: written as a delimited identifier.
ADQL_RESERVED = frozenset("""
ABS ACOS AREA ASIN ATAN ATAN2 BOX CEILING CENTROID CIRCLE CONTAINS COORD1 COORD2
COORDSYS COS COT DEGREES DISTANCE EXP FLOOR INTERSECTS LOG LOG10 MOD PI POINT POLYGON
POWER RADIANS REGION RAND ROUND SIN SQRT TAN TOP TRUNCATE
ABSOLUTE ACTION ADD ALL ALLOCATE ALTER AND ANY ARE AS ASC ASSERTION AT AUTHORIZATION AVG
BEGIN BETWEEN BIT BIT_LENGTH BOTH BY CASCADE CASCADED CASE CAST CATALOG CHAR CHARACTER
CHAR_LENGTH CHARACTER_LENGTH CHECK CLOSE COALESCE COLLATE COLLATION COLUMN COMMIT CONNECT
CONNECTION CONSTRAINT CONSTRAINTS CONTINUE CONVERT CORRESPONDING COUNT CREATE CROSS CURRENT
CURRENT_DATE CURRENT_TIME CURRENT_TIMESTAMP CURRENT_USER CURSOR DATE DAY DEALLOCATE DECIMAL
DECLARE DEFAULT DEFERRABLE DEFERRED DELETE DESC DESCRIBE DESCRIPTOR DIAGNOSTICS DISCONNECT
DISTINCT DOMAIN DOUBLE DROP ELSE END END-EXEC ESCAPE EXCEPT EXCEPTION EXEC EXECUTE EXISTS
EXTERNAL EXTRACT FALSE FETCH FIRST FLOAT FOR FOREIGN FOUND FROM FULL GET GLOBAL GO GOTO GRANT
GROUP HAVING HOUR IDENTITY IMMEDIATE IN INDICATOR INITIALLY INNER INPUT INSENSITIVE INSERT INT
INTEGER INTERSECT INTERVAL INTO IS ISOLATION JOIN KEY LANGUAGE LAST LEADING LEFT LEVEL LIKE
LOCAL LOWER MATCH MAX MIN MINUTE MODULE MONTH NAMES NATIONAL NATURAL NCHAR NEXT NO NOT NULL
NULLIF NUMERIC OCTET_LENGTH OF ON ONLY OPEN OPTION OR ORDER OUTER OUTPUT OVERLAPS PAD PARTIAL
POSITION PRECISION PREPARE PRESERVE PRIMARY PRIOR PRIVILEGES PROCEDURE PUBLIC READ REAL
REFERENCES RELATIVE RESTRICT REVOKE RIGHT ROLLBACK ROWS SCHEMA SCROLL SECOND SECTION SELECT
SESSION SESSION_USER SET SIZE SMALLINT SOME SPACE SQL SQLCODE SQLERROR SQLSTATE SUBSTRING SUM
SYSTEM_USER TABLE TEMPORARY THEN TIME TIMESTAMP TIMEZONE_HOUR TIMEZONE_MINUTE TO TRAILING
TRANSACTION TRANSLATE TRANSLATION TRIM TRUE UNION UNIQUE UNKNOWN UPDATE UPPER USAGE USER USING
VALUE VALUES VARCHAR VARYING VIEW WHEN WHENEVER WHERE WITH WORK WRITE YEAR ZONE
""".split())


def _check_text(text, what):
    if not isinstance(text, str):
        raise TypeError(f"{what} must be a str, got {type(text).__name__}")
    if not text:
        raise ValueError(f"empty {what}")
    if any(ord(ch) < 32 for ch in text):
        raise ValueError(f"{what} {text!r} contains control characters")


def _delimited(name):
    """``name`` as one ADQL delimited identifier: in double quotes, inner ``"`` doubled."""
    return '"' + name.replace('"', '""') + '"'


def quote_identifier(name):
    """One ADQL identifier (column, table or schema name, no dots interpreted).

    A regular identifier that is not a reserved word is returned unchanged;
    anything else becomes a delimited identifier (``"..."``, inner ``"``
    doubled), e.g. ``[Fe/H]`` -> ``"[Fe/H]"``.

    Parameters
    ----------
    name : str

    Returns
    -------
    str
    """
    _check_text(name, "identifier")
    if _REGULAR.match(name) and name.upper() not in ADQL_RESERVED:
        return name
    return _delimited(name)


def quote_table(name):
    """A possibly schema-qualified table name.

    ``schema.table`` made of regular identifiers keeps its dot
    (``gaiadr2.gaia_source``); any other name is one delimited identifier, as
    VizieR names its tables (``"J/A+A/640/A1/nodup"``, ``"V/164/stellar5"``).
    ``TAP_UPLOAD.name`` is kept as is.

    Parameters
    ----------
    name : str

    Returns
    -------
    str
    """
    _check_text(name, "table name")
    parts = name.split(".")
    if all(_REGULAR.match(p) for p in parts) and len(parts) <= 3:
        return ".".join(quote_identifier(p) for p in parts)
    return _delimited(name)


def quote_literal(value):
    """An ADQL literal for a Python value.

    Strings become ``'...'`` with inner quotes doubled (so ``;``, ``--`` and
    quotes inside a value stay inside the literal); integers and finite floats
    are written exactly (``repr``); anything else raises.

    Parameters
    ----------
    value : str, int or float

    Returns
    -------
    str
    """
    if isinstance(value, (bool, np.bool_)):
        raise TypeError("ADQL has no boolean literal; compare with 0/1 instead")
    if isinstance(value, (str, np.str_)):
        value = str(value)
        if "\x00" in value:
            raise ValueError("string literal contains a NUL character")
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        f = float(value)
        if not math.isfinite(f):
            raise ValueError(f"non-finite number {value!r} cannot be an ADQL literal")
        return repr(f)
    raise TypeError(f"cannot write {type(value).__name__} {value!r} as an ADQL literal")


def in_list(column, values):
    """``column IN (v1, v2, ...)`` with every value quoted.

    Parameters
    ----------
    column : str
        Column name, possibly prefixed by a table alias (``t.Cluster``); each
        dotted part is quoted as an identifier.
    values : sequence
        At least one value.

    Returns
    -------
    str
    """
    values = list(values)
    if not values:
        raise ValueError("IN list needs at least one value")
    col = ".".join(quote_identifier(p) for p in column.split("."))
    return f"{col} IN ({', '.join(quote_literal(v) for v in values)})"
