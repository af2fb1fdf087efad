"""CSV files in an encoding other than UTF-8.

DuckDB's COPY writes UTF-8 only. The export is written in UTF-8 beside the
destination, then re-encoded (and compressed, if asked) a megabyte at a time
into place, so memory stays flat whatever the file's size. A character the
encoding has no form for is an error, never a silent `?`; the destination is
only written once the whole file has been transcoded.
"""

from __future__ import annotations

import codecs
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from featureduck.errors import UsageError

if TYPE_CHECKING:
    from featureduck.exports.files import FileOptions

CHUNK_BYTES = 1 << 20
_SUFFIXES = {"gzip": ".gz", "zstd": ".zst"}


@contextmanager
def utf8_stage(path: Path, options: FileOptions) -> Iterator[Path]:
    """A path to write the UTF-8 export to (a folder with --partition-by); on leaving,
    its files are transcoded to `path` in `options.encoding`."""
    staging = path.with_name(f".{path.name}.utf8")
    _remove(staging)
    try:
        yield staging
        if options.partition_by:
            written = path.with_name(f".{path.name}.encoded")
            _remove(written)
            for part in sorted(p for p in staging.rglob("*") if p.is_file()):
                relative = part.relative_to(staging)
                _transcode(part, (written / relative).with_name(relative.name + _SUFFIXES.get(options.compression or "", "")),
                           str(options.encoding), options.compression)
            _remove(path)
            written.rename(path)
        else:
            encoded = path.with_name(f".{path.name}.encoded")
            _transcode(staging, encoded, str(options.encoding), options.compression)
            encoded.replace(path)
    finally:
        _remove(staging)
        _remove(path.with_name(f".{path.name}.encoded"))


def _transcode(source: Path, destination: Path, encoding: str, compression: str | None) -> None:
    destination.parent.mkdir(parents=True, exist_ok=True)
    decoder = codecs.getincrementaldecoder("utf-8")()
    encoder = codecs.getincrementalencoder(encoding)()
    line = 1
    import pyarrow  # only a transcoded file pays for importing it

    with source.open("rb") as reader, pyarrow.output_stream(str(destination), compression=compression) as writer:
        while chunk := reader.read(CHUNK_BYTES):
            text = decoder.decode(chunk)
            try:
                writer.write(encoder.encode(text))
            except UnicodeEncodeError as err:
                at = line + text.count("\n", 0, err.start)
                raise UsageError(
                    f"line {at} of the export holds {err.object[err.start:err.end]!r}, which {encoding} cannot encode",
                    hint="choose an encoding that has it (utf-8, utf-16) or leave the option out",
                ) from None
            line += text.count("\n")
        writer.write(encoder.encode(decoder.decode(b"", final=True), final=True))


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()
