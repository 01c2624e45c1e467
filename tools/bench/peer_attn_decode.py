"""Peer benchmark of decode attention: PyTorch SDPA on the problems of
bench_attn_decode.cpp (bf16, Hq=32, Hkv=8, D=128, one new token, contiguous
cache [B, Hkv, L, D], every sample at the full length L).

Backends: cuDNN (SDPBackend.CUDNN_ATTENTION, enable_gqa=True) -> impl
"torch_cudnn"; FlashAttention (SDPBackend.FLASH_ATTENTION) -> "torch_flash"
where it accepts the shape. Bandwidth = K + V bytes / median time. Prints one
JSON object per line, prefixed "BENCH ", with the config strings of
bench_attn_decode.cpp.
"""

import json
import math

import torch
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.nn.functional import scaled_dot_product_attention

from peer_common import cuda_device, median

HEADS_Q, HEADS_KV, DIM = 32, 8, 128
SHAPES = [(1, 32768), (16, 8192), (64, 4096), (128, 2048), (32, 32768)]
WARMUP, REPS = 5, 30


def time_us(fn, sets):
    """Median device time of fn(set) over REPS back-to-back runs after WARMUP."""
    total = WARMUP + REPS
    events = [torch.cuda.Event(enable_timing=True) for _ in range(total + 1)]
    events[0].record()
    for r in range(total):
        fn(sets[r % len(sets)])
        events[r + 1].record()
    torch.cuda.synchronize()
    return median([events[r].elapsed_time(events[r + 1]) * 1e3 for r in range(WARMUP, total)])


def main():
    device = cuda_device()
    if device is None:
        return
    props, l2 = device
    print(f"device: {props.name}, torch {torch.__version__}")
    gen = torch.Generator(device="cuda").manual_seed(1234)
    for batch, length in SHAPES:
        kv_bytes = 2 * batch * HEADS_KV * length * DIM * 2
        sets_n = max(1, math.ceil(4 * l2 / kv_bytes))
        sets = []
        for _ in range(sets_n):
            q = torch.randn(batch, HEADS_Q, 1, DIM, device="cuda", dtype=torch.bfloat16, generator=gen)
            k = torch.randn(batch, HEADS_KV, length, DIM, device="cuda", dtype=torch.bfloat16, generator=gen)
            v = torch.randn(batch, HEADS_KV, length, DIM, device="cuda", dtype=torch.bfloat16, generator=gen)
            sets.append((q, k, v))
        config = f"bf16 B={batch} L={length} Hq={HEADS_Q} Hkv={HEADS_KV} D={DIM}"
        for impl, backend in (("torch_cudnn", SDPBackend.CUDNN_ATTENTION), ("torch_flash", SDPBackend.FLASH_ATTENTION)):
            def run(s):
                return scaled_dot_product_attention(s[0], s[1], s[2], enable_gqa=True)
            try:
                with sdpa_kernel(backend):  # entered once: no context switch inside the timed loop
                    run(sets[0])
                    torch.cuda.synchronize()
                    t = time_us(run, sets)
            except RuntimeError as err:
                print(f"# {impl} {config}: not run ({str(err).splitlines()[0][:160]})")
                continue
            print("BENCH " + json.dumps({
                "bench": "attn_decode", "config": config, "impl": impl, "cache": "contiguous",
                "median_us": round(t, 2), "gbps": round(kv_bytes / (t * 1e3), 1)}), flush=True)
        del sets
        torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
