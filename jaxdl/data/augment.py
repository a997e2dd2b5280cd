"""Data augmentation: random shifts and Gaussian noise on device (pure jax,
jit/vmap-able), and Nielsen's expanded MNIST on the host (numpy)."""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np


def random_shift(key: jax.Array, x: jax.Array, max_shift: int) -> jax.Array:
  """Shifts each image by its own integer offset, filling with zeros.

  Args:
    key: PRNG key; the offsets (dy, dx) are uniform in [-max_shift, max_shift]^2,
      independently per example. Output[h, w] = input[h - dy, w - dx].
    x: [B, H, W, C].
    max_shift: static, in pixels; 0 returns x unchanged.

  Returns:
    [B, H, W, C], the dtype of x.
  """
  if max_shift == 0:
    return x
  k = max_shift
  _, h, w, c = x.shape
  shifts = jax.random.randint(key, (x.shape[0], 2), -k, k + 1)
  padded = jnp.pad(x, ((0, 0), (k, k), (k, k), (0, 0)))

  def crop(image: jax.Array, shift: jax.Array) -> jax.Array:
    return jax.lax.dynamic_slice(image, (k - shift[0], k - shift[1], 0), (h, w, c))

  return jax.vmap(crop)(padded, shifts)


def gaussian_noise(key: jax.Array, x: jax.Array, std: float | jax.Array) -> jax.Array:
  """x + std * N(0, 1), elementwise; not clipped. `std` may be traced."""
  return x + std * jax.random.normal(key, x.shape, x.dtype)


def expand_by_shifts(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
  """Nielsen's expanded MNIST: each image plus its 1-pixel shifts, zero fill.

  Args:
    x: [N, H, W, ...] images.
    y: [N] labels.

  Returns:
    x5 [5N, H, W, ...], y5 [5N]: the originals, then all shifted up, down,
    left and right by one pixel (in that order, N each).
  """
  up, down, left, right = (np.zeros_like(x) for _ in range(4))
  up[:, :-1], down[:, 1:] = x[:, 1:], x[:, :-1]
  left[:, :, :-1], right[:, :, 1:] = x[:, :, 1:], x[:, :, :-1]
  return np.concatenate([x, up, down, left, right]), np.tile(y, 5)
