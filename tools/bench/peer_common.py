"""Helpers shared by the PyTorch SDPA peers (peer_attn_fwd.py, peer_attn_decode.py)."""

import torch


def median(values):
    v = sorted(values)
    n = len(v)
    return v[n // 2] if n % 2 else 0.5 * (v[n // 2 - 1] + v[n // 2])


def cuda_device():
    """(properties, L2 bytes) of CUDA device 0, or None after printing "skipped: no GPU"."""
    if not torch.cuda.is_available():
        print("skipped: no GPU")
        return None
    props = torch.cuda.get_device_properties(0)
    return props, getattr(props, "L2_cache_size", 50 << 20)
