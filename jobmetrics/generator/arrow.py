"""Building Arrow columns of the contract types from NumPy arrays."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from jobmetrics.core.contract_arrow import MONEY, TIMESTAMP


def timestamps(seconds: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    """TIMESTAMP (microseconds, no time zone) from epoch seconds; `null` marks missing values."""
    return pa.array(seconds * 1_000_000, type=TIMESTAMP, mask=null)


def categorical(
    codes: np.ndarray, labels: Sequence[str], null: np.ndarray | None = None
) -> pa.Array:
    """VARCHAR values labels[code], dictionary-encoded (Parquet stores them as plain strings)."""
    return pa.DictionaryArray.from_arrays(
        pa.array(codes.astype(np.int32), mask=null), pa.array(list(labels), type=pa.string())
    )


def money(cents: np.ndarray) -> pa.Array:
    """DECIMAL(10,2) from integer cents, exactly (no float rounding)."""
    cents = cents.astype(np.int64)
    words = np.empty((cents.shape[0], 2), dtype=np.int64)
    words[:, 0] = cents
    words[:, 1] = np.where(cents < 0, -1, 0)  # two's complement high word
    return pa.Array.from_buffers(MONEY, cents.shape[0], [None, pa.py_buffer(words.tobytes())])
