"""Media stores: an S3 bucket (boto3) or a local directory, behind the MediaStore port."""

from core.outbound.storage.keys import check_key
from core.outbound.storage.local import LocalMediaStore

__all__ = ["LocalMediaStore", "check_key"]
