"""mx.contrib.amp: automatic mixed precision is not available; code that checks for it sees so."""

# model code (GluonCV) reads this to decide whether to cast to float16
_amp_initialized = False


def _refuse(name):
    raise NotImplementedError(f"amp.{name}: automatic mixed precision is not available in "
                              "ast_hybrid (numpy on the CPU); cast explicitly with "
                              "block.cast('float16') where float16 is wanted")


def init(*args, **kwargs):
    _refuse("init")


def init_trainer(*args, **kwargs):
    _refuse("init_trainer")


def scale_loss(*args, **kwargs):
    _refuse("scale_loss")


def convert_hybrid_block(*args, **kwargs):
    _refuse("convert_hybrid_block")
