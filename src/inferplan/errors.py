"""Typed errors. The library raises these; only the CLI turns them into messages and exit codes."""

from __future__ import annotations


class InferplanError(Exception):
    """Base class: a problem the user can fix, with a message that says how."""

    exit_code = 1


class CatalogError(InferplanError):
    """A catalog file is malformed or a price/spec row is invalid."""


class MissingPriceError(CatalogError):
    """A price the computation needs is not in the catalog (never priced as zero)."""


class UnknownModelError(CatalogError):
    """A model id does not resolve to a catalog model."""


class UnknownItemError(CatalogError):
    """An instance type, accelerator or model spec is not in the catalog."""


class UnknownRegionError(InferplanError):
    """A region that is not an AWS region (a typo would otherwise price at the `*` row)."""

    exit_code = 2


class InputError(InferplanError):
    """Input data is malformed: names the file, the line or record and the fix."""

    exit_code = 2


class UnknownFormatError(InputError):
    """A file in none of the formats the command reads (the message lists them)."""


class EmptyFileError(InputError):
    """A file with nothing in it (no bytes, or only whitespace)."""


class SchemaError(InputError):
    """A workload table does not match the canonical schema."""


class ConfigError(InferplanError):
    """A scenario or option is invalid."""

    exit_code = 2
