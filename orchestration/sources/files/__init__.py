"""The `files` source: vendor-shaped exports in `$C360_DATA_DIR/landing/files/<folder>/` (see mappings.py)."""

from orchestration.sources.files.reader import read_files_delivery
from orchestration.sources.files.writer import write_files

__all__ = ["read_files_delivery", "write_files"]
