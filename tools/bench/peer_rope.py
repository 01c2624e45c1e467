#!/usr/bin/env python3
"""PyTorch peers for tools/bench/bench_rope.cpp (same configs, same JSON lines).

rope:           rotate-half on q [B, L, H, D] bf16 with cos/sin [L, 1, D] bf16
                precomputed (as models cache them), torch eager ("torch_eager")
                and torch.compile of the same formula ("torch_compile").
                gbps = 2 * bytes(q) / time (the tensor read and the result
                written; the small cos/sin tables are not counted).
rope_kv_append: RoPE on Q and K_new, then K into the cache at off[b] + l and V
                likewise (index_put), eager and compiled as one function.
                gbps = bytes read + written of Q, K, V.

Timing: CUDA events around each call after warm-up, median of 50 reps;
decode shapes rotate input sets so the working set exceeds the L2.
"""
import json

import torch


def median_us(fn, reps=50, warmup=10):
    for i in range(warmup):
        fn(i)
    torch.cuda.synchronize()
    starts = [torch.cuda.Event(enable_timing=True) for _ in range(reps)]
    ends = [torch.cuda.Event(enable_timing=True) for _ in range(reps)]
    for i in range(reps):
        starts[i].record()
        fn(warmup + i)
        ends[i].record()
    torch.cuda.synchronize()
    times = sorted(1000.0 * s.elapsed_time(e) for s, e in zip(starts, ends))
    return times[reps // 2]


def emit(bench, config, impl, us, nbytes, **extra):
    row = {"bench": bench, "config": config, "impl": impl, "median_us": round(us, 3),
           "gbps": round(nbytes / (us * 1e-6) / 1e9, 1)}
    row.update(extra)
    print("BENCH " + json.dumps(row), flush=True)


def cos_sin(positions, dim, theta=10000.0):
    """cos/sin [..., dim] in f32 (rotate-half layout: each freq twice), as HF models build them."""
    inv_freq = 1.0 / (theta ** (torch.arange(0, dim, 2, device=positions.device, dtype=torch.float32) / dim))
    freqs = positions.to(torch.float32)[..., None] * inv_freq
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos(), emb.sin()


def rotate_half(x):
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


def apply_rope(x, cos, sin):
    return x * cos + rotate_half(x) * sin


def bench_rope():
    B, L, H, D = 1, 16384, 32, 128
    config = "rope_neox_bf16_B1_L16384_H32_D128_inplace"
    q = torch.rand(B, L, H, D, device="cuda", dtype=torch.bfloat16) * 2 - 1
    pos = torch.arange(L, device="cuda")
    cos, sin = cos_sin(pos, D)
    cos = cos[:, None, :].to(torch.bfloat16)  # [L, 1, D]
    sin = sin[:, None, :].to(torch.bfloat16)
    nbytes = 2 * q.numel() * q.element_size()
    compiled = torch.compile(apply_rope)
    for impl, fn in (("torch_eager", apply_rope), ("torch_compile", compiled)):
        us = median_us(lambda i: fn(q, cos, sin))
        emit("rope", config, impl, us, nbytes)


def rope_append(q, k, v, cos, sin, k_cache, v_cache, b_idx, p_idx):
    # q, k, v: [B, L, H, D]; cos/sin: [B, L, 1, D]; caches [B, H, L_max, D];
    # b_idx, p_idx: [B, L] cache coordinates.
    q_rot = apply_rope(q, cos, sin)
    k_rot = apply_rope(k, cos, sin)
    k_cache[b_idx, :, p_idx] = k_rot
    v_cache[b_idx, :, p_idx] = v
    return q_rot


def bench_fused(B, L, config):
    Hq, H, D, L_max = 32, 8, 128, 4096
    dt = torch.bfloat16
    set_bytes = 2 * (B * L * Hq * D + 2 * B * L * H * D)
    sets = max(1, min(16, int(200e6 // set_bytes)))
    inputs = []
    for s in range(sets):
        q = torch.rand(B, L, Hq, D, device="cuda", dtype=dt) * 2 - 1
        k = torch.rand(B, L, H, D, device="cuda", dtype=dt) * 2 - 1
        v = torch.rand(B, L, H, D, device="cuda", dtype=dt) * 2 - 1
        b = torch.arange(B, device="cuda")
        if L == 1:
            off = (b * 997 + s * 131) % (L_max - 1)
        else:
            off = (b * 64 + s) % (L_max - L)
        p_idx = off[:, None] + torch.arange(L, device="cuda")[None, :]
        b_idx = b[:, None].expand(B, L)
        cos, sin = cos_sin(p_idx, D)
        inputs.append((q, k, v, cos[:, :, None, :].to(dt), sin[:, :, None, :].to(dt), b_idx, p_idx))
    k_cache = torch.rand(B, H, L_max, D, device="cuda", dtype=dt)
    v_cache = torch.rand(B, H, L_max, D, device="cuda", dtype=dt)
    nbytes = 2 * set_bytes
    compiled = torch.compile(rope_append)
    for impl, fn in (("torch_eager", rope_append), ("torch_compile", compiled)):
        def call(i, fn=fn):
            q, k, v, cos, sin, b_idx, p_idx = inputs[i % sets]
            fn(q, k, v, cos, sin, k_cache, v_cache, b_idx, p_idx)
        us = median_us(call)
        emit("rope_kv_append", config, impl, us, nbytes)


def main():
    if not torch.cuda.is_available():
        print("skipped: no GPU")
        return
    print(f"device: {torch.cuda.get_device_name()}, torch {torch.__version__}", flush=True)
    bench_rope()
    bench_fused(64, 1, "rope_kv_append_neox_bf16_B64_L1_Hq32_Hkv8_D128_Lmax4096")
    bench_fused(4, 2048, "rope_kv_append_neox_bf16_B4_L2048_Hq32_Hkv8_D128_Lmax4096")


if __name__ == "__main__":
    main()
