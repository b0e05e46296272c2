"""The Neuron SDK's published decoder benchmark tables (Inferentia2 and Trainium), as measurements to fit and test on.

Source: aws-neuron/aws-neuron-sdk, about-neuron/benchmarks/{inf2,trn1}/{latency,throughput}_data_decoder.csv
(commit 81ce03ae261e12925e53437a0f690478e6366155, 2026-08-21; the rows are from Neuron 2.18.0 and 2.18.1,
transformers-neuronx, inf2.48xlarge at TP degree 24 = 12 chips and trn1.32xlarge at TP 32 = 16 chips, FP16 model,
BF16 matmuls, weight storage bf16 or int8). Rows present in both files are listed once. These tables report TTFT
and TPOT (P50) and output-token throughput of a static batch of `batch` identical requests; their throughput
column does not always match TPOT (e.g. Mistral-7B 4096/4096 at batch 1: 81.7 tok/s against 1 / 7.87 ms), so TPOT
and TTFT are what the model is fitted to and scored on.

Split (fixed before fitting, see docs/perf.md): Inferentia2 rows of Llama-2-7b, Llama-2-13b, CodeLlama-13b and
Llama-2-70b fit the Neuron factors, except their interior shapes (sequence length 8192 for the 7-13B models, 2048 and
3072 for Llama-2-70b); every row of Llama-3-8B, Llama-3-70B and Mistral-7B, those interior shapes, and every
Trainium row are held out (Trainium has the same NeuronCore-v2 as Inferentia2: predicted on its own chip count).
"""

from __future__ import annotations

from dataclasses import dataclass

SOURCE = ("Neuron SDK 2.18 benchmark tables (aws-neuron/aws-neuron-sdk about-neuron/benchmarks/"
          "{inf2,trn1}/*_data_decoder.csv @ 81ce03ae)")
# Table model names -> catalog model_specs (or perf.published.EXTRA_SPECS) shapes.
MODELS = {"Llama-3-8B": "llama-3.1-8b", "Llama-3-70B": "llama-3.1-70b", "Llama-2-7b": "llama-7b",
          "Llama-2-13b": "llama-2-13b", "Llama-2-70b": "llama-2-70b", "Mistral-7B-Instruct-v0.2": "mistral-7b-v0.2",
          "CodeLlama-13b-hf": "llama-2-13b"}
INSTANCES = {"inf2": ("inf2.48xlarge", "inferentia2", 12), "trn1": ("trn1.32xlarge", "trainium1", 16)}
FIT_MODELS = {"Llama-2-7b", "Llama-2-13b", "CodeLlama-13b-hf", "Llama-2-70b"}
HELD_OUT_SEQ = {"Llama-2-7b": {8192}, "Llama-2-13b": {8192}, "CodeLlama-13b-hf": {8192}, "Llama-2-70b": {2048, 3072}}


@dataclass(frozen=True)
class NeuronRow:
    """One published row: a static batch of `batch` requests of `input` + `output` tokens."""

    table: str  # inf2 / trn1
    name: str  # model as the table names it
    batch: int
    seq_len: int  # compiled sequence length (n_positions)
    input_tokens: int
    output_tokens: int
    tokens_per_s: float  # output tokens/s as published
    ttft_ms: float  # P50
    tpot_ms: float  # P50
    release: str
    weights: str  # weight storage: bf16 or int8 (weight-only, BF16 matmuls)

    @property
    def instance(self) -> str:
        return INSTANCES[self.table][0]

    @property
    def accelerator(self) -> str:
        return INSTANCES[self.table][1]

    @property
    def chips(self) -> int:
        return INSTANCES[self.table][2]

    @property
    def model(self) -> str:
        return MODELS[self.name]

    @property
    def key(self) -> str:
        return f"{self.table}-{self.name}-b{self.batch}-{self.input_tokens}-{self.output_tokens}"

    @property
    def held_out(self) -> bool:
        if self.table != "inf2" or self.name not in FIT_MODELS:
            return True
        return self.seq_len in HELD_OUT_SEQ.get(self.name, set())


