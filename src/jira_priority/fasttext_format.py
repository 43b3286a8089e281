"""Reading a fastText/BlazingText model file's layout before fastText loads it.

fastText's loader trusts the file: a model truncated to 20 bytes loads with
garbage arguments and kills the process on the first prediction (an integer
division by a zero bucket count, SIGFPE); one truncated to 1 MB makes it
allocate gigabytes for the dimensions its header claims. So the whole layout
is walked here first, without reading the weights: magic and version, the
arguments, every dictionary entry, the (dense or product-quantised) matrices,
and the file must end exactly where the layout says. The dimensions must
agree with each other and with the file size, the values fastText divides by
must be non-zero, and the labels must be ones this service can answer.

The layout is fastText's (``FastText::saveModel``: ``Args::save``,
``Dictionary::save``, ``DenseMatrix::save`` / ``QuantMatrix::save`` with
``ProductQuantizer::save``), the same for ``.bin`` and quantised ``.ftz``.
"""

from __future__ import annotations

import mmap
import struct
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FASTTEXT_MAGIC = 793_712_314
#: File format versions fastText writes and reads (12 since 2017; 11 before).
SUPPORTED_VERSIONS = (11, 12)
SUPERVISED_MODEL = 3  # model_name::sup
LOSSES = {1, 2, 3, 4}  # hs, ns, softmax, ova
ENTRY_WORD, ENTRY_LABEL = 0, 1
#: Centroids per sub-quantiser (ProductQuantizer::ksub_, 2 ** 8 bits).
PQ_CENTROIDS = 256
#: The longest dictionary entry accepted; real tokens are far shorter.
MAX_ENTRY_BYTES = 65_536
#: Sanity bounds on the arguments (BlazingText allows vector_dim up to 1,000).
MAX_DIM = 10_000
MAX_BUCKET = 100_000_000
#: fastText adds n to a word index in int32 arithmetic: a huge n would overflow.
MAX_NGRAM = 1_000
#: Character n-gram lengths (minn/maxn; fastText's default is 3..6, ours 0). At load
#: fastText hashes every character n-gram of every entry, each rebuilt from its
#: start: a 66 kB file with one 65,536-byte word and maxn 1,000 took 48 s and 256 MB.
MAX_CHAR_NGRAM = 32
#: Character n-gram ids fastText may compute at load beyond one per 4 bytes of file.
CHAR_NGRAM_ALLOWANCE = 16 << 20

_ARGS = struct.Struct(
    "<12id"
)  # dim ws epoch minCount neg wordNgrams loss model bucket minn maxn lrUpdateRate t
_DICT = struct.Struct("<iiiqq")  # size nwords nlabels ntokens pruneidx_size
_ENTRY = struct.Struct("<qb")  # count type
_DENSE = struct.Struct("<qq")  # m n
_QUANT = struct.Struct("<?qqi")  # qnorm m n codesize
_PQ = struct.Struct("<iiii")  # dim nsubq dsub lastdsub
_FLOAT = 4


class ModelFormatError(ValueError):
    """The file is not a fastText supervised model this service can safely load."""


@dataclass(frozen=True)
class ModelLayout:
    """What the header says, once every part of the file is accounted for."""

    version: int
    dim: int
    words: int
    labels: tuple[str, ...]
    bucket: int
    quantised: bool


class _Reader:
    def __init__(self, data: mmap.mmap | bytes, name: str) -> None:
        self.data, self.name, self.pos = data, name, 0

    def fail(self, problem: str) -> ModelFormatError:
        return ModelFormatError(f"{self.name} is not a usable fastText model: {problem}")

    def unpack(self, layout: struct.Struct, part: str) -> tuple[Any, ...]:
        end = self.pos + layout.size
        if end > len(self.data):
            raise self.fail(
                f"the file ends inside its {part} (truncated at {len(self.data)} bytes)"
            )
        values = layout.unpack_from(self.data, self.pos)
        self.pos = end
        return values

    def skip(self, size: int, part: str) -> None:
        if size < 0 or self.pos + size > len(self.data):
            raise self.fail(f"the file is too short for its {part} (truncated or corrupt header)")
        self.pos += size

    def entry(self) -> bytes:
        end = self.data.find(b"\0", self.pos, self.pos + MAX_ENTRY_BYTES + 1)
        if end < 0:
            raise self.fail("a dictionary entry is unterminated (truncated or corrupt)")
        word = bytes(self.data[self.pos : end])
        self.pos = end + 1
        return word


