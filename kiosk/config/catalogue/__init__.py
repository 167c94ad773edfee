"""The service catalogue, declared as data in services.toml and validated here."""

from kiosk.config.catalogue.model import (
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
