"""The `files` source: vendor-shaped exports in `$C360_DATA_DIR/landing/files/<folder>/` (see mappings.py)."""

from orchestration.extract.vendor_files.export_reader import read_files_delivery

__all__ = ["read_files_delivery"]
