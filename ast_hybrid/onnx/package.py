"""The onnx package, imported where a conversion starts, so ast_hybrid.onnx imports without it."""


def onnx_package():
    try:
        import onnx
    except ImportError:
        raise ImportError("ONNX conversion needs the onnx package: "
                          "pip install 'ast_hybrid[onnx]'") from None
    return onnx
