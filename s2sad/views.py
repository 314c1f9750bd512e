"""NumPy's functions whose result may share memory with an argument (a view, or the argument itself).

Every other NumPy function is taken to return a new array. A function missing here that returns a view
lets a write through its result go unseen (``v = np.rollaxis(B, 1); v *= 2`` changes ``B``): the front end
(front/normalize.py) and the effects analysis (analysis/effects.py) both read this one list.
"""
import numpy as np

NUMPY_VIEWS = frozenset({
    np.asarray, np.asanyarray, np.ascontiguousarray, np.asfortranarray, np.asarray_chkfinite, np.require,
    np.frombuffer, np.atleast_1d, np.atleast_2d, np.atleast_3d, np.squeeze, np.expand_dims, np.reshape, np.ravel,
    np.transpose, np.swapaxes, np.moveaxis, np.rollaxis, np.diagonal, np.diag, np.real, np.imag, np.real_if_close,
    np.broadcast_to, np.broadcast_arrays, np.split, np.array_split, np.hsplit, np.vsplit, np.dsplit, np.flip,
    np.fliplr, np.flipud, np.rot90, np.einsum, np.trim_zeros, np.nan_to_num, np.asmatrix,
    np.lib.stride_tricks.as_strided, np.lib.stride_tricks.sliding_window_view} | {
    getattr(np, name) for name in ("matrix_transpose", "unstack", "permute_dims") if hasattr(np, name)} | {
    getattr(np.linalg, name) for name in ("matrix_transpose", "diagonal") if hasattr(np.linalg, name)} | {
    # (these return their argument itself, for some arguments: np.float64(a) of a float64 array, a power of 1,
    # a difference or a polynomial's derivative of order 0, a masked array's data or fill of an array)
    np.float64, np.double, np.linalg.matrix_power, np.diff, np.polyder, np.polyint, np.ma.filled, np.ma.getdata,
    np.from_dlpack, np.ix_, np.ma.compressed})

NUMPY_VIEW_NAMES = frozenset(f.__name__ for f in NUMPY_VIEWS)