ROWS: tuple[NeuronRow, ...] = tuple(NeuronRow(*r) for r in (
    # table, model, batch, seq len, input, output, output tok/s, TTFT P50 ms, TPOT P50 ms, release, weights
    ("inf2", "Llama-3-8B", 1, 8192, 128, 8064, 144.98, 29.47, 7.41, "2.18.1", "int8"),
    ("inf2", "Llama-3-8B", 1, 8192, 4096, 4096, 133.63, 209.37, 7.47, "2.18.1", "int8"),
    ("inf2", "Llama-3-8B", 1, 4096, 128, 3968, 161.67, 25.0, 6.42, "2.18.1", "int8"),
    ("inf2", "Llama-3-8B", 1, 4096, 2048, 2048, 153.58, 101.81, 6.5, "2.18.1", "int8"),
    ("inf2", "Llama-3-70B", 1, 4096, 2048, 2048, 28.84, 745.49, 34.67, "2.18.1", "bf16"),
    ("inf2", "Llama-3-70B", 1, 3072, 1024, 2048, 29.81, 312.86, 33.81, "2.18.1", "bf16"),
    ("inf2", "Llama-3-70B", 1, 2048, 1024, 1024, 30.16, 310.18, 33.14, "2.18.1", "bf16"),
    ("inf2", "Llama-3-70B", 1, 1152, 128, 1024, 30.82, 80.0, 32.47, "2.18.1", "bf16"),
    ("inf2", "Llama-3-70B", 1, 512, 256, 256, 30.9, 99.37, 32.48, "2.18.1", "bf16"),
    ("inf2", "Llama-3-70B", 1, 256, 128, 128, 31.28, 77.81, 32.2, "2.18.1", "bf16"),
    ("inf2", "Llama-2-7b", 1, 4096, 128, 3968, 156.13, 27.64, 6.47, "2.18.0", "bf16"),
    ("inf2", "Llama-2-7b", 1, 8192, 128, 8064, 145.17, 29.21, 7.34, "2.18.0", "bf16"),
    ("inf2", "Llama-2-13b", 1, 4096, 128, 3968, 112.52, 25.85, 9.166, "2.18.0", "bf16"),
    ("inf2", "Llama-2-13b", 1, 8192, 4096, 4096, 97.42, 333.78, 10.174, "2.18.0", "bf16"),
    ("inf2", "Llama-2-13b", 1, 16384, 8192, 8192, 73.17, 994.18, 13.498, "2.18.0", "bf16"),
    ("inf2", "Llama-2-70b", 1, 256, 128, 128, 30.06, 76.6, 32.896, "2.18.0", "bf16"),
    ("inf2", "Llama-2-70b", 1, 512, 256, 256, 29.92, 96.44, 33.134, "2.18.0", "bf16"),
    ("inf2", "Llama-2-70b", 1, 1152, 128, 1024, 30.07, 76.33, 33.151, "2.18.0", "bf16"),
    ("inf2", "Llama-2-70b", 1, 2048, 1024, 1024, 29.43, 277.02, 33.732, "2.18.0", "bf16"),
    ("inf2", "Llama-2-70b", 1, 3072, 1024, 2048, 28.91, 275.97, 34.819, "2.18.0", "bf16"),
    ("inf2", "Llama-2-70b", 1, 4096, 2048, 2048, 28.33, 810.44, 34.903, "2.18.0", "bf16"),
    ("inf2", "Mistral-7B-Instruct-v0.2", 1, 4096, 128, 3968, 149.74, 27.34, 6.862, "2.18.0", "bf16"),
    ("inf2", "Mistral-7B-Instruct-v0.2", 1, 8192, 4096, 4096, 81.7, 557.96, 7.866, "2.18.0", "bf16"),
    ("inf2", "Mistral-7B-Instruct-v0.2", 1, 16384, 8192, 8192, 95.99, 539.59, 10.33, "2.18.0", "bf16"),
    ("inf2", "CodeLlama-13b-hf", 1, 4096, 128, 3968, 112.71, 27.02, 9.124, "2.18.0", "bf16"),
    ("inf2", "CodeLlama-13b-hf", 1, 8192, 4096, 4096, 97.52, 338.67, 10.151, "2.18.0", "bf16"),
    ("inf2", "CodeLlama-13b-hf", 1, 16384, 8192, 8192, 73.68, 989.5, 13.436, "2.18.0", "bf16"),
    ("inf2", "Llama-3-8B", 8, 8192, 128, 8064, 649.17, 68.95, 15.22, "2.18.1", "int8"),
    ("inf2", "Llama-3-8B", 8, 8192, 4096, 4096, 521.96, 1992.59, 15.31, "2.18.1", "int8"),
    ("inf2", "Llama-3-8B", 8, 4096, 128, 3968, 859.09, 66.02, 10.45, "2.18.1", "int8"),
    ("inf2", "Llama-3-8B", 8, 4096, 2048, 2048, 759.15, 823.53, 10.5, "2.18.1", "int8"),
    ("inf2", "Llama-2-7b", 8, 4096, 128, 3968, 725.83, 77.36, 12.105, "2.18.0", "bf16"),
    ("inf2", "Llama-2-7b", 8, 8192, 128, 8064, 577.97, 80.12, 16.393, "2.18.0", "bf16"),
    ("inf2", "Llama-2-13b", 8, 4096, 128, 3968, 589.89, 108.81, 14.897, "2.18.0", "bf16"),
    ("inf2", "Llama-2-13b", 8, 8192, 4096, 4096, 351.76, 7083.73, 20.986, "2.18.0", "bf16"),
    ("inf2", "Llama-2-13b", 4, 16384, 8192, 8192, 178.57, 5141.32, 21.709, "2.18.0", "bf16"),
    ("inf2", "Mistral-7B-Instruct-v0.2", 8, 4096, 128, 3968, 761.89, 77.62, 11.639, "2.18.0", "bf16"),
    ("inf2", "Mistral-7B-Instruct-v0.2", 8, 8192, 4096, 4096, 450.38, 4740.12, 16.546, "2.18.0", "bf16"),
    ("inf2", "Mistral-7B-Instruct-v0.2", 8, 16384, 8192, 8192, 411.05, 11085.12, 18.012, "2.18.0", "bf16"),
    ("inf2", "CodeLlama-13b-hf", 8, 4096, 128, 3968, 546.51, 115.81, 15.872, "2.18.0", "bf16"),
    ("inf2", "CodeLlama-13b-hf", 8, 8192, 4096, 4096, 333.24, 7115.98, 22.268, "2.18.0", "bf16"),
    ("inf2", "CodeLlama-13b-hf", 4, 16384, 8192, 8192, 178.79, 5136.62, 21.673, "2.18.0", "bf16"),
    ("trn1", "Llama-3-8B", 1, 8192, 128, 8064, 157.25, 17.09, 7.03, "2.18.1", "int8"),
    ("trn1", "Llama-3-8B", 1, 8192, 4096, 4096, 140.5, 153.02, 7.04, "2.18.1", "int8"),
    ("trn1", "Llama-3-8B", 1, 4096, 128, 3968, 178.19, 14.75, 5.86, "2.18.1", "int8"),
    ("trn1", "Llama-3-70B", 1, 4096, 2048, 2048, 37.7, 547.0, 26.2, "2.18.1", "bf16"),
    ("trn1", "Llama-3-70B", 1, 1152, 128, 1024, 40.64, 53.2, 24.48, "2.18.1", "bf16"),
    ("trn1", "Llama-3-70B", 1, 256, 128, 128, 40.81, 52.53, 26.48, "2.18.1", "bf16"),
    ("trn1", "Llama-2-7b", 1, 8192, 128, 8064, 161.71, 13.32, 6.7, "2.18.0", "bf16"),
    ("trn1", "Llama-2-13b", 1, 8192, 4096, 4096, 60.43, 864.14, 9.844, "2.18.0", "bf16"),
    ("trn1", "Llama-2-13b", 1, 16384, 8192, 8192, 31.4, 2367.93, 13.408, "2.18.0", "bf16"),
    ("trn1", "Llama-2-70b", 1, 256, 128, 128, 39.29, 53.91, 25.181, "2.18.0", "bf16"),
    ("trn1", "Llama-2-70b", 1, 512, 256, 256, 39.18, 81.88, 25.267, "2.18.0", "bf16"),
    ("trn1", "Llama-2-70b", 1, 1152, 128, 1024, 39.16, 57.75, 25.449, "2.18.0", "bf16"),
    ("trn1", "Llama-2-70b", 1, 2048, 1024, 1024, 38.1, 232.48, 26.038, "2.18.0", "bf16"),
    ("trn1", "Llama-2-70b", 1, 3072, 1024, 2048, 37.71, 236.78, 26.625, "2.18.0", "bf16"),
    ("trn1", "Llama-2-70b", 1, 4096, 2048, 2048, 36.78, 690.96, 26.85, "2.18.0", "bf16"),
    ("trn1", "Mistral-7B-Instruct-v0.2", 1, 16384, 8192, 8192, 49.56, 1322.87, 9.892, "2.18.0", "bf16"),
    ("trn1", "CodeLlama-13b-hf", 1, 8192, 4096, 4096, 60.22, 868.64, 9.865, "2.18.0", "bf16"),
    ("trn1", "CodeLlama-13b-hf", 1, 16384, 8192, 8192, 31.38, 2372.93, 13.4, "2.18.0", "bf16"),
    ("trn1", "Llama-3-8B", 8, 8192, 128, 8064, 933.5, 55.16, 9.95, "2.18.1", "int8"),
    ("trn1", "Llama-3-8B", 8, 8192, 4096, 4096, 770.16, 1265.95, 10.04, "2.18.1", "int8"),
    ("trn1", "Llama-3-8B", 8, 4096, 128, 3968, 1142.7, 49.05, 7.65, "2.18.1", "int8"),
    ("trn1", "Llama-3-70B", 4, 4096, 2048, 2048, 120.36, 1661.12, 32.33, "2.18.1", "bf16"),
    ("trn1", "Llama-3-70B", 4, 1152, 128, 1024, 140.51, 129.86, 28.38, "2.18.1", "bf16"),
    ("trn1", "Llama-3-70B", 4, 256, 128, 128, 138.01, 130.37, 28.08, "2.18.1", "bf16"),
    ("trn1", "Llama-2-7b", 8, 8192, 128, 8064, 917.25, 66.4, 10.095, "2.18.0", "bf16"),
    ("trn1", "Llama-2-13b", 8, 8192, 4096, 4096, 371.7, 6668.7, 19.857, "2.18.0", "bf16"),
    ("trn1", "Llama-2-13b", 4, 16384, 8192, 8192, 184.28, 4628.45, 21.092, "2.18.0", "bf16"),
    ("trn1", "Llama-2-70b", 4, 256, 128, 128, 141.45, 156.85, 26.724, "2.18.0", "bf16"),
    ("trn1", "Llama-2-70b", 4, 512, 256, 256, 143.43, 270.16, 26.908, "2.18.0", "bf16"),
    ("trn1", "Llama-2-70b", 4, 1152, 128, 1024, 145.13, 156.69, 27.215, "2.18.0", "bf16"),
    ("trn1", "Llama-2-70b", 4, 2048, 1024, 1024, 133.25, 1478.64, 28.55, "2.18.0", "bf16"),
    ("trn1", "Llama-2-70b", 4, 3072, 1024, 2048, 129.28, 1478.85, 31.674, "2.18.0", "bf16"),
    ("trn1", "Llama-2-70b", 4, 4096, 2048, 2048, 120.63, 2722.03, 31.79, "2.18.0", "bf16"),
    ("trn1", "Mistral-7B-Instruct-v0.2", 8, 16384, 8192, 8192, 484.58, 8614.85, 15.437, "2.18.0", "bf16"),
    ("trn1", "CodeLlama-13b-hf", 8, 8192, 4096, 4096, 370.98, 6625.16, 19.917, "2.18.0", "bf16"),
    ("trn1", "CodeLlama-13b-hf", 4, 16384, 8192, 8192, 184.18, 4626.17, 21.095, "2.18.0", "bf16"),
))
