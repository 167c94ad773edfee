"""The service catalogue, declared as data in services.toml and validated here."""

from kiosk.catalogue.model import (
    Catalogue,
    Choice,
    FieldSpec,
    Intent,
    LocalizedText,
    Service,
    ServiceGroup,
    load_catalogue,
)

__all__ = [
    "Catalogue", "Choice", "FieldSpec", "Intent", "LocalizedText", "Service", "ServiceGroup",
    "load_catalogue",
]
