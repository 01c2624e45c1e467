"""Peer benchmark of attention forward: PyTorch SDPA on the problems of
bench_attn_fwd.cpp (FlashAttention's convention: hidden 2048, H = 2048 / D
rounded down, batch * seq = 16384; S in {1024, 4096, 16384}, D in {64, 128,
256} (--D: any other), causal
and full, bf16 and f16; Sq = Sk = S; inputs in [B, S, H, D] memory viewed as
[B, H, S, D]).

Backends: SDPBackend.FLASH_ATTENTION -> impl "torch_flash",
SDPBackend.CUDNN_ATTENTION -> impl "torch_cudnn" (is_causal for causal).
TFLOP/s = 4 * B * H * S^2 * D / time, halved for causal. Prints one JSON
object per line, prefixed "BENCH ", with the config strings of
bench_attn_fwd.cpp. Same filters: --quick (bf16, S = 4096), --dtype, --S,
--D, --causal / --full, --reps.
"""

import argparse
import json
import math

import torch
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.nn.functional import scaled_dot_product_attention

from peer_common import cuda_device, median

HIDDEN, TOKENS = 2048, 16384
WARMUP = 5


def time_us(fn, sets, reps):
    """Median device time of fn(set) over reps runs after WARMUP, each bracketed by
    its own events; nothing waits between runs, so launch overhead is not timed."""
    for r in range(WARMUP):
        fn(sets[r % len(sets)])
    starts = [torch.cuda.Event(enable_timing=True) for _ in range(reps)]
    ends = [torch.cuda.Event(enable_timing=True) for _ in range(reps)]
    for r in range(reps):
        starts[r].record()
        fn(sets[r % len(sets)])
        ends[r].record()
    torch.cuda.synchronize()
    return median([s.elapsed_time(e) * 1e3 for s, e in zip(starts, ends)])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--dtype", choices=["bf16", "f16"])
    ap.add_argument("--S", type=int, default=0)
    ap.add_argument("--D", type=int, default=0)
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--causal", action="store_true")
    g.add_argument("--full", action="store_true")
    ap.add_argument("--reps", type=int, default=30)
    args = ap.parse_args()
    if args.quick:
        args.dtype = args.dtype or "bf16"
        args.S = args.S or 4096
    reps = max(20, args.reps)

    device = cuda_device()
    if device is None:
        return
    props, l2 = device
    print(f"# device: {props.name}, torch {torch.__version__}")
    gen = torch.Generator(device="cuda").manual_seed(1234)

    for dtn, dtype in (("bf16", torch.bfloat16), ("f16", torch.float16)):
        if args.dtype and args.dtype != dtn:
            continue
        for causal in (False, True):
            if (args.causal and not causal) or (args.full and causal):
                continue
            for seq in (1024, 4096, 16384):
                if args.S and seq != args.S:
                    continue
                for dim in ((args.D,) if args.D else (64, 128, 256)):
                    batch, heads = TOKENS // seq, HIDDEN // dim
                    config = f"{dtn} B={batch} H={heads} S={seq} D={dim} {'causal' if causal else 'full'}"
                    flops = 4.0 * batch * heads * seq * seq * dim / (2 if causal else 1)
                    set_bytes = 4 * batch * seq * heads * dim * 2
                    sets_n = 1 if set_bytes > 2 * l2 else min(8, math.ceil(4 * l2 / set_bytes))
                    sets = []
                    for _ in range(sets_n):
                        qkv = [torch.randn(batch, seq, heads, dim, device="cuda", dtype=dtype,
                                           generator=gen).transpose(1, 2) for _ in range(3)]
                        sets.append(qkv)
                    for impl, backend in (("torch_flash", SDPBackend.FLASH_ATTENTION),
                                          ("torch_cudnn", SDPBackend.CUDNN_ATTENTION)):
                        def run(s):
                            scaled_dot_product_attention(s[0], s[1], s[2], is_causal=causal)
                        try:
                            with sdpa_kernel(backend):
                                us = time_us(run, sets, reps)
                        except RuntimeError as ex:  # the backend rejects the problem
                            print(f"# {config}: {impl} unavailable: {str(ex).splitlines()[0]}")
                            continue
                        print("BENCH " + json.dumps({
                            "bench": "attn_fwd", "config": config, "impl": impl,
                            "median_us": round(us, 2), "tflops": round(flops / (us * 1e6), 1),
                            "reps": reps, "sets": sets_n}), flush=True)
                    del sets


if __name__ == "__main__":
    main()
