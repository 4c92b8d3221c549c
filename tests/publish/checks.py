"""Shared assertion helpers of the publishing tests."""
import io

from astropy.io import votable


def votable_valid(path):
    """Assert astropy's VOTable validator passes ``path`` with "no violations".

    ``votable.validate`` returns the report text when ``output=None``, so the
    report goes to a buffer. Returns True so that tests can ``assert`` it.
    """
    buf = io.StringIO()
    ok = votable.validate(str(path), output=buf, xmllint=False)
    assert ok is True and "no violations" in buf.getvalue(), buf.getvalue()
    return True