def _matrix(reader: _Reader, quantised: bool, rows: int, cols: int, part: str) -> None:
    """Walk one matrix, checking its shape is ``rows`` x ``cols``."""
    if not quantised:
        m, n = reader.unpack(_DENSE, part)
        if (m, n) != (rows, cols):
            raise reader.fail(f"the {part} is {m}x{n}, the header says {rows}x{cols}")
        reader.skip(rows * cols * _FLOAT, part)
        return
    qnorm, m, n, codesize = reader.unpack(_QUANT, part)
    if (m, n) != (rows, cols):
        raise reader.fail(f"the quantised {part} is {m}x{n}, the header says {rows}x{cols}")
    nsubq = _product_quantiser(reader, cols, part, codes_from=reader.pos, codesize=int(codesize))
    if codesize != rows * nsubq:
        raise reader.fail(f"the {part} has {codesize} codes, not {rows} x {nsubq}")
    if qnorm:
        reader.skip(rows, f"{part} norms")
        _product_quantiser(reader, 1, f"{part} norms")


def _product_quantiser(
    reader: _Reader, dim: int, part: str, codes_from: int | None = None, codesize: int = 0
) -> int:
    """Walk a ProductQuantizer (after the codes, if any); return its sub-quantiser count."""
    if codes_from is not None:
        reader.skip(codesize, f"{part} codes")
    pq_dim, nsubq, dsub, lastdsub = reader.unpack(_PQ, f"{part} quantiser")
    if pq_dim != dim or dsub <= 0 or nsubq <= 0 or not 0 < lastdsub <= dsub:
        raise reader.fail(f"the {part} quantiser's shape is inconsistent")
    if (nsubq - 1) * dsub + lastdsub != dim:
        raise reader.fail(f"the {part} quantiser does not cover the {dim} dimensions")
    reader.skip(dim * PQ_CENTROIDS * _FLOAT, f"{part} centroids")
    return int(nsubq)


def _char_ngram_bound(word_bytes: int, minn: int, maxn: int) -> int:
    """At most how many character n-grams fastText hashes for a word of ``word_bytes`` bytes."""
    length = word_bytes + 2  # with its "<" and ">"
    longest = min(maxn, length)
    shortest = max(minn, 1)
    return length * (longest - shortest + 1) if maxn > 0 and longest >= shortest else 0


def _pruned_index(reader: _Reader, size: int, bucket: int) -> None:
    """Walk a pruned dictionary's (n-gram hash -> input row) pairs; every row must exist."""
    start = reader.pos
    reader.skip(max(size, 0) * 8, "pruned word index")
    for ngram, row in struct.iter_unpack("<ii", reader.data[start : reader.pos]):
        if not (0 <= ngram < bucket and 0 <= row < size):
            raise reader.fail("its pruned word index points outside the matrix (corrupt)")


