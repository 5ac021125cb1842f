"""Feature stores: the on-disk format, its validation, the synthetic dataset and video extraction."""

from features.errors import StoreError
from features.store import FeatureStore, open_store, write_store
from features.synthetic import default_store_path, make_synthetic_store

__all__ = ["FeatureStore", "StoreError", "default_store_path", "make_synthetic_store", "open_store", "write_store"]
