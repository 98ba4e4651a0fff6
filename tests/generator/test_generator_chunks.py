"""Chunked generation: the generator draws and writes in bounded pieces (generator.chunks), and
the size of those pieces never shows in the files."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from jobmetrics.generator import chunks, generate, output

ARGUMENTS = {"users": 300, "days": 60, "start_date": "2025-01-01", "seed": 11}


def _digests(folder: Path) -> dict[str, str]:
    return {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in sorted(folder.iterdir())}


@pytest.mark.parametrize("row_group_size", [output.ROW_GROUP_SIZE, 500])
def test_tiny_chunks_give_the_bytes_of_one_chunk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, row_group_size: int
) -> None:
    monkeypatch.setattr(output, "ROW_GROUP_SIZE", row_group_size)
    generate(tmp_path / "one", **ARGUMENTS)  # every table fits in one chunk
    monkeypatch.setattr(chunks, "CHUNK_ROWS", 7)
    generate(tmp_path / "many", **ARGUMENTS)  # hundreds of pieces, a run per day
    assert _digests(tmp_path / "one") == _digests(tmp_path / "many")
    # Pieces are gathered into full row groups, as one write of the whole table cuts them.
    sessions = pq.ParquetFile(tmp_path / "many" / "raw_sessions.parquet").metadata
    groups = [sessions.row_group(i).num_rows for i in range(sessions.num_row_groups)]
    assert groups == [row_group_size] * (len(groups) - 1) + [groups[-1]]
    assert len(groups) == -(-sessions.num_rows // row_group_size)


def test_a_table_written_in_pieces_has_the_bytes_of_one_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(output, "ROW_GROUP_SIZE", 500)
    monkeypatch.setattr(chunks, "CHUNK_ROWS", 7)
    generate(tmp_path / "raw", **ARGUMENTS)
    for name in ("raw_users", "raw_scans", "raw_sessions"):
        table = pq.read_table(tmp_path / "raw" / f"{name}.parquet")
        # What the generator did before it wrote in pieces: one pq.write_table of the table.
        text = [f.name for f in table.schema if f.type == "string" or "dictionary" in str(f.type)]
        pq.write_table(
            table,
            tmp_path / f"{name}.parquet",
            compression=output.COMPRESSION,
            row_group_size=500,
            use_dictionary=text,
            write_statistics=True,
        )
        written = (tmp_path / "raw" / f"{name}.parquet").read_bytes()
        assert (tmp_path / f"{name}.parquet").read_bytes() == written, name