def read_layout(data: mmap.mmap | bytes, name: str, allowed_labels: Collection[str]) -> ModelLayout:
    """The layout of a model held in ``data``; ModelFormatError if anything is off."""
    reader = _Reader(data, name)
    magic, version = reader.unpack(struct.Struct("<ii"), "header")
    if magic != FASTTEXT_MAGIC:
        raise reader.fail("wrong magic number (not a fastText .bin/.ftz file)")
    if version not in SUPPORTED_VERSIONS:
        raise reader.fail(f"file format version {version} is not one of {SUPPORTED_VERSIONS}")
    (dim, _ws, _epoch, _min_count, _neg, word_ngrams, loss, model, bucket, minn, maxn) = (
        int(v) for v in reader.unpack(_ARGS, "arguments")[:11]
    )
    if model != SUPERVISED_MODEL:
        raise reader.fail("it is not a supervised (classification) model")
    if loss not in LOSSES or not 0 < dim <= MAX_DIM or not 0 <= bucket <= MAX_BUCKET:
        raise reader.fail("its arguments are out of range (corrupt header)")
    if not (
        1 <= word_ngrams <= MAX_NGRAM
        and 0 <= minn <= MAX_CHAR_NGRAM
        and 0 <= maxn <= MAX_CHAR_NGRAM
    ):
        raise reader.fail("its n-gram arguments are out of range (corrupt header)")
    if maxn > 0 and minn > maxn:
        raise reader.fail("its n-gram arguments are out of range (corrupt header)")
    if bucket == 0 and (word_ngrams > 1 or maxn > 0):
        # fastText hashes n-grams modulo the bucket count: zero would be SIGFPE
        raise reader.fail("it uses n-grams but has no hash buckets (corrupt header)")
    size, nwords, nlabels, ntokens, prune_size = reader.unpack(_DICT, "dictionary header")
    if nwords < 0 or nlabels < 1 or size != nwords + nlabels or ntokens < 0 or prune_size < -1:
        raise reader.fail("its dictionary header is inconsistent (corrupt header)")
    if size > len(data) // 10:  # every entry takes at least 10 bytes
        raise reader.fail(f"its dictionary claims {size} entries, more than the file can hold")
    labels: list[str] = []
    char_ngrams = 0
    for index in range(size):
        word = reader.entry()
        char_ngrams += _char_ngram_bound(len(word), minn, maxn)
        count, kind = reader.unpack(_ENTRY, "dictionary")
        expected = ENTRY_WORD if index < nwords else ENTRY_LABEL
        if kind != expected or count < 0:
            raise reader.fail("its dictionary entries are inconsistent (corrupt)")
        if kind == ENTRY_LABEL:
            labels.append(word.decode("utf-8", errors="replace"))
    if char_ngrams > len(data) // _FLOAT + CHAR_NGRAM_ALLOWANCE:
        raise reader.fail(f"its words would make {char_ngrams} character n-grams (corrupt)")
    unknown = sorted(set(labels) - set(allowed_labels))
    if unknown:
        shown = ", ".join(unknown[:6]) + (" ..." if len(unknown) > 6 else "")
        raise reader.fail(f"labels outside {min(allowed_labels)}..{max(allowed_labels)}: {shown}")
    _pruned_index(reader, int(prune_size), bucket)
    (quant_input,) = reader.unpack(struct.Struct("<B"), "matrix flag")
    if quant_input > 1:
        raise reader.fail("its matrix flag is corrupt")
    # A pruned (quantised) dictionary keeps only the listed n-gram rows.
    ngram_rows = int(prune_size) if prune_size >= 0 else bucket
    _matrix(reader, bool(quant_input), int(nwords) + ngram_rows, dim, "input matrix")
    (quant_output,) = reader.unpack(struct.Struct("<B"), "output flag")
    if quant_output > 1:
        raise reader.fail("its output flag is corrupt")
    _matrix(reader, bool(quant_input and quant_output), nlabels, dim, "output matrix")
    if reader.pos != len(data):
        raise reader.fail(f"{len(data) - reader.pos} bytes follow the model (corrupt)")
    return ModelLayout(int(version), dim, int(nwords), tuple(labels), bucket, bool(quant_input))


def check_model_file(path: Path, allowed_labels: Collection[str]) -> ModelLayout:
    """The layout of the model file at ``path``; ModelFormatError if it is not safe to load.

    The file is mapped, not read: only the header and the dictionary are touched.
    """
    with path.open("rb") as handle:
        if path.stat().st_size == 0:
            raise ModelFormatError(f"{path.name} is empty")
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
            return read_layout(data, path.name, allowed_labels)
