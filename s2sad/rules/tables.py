"""Register every rule table (imported once, by ``s2sad/__init__.py``, after the API it refers to)."""
from . import python, numpy, linalg, fft, containers, helpers, implicit, nested  # noqa: F401  (registers the tables)
from . import scipy_special  # noqa: F401  (registers when scipy.special is imported; never imports it)
from . import scipy_stats  # noqa: F401  (scipy.stats distributions, looked up when named; never imports scipy)
from . import scipy_linalg, scipy_signal  # noqa: F401  (register when scipy.linalg / scipy.signal are imported)
from . import scipy_integrate  # noqa: F401  (odeint, solve_ivp: registers when scipy.integrate is imported)
