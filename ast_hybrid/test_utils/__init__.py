"""Testing helpers with MXNet 1.9.1's `mx.test_utils` names, and check_hybridize."""
from .arrays import (rand_ndarray, rand_shape_2d, rand_shape_3d, rand_shape_nd,
                     random_arrays, random_uniform_arrays)
from .compare import (almost_equal, assert_allclose, assert_almost_equal,
                      assert_almost_equal_ignore_nan, assert_almost_equal_with_err,
                      assert_exception, checkShapes, default_atols, default_numeric_eps,
                      default_rtols, effective_dtype, get_atol, get_etol, get_rtol,
                      get_tolerance, get_tols, locationError, same)
from .context import (default_context, default_dtype, environment, list_gpus, retry,
                      set_default_context, use_np)
from .hybridize import (HybridizeCheckSkipped, HybridizeMismatch, HybridizeReport,
                        check_gluon_hybridize_consistency, check_hybridize)
from .symbolic import (check_consistency, check_numeric_gradient, check_symbolic_backward,
                       check_symbolic_forward, simple_forward)

__all__ = ["almost_equal", "assert_allclose", "assert_almost_equal",
           "assert_almost_equal_ignore_nan", "assert_almost_equal_with_err",
           "assert_exception", "check_consistency", "check_gluon_hybridize_consistency",
           "check_hybridize",
           "check_numeric_gradient", "check_symbolic_backward", "check_symbolic_forward",
           "checkShapes", "default_atols", "default_context", "default_dtype",
           "default_numeric_eps", "default_rtols", "effective_dtype", "environment",
           "get_atol", "get_etol", "get_rtol", "get_tolerance", "get_tols",
           "HybridizeCheckSkipped", "HybridizeMismatch", "HybridizeReport",
           "list_gpus", "locationError", "rand_ndarray", "rand_shape_2d", "rand_shape_3d",
           "rand_shape_nd", "random_arrays", "random_uniform_arrays", "retry", "same",
           "set_default_context", "simple_forward", "use_np"]
