"""Every table the migrations should build: the request log's models and the key store's."""

from __future__ import annotations

from sqlalchemy import MetaData

from router.auth.store import API_KEYS
from router.requestlog.schema import Base


def all_models() -> MetaData:
    combined = MetaData()
    for table in Base.metadata.tables.values():
        table.to_metadata(combined)
    API_KEYS.to_metadata(combined)
    return combined
