"""Peer benchmark of decode attention: PyTorch SDPA on the problems of
bench_attn_decode.cpp (bf16, Hq=32, Hkv=8, D = 128 on five (B, L) and D = 64
and 256 on three, one new token, contiguous cache [B, Hkv, L, D], every
sample at the full length L).

Backends: cuDNN (SDPBackend.CUDNN_ATTENTION, enable_gqa=True) -> impl
"torch_cudnn"; FlashAttention (SDPBackend.FLASH_ATTENTION) -> "torch_flash"
where it accepts the shape. Bandwidth = K + V bytes / median time. Prints one
JSON object per line, prefixed "BENCH ", with the config strings of
bench_attn_decode.cpp.

Same buffers (D = 128): with BARACUDA_BENCH_CAPI naming the library that
tools/bench/bench_capi.cu builds, baracuda's adaptive SKU, cuDNN and the
streaming-read floor (tools/bench/read_loop.cuh: two read loops, one CTA per
SM) also run on the very same tensors, in rotating order (bench
"attn_decode_same_buffers").
A bandwidth-bound kernel's time depends on where its buffers lie in device
memory, and the two processes of bench_attn_decode.cpp and this script place
them differently; these rows compare the kernels without that spread, on the
peer's own tensors and on K and V cut from one buffer with V starting 0,
1 MiB and 3.3 MiB past K's end (config suffix "placement=..."). Each
placement takes SAME_BUFFER_ROUNDS rounds, the three timed back to back in
each (who goes first rotates); the rows give the median over rounds, on
baracuda's row the per-round ratio cuDNN time / baracuda time (median, range,
and the number of rounds baracuda was faster), and on both kernels' rows the
per-round ratio read-floor time (the faster loop) / kernel time (1: as fast
as reading the bytes).
"""

import ctypes
import json
import math
import os

import torch
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.nn.functional import scaled_dot_product_attention

from peer_common import cuda_device, median

HEADS_Q, HEADS_KV, DIM = 32, 8, 128  # DIM: the issue's head dim, and the same-buffer rows'
PROBLEMS = ([(DIM, b, l) for b, l in [(1, 32768), (16, 8192), (64, 4096), (128, 2048), (32, 32768)]] +
            [(d, b, l) for d in (64, 256) for b, l in [(1, 32768), (16, 8192), (128, 2048)]])
WARMUP, REPS = 5, 30
SAME_BUFFER_ROUNDS = 11
V_GAPS = {"gap0": 0, "gap1M": 1 << 20, "gap3.3M": 3473408}  # bytes between K's end and V
OURS = "attn_decode_bf16_hd128_sm80"


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


def load_capi():
    """The bench C interface (bench_capi.cu), or None when not given."""
    path = os.environ.get("BARACUDA_BENCH_CAPI")
    if not path:
        return None
    lib = ctypes.CDLL(path)
    ptr = ctypes.c_void_p
    lib.baracuda_bench_decode_plan.restype = ptr
    lib.baracuda_bench_decode_plan.argtypes = [
        ctypes.c_longlong, ctypes.c_int, ctypes.c_int, ctypes.c_longlong, ctypes.c_int, ctypes.c_char_p,
        ctypes.POINTER(ctypes.c_size_t), ctypes.c_char_p, ctypes.c_int]
    lib.baracuda_bench_decode_run.restype = ctypes.c_int
    lib.baracuda_bench_decode_run.argtypes = ([ptr, ptr, ptr, ctypes.c_size_t] + [ptr] * 6 +
                                              [ctypes.c_char_p, ctypes.c_int])
    lib.baracuda_bench_decode_free.argtypes = [ptr]
    lib.baracuda_bench_read_floor_run.restype = ctypes.c_int
    lib.baracuda_bench_read_floor_run.argtypes = [ptr, ptr, ptr, ctypes.c_longlong, ctypes.c_int, ctypes.c_int,
                                                  ctypes.c_char_p, ctypes.c_int]
    return lib


