"""Predict the validation rows with the offline peers `llm-analysis` and `genz-llm`.

Runs in the peers' own virtual environment (bench/requirements-peers.txt), never in inferplan's: reads a JSON
list of cases on stdin, prints one JSON object {case key: {"llm-analysis": value|null, "genz": value|null,
"errors": {...}}} on the last line. Every case gives each peer the same shape and hardware figures that inferplan
uses (from inferplan's catalog), and both peers run at their default efficiencies (1.0: they are uncalibrated
rooflines). Values are seconds for calibration rows (`kind` decode/prefill) and output tokens/s for published
rows.
"""

from __future__ import annotations

import io
import json
import logging
import os
import sys
import tempfile
import warnings
from contextlib import redirect_stdout

warnings.filterwarnings("ignore")
logging.disable(logging.CRITICAL)


def _la_model(case: dict, tmp: str) -> str:
    m = case["arch"]
    ffn = 1.5 * m["intermediate"]  # llm-analysis has a 2-matrix MLP: 2*h*ffn = 3*h*intermediate (SwiGLU)
    cfg = {"name": m["name"], "num_layers": m["layers"], "n_head": m["heads"], "hidden_dim": m["hidden"],
           "vocab_size": m["vocab"], "max_seq_len": 1 << 20, "num_key_value_heads": m["kv_heads"],
           "ffn_embed_dim": int(ffn), "expansion_ratio": ffn / m["hidden"], "model_type": "llama"}
    path = os.path.join(tmp, f"{m['name']}.json")
    with open(path, "w") as fh:
        json.dump(cfg, fh)
    return path


def _la_gpu(case: dict) -> str:
    from llm_analysis.config import GPUConfig, gpu_configs

    d = case["device"]
    name = f"inferplan-{d['key']}"
    gpu_configs[name] = GPUConfig(name=name, mem_per_GPU_in_GB=d["memory_gb"],
                                  hbm_bandwidth_in_GB_per_sec=d["bandwidth_gbps"],
                                  intra_node_bandwidth_in_GB_per_sec=d["link_gbps"] or 64.0,
                                  intra_node_min_message_latency=8e-6, peak_fp16_TFLOPS=d["bf16_tflops"],
                                  peak_i8_TFLOPS=d["fp8_tflops"] or d["bf16_tflops"] * 2,
                                  peak_i4_TFLOPS=(d["fp8_tflops"] or d["bf16_tflops"] * 2) * 2,
                                  inter_node_bandwidth_in_GB_per_sec=d["link_gbps"] or 64.0)
    return name


def llm_analysis(case: dict, tmp: str) -> float:
    from llm_analysis.analysis import infer

    dtype = "w8a8e16" if case["precision"] == "fp8" else "w16a16e16"
    kvb = 1 if case.get("kv_precision") == "fp8" else 2

    def run(batch: int, seq: int, gen: int) -> dict:
        with redirect_stdout(io.StringIO()):
            return infer(model_name=_la_model(case, tmp), gpu_name=_la_gpu(case), dtype_name=dtype,
                         batch_size_per_gpu=batch, tp_size=case["tp"], seq_len=seq, num_tokens_to_generate=gen,
                         kv_cache_dtype_bytes=kvb, log_level="CRITICAL")

    b, n_in, n_out = case["batch"], case["input"], case["output"]
    if case["kind"] == "decode":
        return run(b, n_in, 1)["decode_latency"]
    if case["kind"] == "prefill":
        return run(b, n_in, 1)["prefill_latency"]
    if case["kind"] == "per_token":
        s = run(b, n_in, n_out)
        return b / (s["total_decode_latency"] / n_out)
    s = run(b, n_in, n_out)  # static and fixed-concurrency rows: a static batch (no continuous batching model)
    return b * n_out / s["total_latency"]


def genz(case: dict) -> float:
    from GenZ import ModelConfig, decode_moddeling, prefill_moddeling

    m = case["arch"]
    cfg = ModelConfig(model=m["name"], hidden_size=m["hidden"], num_attention_heads=m["heads"],
                      num_key_value_heads=m["kv_heads"], head_dim=m["head_dim"], num_ffi=2,
                      intermediate_size=m["intermediate"], num_decoder_layers=m["layers"], vocab_size=m["vocab"],
                      max_model_len=1 << 20, hidden_act="silu")
    d = case["device"]
    flops = d["fp8_tflops"] if case["precision"] == "fp8" and d["fp8_tflops"] else d["bf16_tflops"]
    system = {"Flops": flops, "Memory_size": d["memory_gb"], "Memory_BW": d["bandwidth_gbps"],
              "ICN": d["link_gbps"] or 64.0, "real_values": True}
    bits = "fp8" if case["precision"] == "fp8" else "bf16"
    b, n_in, n_out = case["batch"], case["input"], case["output"]

    def pre(batch: int, n: int) -> float:
        with redirect_stdout(io.StringIO()):
            return prefill_moddeling(model=cfg, batch_size=batch, input_tokens=n, system_name=system, bits=bits,
                                     tensor_parallel=case["tp"], model_profilling=False)["Latency"] / 1e3

    def dec(batch: int, ctx: int) -> float:
        with redirect_stdout(io.StringIO()):
            return decode_moddeling(model=cfg, batch_size=batch, input_tokens=ctx, output_tokens=0, Bb=1,
                                    system_name=system, bits=bits, tensor_parallel=case["tp"])["Latency"] / 1e3

    if case["kind"] == "decode":
        return dec(b, n_in)
    if case["kind"] == "prefill":
        return pre(b, n_in)
    step = dec(b, n_in + n_out // 2)  # mean context over the generation
    if case["kind"] == "per_token":
        return b / step
    return b * n_out / (pre(b, n_in) + n_out * step)


def main() -> None:
    cases = json.load(sys.stdin)
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for case in cases:
            row: dict = {"errors": {}}
            for name, fn in (("llm-analysis", lambda c: llm_analysis(c, tmp)), ("genz", genz)):
                try:
                    row[name] = float(fn(case))
                except Exception as exc:  # noqa: BLE001 - a peer failing on one row is reported, not fatal
                    row[name] = None
                    row["errors"][name] = f"{type(exc).__name__}: {exc}"[:200]
            out[case["key"]] = row
    print(json.dumps(out))


if __name__ == "__main__":
    main()
