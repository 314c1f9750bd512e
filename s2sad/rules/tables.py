"""Register every rule table (imported once, by ``s2sad/__init__.py``, after the API it refers to)."""
from . import python, numpy, linalg, fft, containers, helpers, implicit, nested  # noqa: F401  (registers the tables)
from . import scipy_special  # noqa: F401  (registers when scipy.special is imported; never imports it)
from . import scipy_stats  # noqa: F401  (scipy.stats distributions, looked up when named; never imports scipy)
