"""Peer of bench_kv_append: torch index_put_ with per-sample offsets, same configs.

Prints BENCH lines (see tools/bench/bench_common.hpp) with impl "torch_index_put".
"""
import json

import torch


def bench(fn, calls, samples=30, warmup=5):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(samples):
        start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(calls):
            fn()
        stop.record()
        stop.synchronize()
        times.append(1000.0 * start.elapsed_time(stop) / calls)
    times.sort()
    return times[len(times) // 2]


def run(name, B, H, L_new, L_max, D):
    new_bytes = B * H * L_new * D * 2
    sets = max(1, min(32, (256 << 20) // (2 * (new_bytes + B * H * L_max * D * 2))))
    offsets = torch.tensor([(b * 37) % (L_max - L_new + 1) for b in range(B)], device="cuda")
    pos = offsets[:, None] + torch.arange(L_new, device="cuda")[None, :]          # [B, L_new]
    b_idx = torch.arange(B, device="cuda")[:, None, None]
    h_idx = torch.arange(H, device="cuda")[None, :, None]
    index = (b_idx, h_idx, pos[:, None, :])                                       # broadcast to [B, H, L_new]
    data = [dict(k=torch.randn(B, H, L_new, D, device="cuda", dtype=torch.bfloat16),
                 v=torch.randn(B, H, L_new, D, device="cuda", dtype=torch.bfloat16),
                 kc=torch.randn(B, H, L_max, D, device="cuda", dtype=torch.bfloat16),
                 vc=torch.randn(B, H, L_max, D, device="cuda", dtype=torch.bfloat16)) for _ in range(sets)]
    state = {"i": 0}

    def step():
        s = data[state["i"] % sets]
        state["i"] += 1
        s["kc"].index_put_(index, s["k"])
        s["vc"].index_put_(index, s["v"])

    # Correctness of the peer itself: the rows land where the kernel puts them.
    s = data[0]
    s["kc"].index_put_(index, s["k"])
    assert torch.equal(s["kc"][0, :, offsets[0]:offsets[0] + L_new], s["k"][0])
    us = bench(step, 20 if L_new == 1 else 1)
    gbps = 4.0 * new_bytes / (us * 1e-6) / 1e9
    config = f"bf16 B={B} H={H} L_new={L_new} D={D} {name}"
    print("BENCH " + json.dumps({"bench": "kv_append", "config": config, "impl": "torch_index_put",
                                 "median_us": round(us, 3), "gbps": round(gbps, 1)}), flush=True)


if __name__ == "__main__":
    run("prefill", 8, 8, 2048, 4096, 128)
    run("decode", 64, 8, 1, 4096, 128)
