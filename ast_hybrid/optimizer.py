"""Optimizers (MXNet 1.x `mx.optimizer`): update rules applied in place to numpy arrays.

Each `update(index, weight, grad, state)` takes the parameter's raw numpy arrays; the
gradient is first multiplied by `rescale_grad` (the Trainer sets 1/batch_size) and clipped to
[-clip_gradient, clip_gradient] when given. The formulas are MXNet's update operators'.
"""
import math

import numpy as np

__all__ = ["Optimizer", "SGD", "NAG", "Adam", "RMSProp", "create", "register"]

_REGISTRY = {}


def register(cls):
    _REGISTRY[cls.__name__.lower()] = cls
    return cls


def create(name, **kwargs):
    if isinstance(name, Optimizer):
        return name
    try:
        cls = _REGISTRY[str(name).lower()]
    except KeyError:
        raise ValueError(f"unknown optimizer {name!r}; known: {', '.join(sorted(_REGISTRY))}") \
            from None
    return cls(**kwargs)


class Optimizer:
    def __init__(self, learning_rate=None, wd=0.0, rescale_grad=1.0, clip_gradient=None,
                 lr_scheduler=None, multi_precision=False, param_dict=None, begin_num_update=0,
                 **unused):
        unknown = sorted(set(unused) - {"param_idx2name", "sym", "aggregate_num",
                                        "use_fused_step"})
        if unknown:
            raise TypeError(f"{type(self).__name__}: unexpected option(s) {', '.join(unknown)}")
        if lr_scheduler is None and learning_rate is None:
            learning_rate = 0.01
        self.lr = learning_rate
        self.wd = wd
        self.rescale_grad = rescale_grad
        self.clip_gradient = clip_gradient
        self.lr_scheduler = lr_scheduler
        # a rate given beside a scheduler becomes the scheduler's, announced on stdout in
        # MXNet 1.9.1's words (MXNet prints a UserWarning object instead of issuing it)
        if lr_scheduler is not None and learning_rate is not None and \
                lr_scheduler.base_lr != learning_rate:
            print(UserWarning("learning rate from ``lr_scheduler`` has been overwritten by "
                              "``learning_rate`` in optimizer."))
            lr_scheduler.base_lr = learning_rate
        self.param_dict = param_dict or {}
        self.begin_num_update = begin_num_update
        self.num_update = begin_num_update
        self._index_update_count = {}

    @property
    def learning_rate(self):
        if self.lr_scheduler is not None:
            return self.lr_scheduler(self.num_update)
        return self.lr

    def set_learning_rate(self, lr):
        if self.lr_scheduler is not None:
            raise UserWarning("LRScheduler of the optimizer has already been defined. Note "
                              "that set_learning_rate can mutate the value of the learning "
                              "rate of the optimizer only when the LRScheduler of the "
                              "optimizer is undefined.")
        self.lr = lr

    def create_state(self, index, weight):
        return None

    def _update_count(self, index):
        count = self._index_update_count.get(index, self.begin_num_update) + 1
        self._index_update_count[index] = count
        self.num_update = max(self.num_update, count)
        return count

    def _get_lr(self, index):
        param = self.param_dict.get(index)
        return self.learning_rate * (param.lr_mult if param is not None else 1.0)

    def _get_wd(self, index):
        param = self.param_dict.get(index)
        return self.wd * (param.wd_mult if param is not None else 1.0)

    def _prepare(self, grad):
        grad = grad * np.asarray(self.rescale_grad, dtype=grad.dtype)
        if self.clip_gradient is not None:
            bound = np.asarray(self.clip_gradient, dtype=grad.dtype)
            np.clip(grad, -bound, bound, out=grad)
        return grad

    def update(self, index, weight, grad, state):
        raise NotImplementedError


class _Momentum(Optimizer):
    """An optimizer with a momentum buffer per parameter (none when momentum is 0)."""

    def __init__(self, momentum=0.0, lazy_update=True, **kwargs):
        super().__init__(**kwargs)
        self.momentum = momentum

    def create_state(self, index, weight):
        return np.zeros_like(weight) if self.momentum != 0.0 else None

    def _regularized(self, index, weight, grad):
        """(lr, clip(rescale * grad) + wd * weight) as a new array, counting the update."""
        self._update_count(index)
        lr, wd = self._get_lr(index), self._get_wd(index)
        step = self._prepare(grad)
        if wd:
            step += wd * weight
        return lr, step