def same_buffers(lib, config, batch, length, sets, kv_bytes, sms):
    """baracuda's adaptive SKU, cuDNN and the read floor on the same tensors, order rotating."""
    err = ctypes.create_string_buffer(512)
    ws_bytes = ctypes.c_size_t(0)
    plan = lib.baracuda_bench_decode_plan(batch, HEADS_Q, HEADS_KV, length, DIM, OURS.encode(),
                                          ctypes.byref(ws_bytes), err, len(err))
    if not plan:
        print(f"# {OURS} {config}: no plan ({err.value.decode()})")
        return
    workspace = torch.empty(max(1, ws_bytes.value), device="cuda", dtype=torch.uint8)
    seqlens = torch.full((batch,), length, device="cuda", dtype=torch.int32)
    out = torch.empty(batch, HEADS_Q, 1, DIM, device="cuda", dtype=torch.bfloat16)
    lse = torch.empty(batch, HEADS_Q, device="cuda", dtype=torch.float32)
    stream = torch.cuda.current_stream().cuda_stream

    def ours(s):
        rc = lib.baracuda_bench_decode_run(plan, stream, workspace.data_ptr(), ws_bytes.value, s[0].data_ptr(),
                                           s[1].data_ptr(), s[2].data_ptr(), seqlens.data_ptr(), out.data_ptr(),
                                           lse.data_ptr(), err, len(err))
        if rc != 0:
            raise RuntimeError(err.value.decode())

    def cudnn(s):
        return scaled_dot_product_attention(s[0], s[1], s[2], enable_gqa=True)

    def floor(ring):
        def run(s):
            if lib.baracuda_bench_read_floor_run(stream, s[1].data_ptr(), s[2].data_ptr(), kv_bytes // 2, sms, ring,
                                                 err, len(err)) != 0:
                raise RuntimeError(err.value.decode())
        return run

    floors = (f"cuda_read_floor_{sms}cta", f"cuda_read_floor_{sms}cta_64k")  # rings 0 and 1 (read_loop.cuh)
    order = (("torch_cudnn", cudnn), (OURS, ours), (floors[0], floor(0)), (floors[1], floor(1)))
    times = {impl: [] for impl, _ in order}
    try:
        with sdpa_kernel(SDPBackend.CUDNN_ATTENTION):
            for _, fn in order:
                fn(sets[0])
            torch.cuda.synchronize()
            for r in range(SAME_BUFFER_ROUNDS):
                k = r % len(order)
                for impl, fn in order[k:] + order[:k]:
                    times[impl].append(time_us(fn, sets))
    except RuntimeError as error:
        print(f"# same buffers {config}: not run ({str(error).splitlines()[0][:160]})")
        return
    finally:
        lib.baracuda_bench_decode_free(plan)
    ratios = [c / o for c, o in zip(times["torch_cudnn"], times[OURS])]
    for impl, rounds in times.items():
        t = median(rounds)
        row = {"bench": "attn_decode_same_buffers", "config": config, "impl": impl, "cache": "contiguous",
               "median_us": round(t, 2), "gbps": round(kv_bytes / (t * 1e3), 1),
               "rounds_us": [round(r, 2) for r in rounds]}
        if impl == OURS:
            row.update({"paired_ratio_median": round(median(ratios), 4),
                        "paired_ratio_range": [round(min(ratios), 4), round(max(ratios), 4)],
                        "rounds_faster": sum(x > 1.0 for x in ratios)})
        if impl not in floors:  # against the faster read loop of each round
            of_floor = [min(a, b) / x for a, b, x in zip(times[floors[0]], times[floors[1]], rounds)]
            row.update({"floor_ratio_median": round(median(of_floor), 4),
                        "floor_ratio_range": [round(min(of_floor), 4), round(max(of_floor), 4)]})
        print("BENCH " + json.dumps(row), flush=True)


def main():
    device = cuda_device()
    if device is None:
        return
    props, l2 = device
    print(f"device: {props.name}, torch {torch.__version__}")
    capi = load_capi()
    gen = torch.Generator(device="cuda").manual_seed(1234)
    for dim, batch, length in PROBLEMS:
        kv_bytes = 2 * batch * HEADS_KV * length * dim * 2
        sets_n = max(1, math.ceil(4 * l2 / kv_bytes))
        sets = []
        for _ in range(sets_n):
            q = torch.randn(batch, HEADS_Q, 1, dim, device="cuda", dtype=torch.bfloat16, generator=gen)
            k = torch.randn(batch, HEADS_KV, length, dim, device="cuda", dtype=torch.bfloat16, generator=gen)
            v = torch.randn(batch, HEADS_KV, length, dim, device="cuda", dtype=torch.bfloat16, generator=gen)
            sets.append((q, k, v))
        config = f"bf16 B={batch} L={length} Hq={HEADS_Q} Hkv={HEADS_KV} D={dim}"
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
        if capi is not None and dim == DIM:
            sms = props.multi_processor_count
            same_buffers(capi, config + " placement=peer", batch, length, sets, kv_bytes, sms)
            elems = batch * HEADS_KV * length * DIM
            for name, gap in V_GAPS.items():
                placed = []
                for q, _, _ in sets:
                    buf = torch.randn(2 * elems + gap // 2, device="cuda", dtype=torch.bfloat16, generator=gen)
                    placed.append((q, buf[:elems].view(batch, HEADS_KV, length, DIM),
                                   buf[elems + gap // 2:].view(batch, HEADS_KV, length, DIM)))
                same_buffers(capi, f"{config} placement={name}", batch, length, placed, kv_bytes, sms)
                del placed, buf
        del sets
        torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
