"""Cluster-name normalisation, so that catalogues join.

``NGC2682``, ``NGC_2682``, ``NGC 2682``, ``ngc 2682`` and ``NGC0752``-style
zero-padded names all reduce to one *key*; :class:`NameResolver` maps keys to
the names of a reference catalogue (Cantat-Gaudin et al. 2020 by default, whose
spelling - ``NGC_752``, ``Trumpler_2``, ``Melotte_22`` - is the canonical one).
"""
import difflib
import re

from ..exceptions import UnknownClusterError

__all__ = ["name_key", "normalise_name", "NameResolver"]

# Abbreviations seen in survey tables -> the full prefix used by CG2020.
_PREFIX_ALIASES = {
    "TRUMP": "TRUMPLER", "TR": "TRUMPLER", "MEL": "MELOTTE", "BERK": "BERKELEY",
    "BE": "BERKELEY", "COLL": "COLLINDER", "CR": "COLLINDER", "RUP": "RUPRECHT",
    "RU": "RUPRECHT", "BH": "BH", "HAF": "HAFFNER", "ALESSI": "ALESSI", "CZ": "CZERNIK",
    "TOMBAUGH": "TOMBAUGH", "DOL": "DOLIDZE", "VDB": "VDBERGH", "BOCHUM": "BOCHUM",
}
# Common names of famous clusters -> CG2020 name.
_COMMON_NAMES = {
    "PLEIADES": "MELOTTE22", "M45": "MELOTTE22", "PRAESEPE": "NGC2632", "M44": "NGC2632",
    "M67": "NGC2682", "HYADES": "MELOTTE25", "M35": "NGC2168", "M34": "NGC1039",
    "HPER": "NGC869", "CHIPER": "NGC884",
}


def name_key(name):
    """Reduce a cluster name to a comparison key.

    Upper case, separators (space, ``_``, ``-``, ``.``) removed, leading zeros of
    numbers removed, known prefix abbreviations expanded.

    Parameters
    ----------
    name : str
        A cluster name as written in some catalogue.

    Returns
    -------
    str

    Examples
    --------
    >>> name_key("NGC0752") == name_key("NGC_752") == name_key("ngc 752")
    True
    >>> name_key("Trump02") == name_key("Trumpler_2")
    True
    """
    s = str(name).strip().upper()
    s = re.sub(r"[\s_\-\.]+", "", s)
    s = re.sub(r"(?<!\d)0+(?=\d)", "", s)
    m = re.fullmatch(r"([A-Z]+)(\d+[A-Z]?)", s)
    if m and m.group(1) in _PREFIX_ALIASES:
        s = _PREFIX_ALIASES[m.group(1)] + m.group(2)
    return _COMMON_NAMES.get(s, s)


def normalise_name(name):
    """Normalise a name to CG2020 style without a reference list.

    Spaces become underscores, and an underscore separates a letter prefix from
    its number (``NGC2682`` -> ``NGC_2682``). Use :class:`NameResolver` for the
    exact CG2020 spelling.

    Parameters
    ----------
    name : str
        A cluster name.

    Examples
    --------
    >>> normalise_name("NGC 2682"), normalise_name("NGC2682"), normalise_name(" IC4665 ")
    ('NGC_2682', 'NGC_2682', 'IC_4665')
    """
    s = re.sub(r"\s+", "_", str(name).strip())
    s = re.sub(r"^([A-Za-z]+)(\d)", r"\1_\2", s)
    return s


class NameResolver:
    """Map cluster names of any catalogue onto the names of a reference catalogue.

    Parameters
    ----------
    reference_names : iterable of str
        Canonical names (e.g. the ``Cluster`` column of CG2020 table1).
    aliases : mapping or iterable of (str, str), optional
        Other names of the reference clusters, ``{other name: canonical name}``
        (e.g. the ``AllNames`` of Hunt & Reffert 2023). A canonical name always
        wins over an alias with the same key, and the first alias of a key wins
        over later ones.

    Examples
    --------
    >>> r = NameResolver(["NGC_752", "Trumpler_2", "Melotte_22"])
    >>> r.resolve("NGC0752"), r.resolve("Trump02"), r.resolve("Pleiades")
    ('NGC_752', 'Trumpler_2', 'Melotte_22')
    >>> r.resolve("NGC 9999", strict=False) is None
    True
    >>> NameResolver(["NGC_2682"], aliases={"M 67": "NGC_2682", "Cl Messier 67": "NGC_2682"}
    ...              ).resolve("Cl_Messier_67")
    'NGC_2682'
    """

    def __init__(self, reference_names, *, aliases=None):
        self.names = [str(n).strip() for n in reference_names]
        self._by_key = {}
        for n in self.names:
            self._by_key.setdefault(name_key(n), n)
        pairs = aliases.items() if hasattr(aliases, "items") else (aliases or ())
        for alias, canonical in pairs:
            alias = str(alias).strip()
            if alias:
                self._by_key.setdefault(name_key(alias), str(canonical).strip())

    def __contains__(self, name):
        return name_key(name) in self._by_key

    def resolve(self, name, *, strict=True):
        """Return the reference spelling of ``name``.

        Parameters
        ----------
        name : str
            Name to resolve.
        strict : bool
            Raise `~astro_ocl.exceptions.UnknownClusterError` (with close
            matches) for an unknown name; with ``False`` return None.
        """
        hit = self._by_key.get(name_key(name))
        if hit is None and strict:
            close = difflib.get_close_matches(normalise_name(name), self.names, n=3, cutoff=0.75)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise UnknownClusterError(
                f"unknown cluster {name!r}: not in the reference catalogue "
                f"({len(self.names)} clusters){hint}")
        return hit

    def resolve_many(self, names):
        """Resolve an array of names; unknown ones become their `normalise_name` form.

        Parameters
        ----------
        names : iterable of str

        Returns
        -------
        resolved : list of str
        n_unknown : int
            How many names were not in the reference catalogue.
        """
        out, unknown = [], 0
        for n in names:
            hit = self._by_key.get(name_key(n))
            if hit is None:
                unknown += 1
                hit = normalise_name(n)
            out.append(hit)
        return out, unknown
