"""The offline judge's cross-encoder: does this sentence support or refute the claim?

all-MiniLM-L6-v2 reads "[CLS] claim [SEP] sentence [SEP]" and a linear head on its mean-pooled
output gives P(supports), P(refutes), P(neither). It was fine-tuned by training/train_judge.py
on claim-evidence and NLI pairs (factcheck/weights/MODEL_CARD.md); judge.npz holds only what
training changed (the upper layers, the token-type table and the head, in float16), and the
rest is read from the packaged model, so it runs with onnxruntime and no torch, like the embedder.
"""

from __future__ import annotations

import functools
import threading

import numpy as np

from factcheck import weights

WEIGHTS_FILE = "judge.npz"
MAX_TOKENS = 128  # as trained; pairs are cut longest side first
BATCH_TOKENS = 2048  # padded tokens per onnxruntime call


def pair_tokenizer(max_tokens: int = MAX_TOKENS):  # -> tokenizers.Tokenizer
    """The packaged MiniLM tokenizer, set to cut (claim, sentence) pairs to max_tokens."""
    from tokenizers import Tokenizer

    from factcheck.retrieval.embedder import package_model_dir

    tokenizer = Tokenizer.from_file(str(package_model_dir() / "tokenizer.json"))
    tokenizer.enable_truncation(max_tokens, strategy="longest_first")
    tokenizer.no_padding()
    return tokenizer


def base_weights() -> dict[str, np.ndarray]:
    """The packaged all-MiniLM-L6-v2 weights (safetensors keys)."""
    from safetensors.numpy import load_file

    from factcheck.retrieval.embedder import package_model_dir

    return load_file(str(package_model_dir() / "model.safetensors"))


class CrossEncoderJudge:
    """The fine-tuned pair classifier, run by onnxruntime (another weight file: another MiniLM
    classifier trained the same way, such as the check-worthiness sentence model)."""

    def __init__(self, threads: int | None = None, weights_file: str = WEIGHTS_FILE,
                 max_tokens: int = MAX_TOKENS) -> None:
        from factcheck.retrieval.embedder import build_onnx_model, cpu_count, onnx_session

        trained = weights.load_arrays(weights_file)
        merged = base_weights()
        merged.update({k: v.astype(np.float32) for k, v in trained.items()
                       if not k.startswith("head.")})
        head = (trained["head.weight"].astype(np.float32),
                trained["head.bias"].astype(np.float32))
        model, self._weights = build_onnx_model(merged, head)
        # self._weights stays referenced: the session reads the weights from these arrays.
        self._session = onnx_session(model, self._weights, threads or cpu_count())
        self._tokenizer = pair_tokenizer(max_tokens)
        self._classes = len(head[1])

    def probabilities(self, pairs: list[tuple[str, str]] | list[str]) -> np.ndarray:
        """(n, 3) P(supports), P(refutes), P(neither) of (claim, sentence) pairs, in order (a
        sentence classifier: (n, its classes) of single sentences)."""
        from factcheck.retrieval.embedder import length_batches

        out = np.zeros((len(pairs), self._classes), dtype=np.float32)
        if not pairs:
            return out
        encodings = self._tokenizer.encode_batch(pairs)
        for index in length_batches([len(e.ids) for e in encodings], BATCH_TOKENS):
            out[index] = self._run([encodings[i] for i in index])
        return out

    def _run(self, encodings: list) -> np.ndarray:
        length = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), length), dtype=np.int64)
        types, mask = np.zeros_like(ids), np.zeros_like(ids)
        for row, e in enumerate(encodings):
            ids[row, : len(e.ids)] = e.ids
            types[row, : len(e.ids)] = e.type_ids
            mask[row, : len(e.ids)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        (probabilities,) = self._session.run(None, feeds)
        return probabilities


_load_lock = threading.Lock()


@functools.cache
def _shared() -> CrossEncoderJudge:
    return CrossEncoderJudge()


def cross_encoder() -> CrossEncoderJudge:
    """The process-wide judge, loaded once on first use."""
    with _load_lock:
        return _shared()