@register
class SGD(_Momentum):
    """weight -= lr * (clip(rescale * grad) + wd * weight), with momentum:
    mom = momentum * mom - lr * (clip(rescale * grad) + wd * weight); weight += mom."""

    def update(self, index, weight, grad, state):
        if state is None and self.clip_gradient is None and (
                not self.wd or not self._get_wd(index)):
            # plain SGD, the common case: one pass over the gradient, one over the weight
            self._update_count(index)
            weight -= grad * weight.dtype.type(self._get_lr(index) * self.rescale_grad)
            return
        lr, step = self._regularized(index, weight, grad)
        step *= lr          # step is this update's own array: scaled in place, no new one
        if state is None:
            weight -= step
        else:
            state *= self.momentum
            state -= step
            weight += state


@register
class NAG(_Momentum):
    """Nesterov momentum as MXNet 1.9.1's nag_mom_update: mom = momentum * mom - lr * g;
    weight += momentum * mom - lr * g, where g = clip(rescale * grad) + wd * weight. The
    momentum holds steps already scaled by their own rate, which matters once a scheduler
    changes the rate."""

    def update(self, index, weight, grad, state):
        lr, step = self._regularized(index, weight, grad)
        step *= lr
        if state is None:
            weight -= step
        else:
            state *= self.momentum
            state -= step
            weight += self.momentum * state - step


@register
class Adam(Optimizer):
    """Adam with MXNet's bias correction folded into the learning rate:
    lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t); g = clip(rescale * grad + wd * weight)."""

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, epsilon=1e-8,
                 lazy_update=True, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta1, self.beta2, self.epsilon = beta1, beta2, epsilon

    def create_state(self, index, weight):
        return (np.zeros_like(weight), np.zeros_like(weight))

    def update(self, index, weight, grad, state):
        t = self._update_count(index)
        lr, wd = self._get_lr(index), self._get_wd(index)
        lr *= math.sqrt(1.0 - self.beta2 ** t) / (1.0 - self.beta1 ** t)
        g = grad * np.asarray(self.rescale_grad, dtype=grad.dtype)
        if wd:
            g += wd * weight
        if self.clip_gradient is not None:
            np.clip(g, -self.clip_gradient, self.clip_gradient, out=g)
        mean, var = state
        mean *= self.beta1
        mean += (1.0 - self.beta1) * g
        var *= self.beta2
        var += (1.0 - self.beta2) * np.square(g)
        weight -= lr * mean / (np.sqrt(var) + self.epsilon)


@register
class RMSProp(Optimizer):
    """RMSProp (Tieleman & Hinton): n = gamma1 * n + (1 - gamma1) * g^2;
    weight -= lr * g / sqrt(n + epsilon). centered=True is Graves' variant with gamma2
    momentum. g = clip(rescale * grad + wd * weight)."""

    def __init__(self, learning_rate=0.001, gamma1=0.9, gamma2=0.9, epsilon=1e-8,
                 centered=False, clip_weights=None, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.gamma1, self.gamma2, self.epsilon = gamma1, gamma2, epsilon
        self.centered = centered
        self.clip_weights = clip_weights

    def create_state(self, index, weight):
        if self.centered:
            return (np.zeros_like(weight), np.zeros_like(weight), np.zeros_like(weight))
        return (np.zeros_like(weight),)

    def update(self, index, weight, grad, state):
        self._update_count(index)
        lr, wd = self._get_lr(index), self._get_wd(index)
        g = grad * np.asarray(self.rescale_grad, dtype=grad.dtype)
        if wd:
            g += wd * weight
        if self.clip_gradient is not None:
            np.clip(g, -self.clip_gradient, self.clip_gradient, out=g)
        n = state[0]
        n *= self.gamma1
        n += (1.0 - self.gamma1) * np.square(g)
        if not self.centered:
            weight -= lr * g / np.sqrt(n + self.epsilon)
        else:
            mean, delta = state[1], state[2]
            mean *= self.gamma1
            mean += (1.0 - self.gamma1) * g
            delta *= self.gamma2
            delta -= lr * g / np.sqrt(n - np.square(mean) + self.epsilon)
            weight += delta
        if self.clip_weights:
            np.clip(weight, -self.clip_weights, self.clip_weights, out=weight)
