"""The object store (S3 through the minio SDK): originals under their SHA-256, derived views beside.

Keys:

* ``originals/{sha256}`` — the bytes as received, written once and never replaced;
* ``xml/{sha256}.xml`` — the invoice XML taken out of a hybrid PDF (keyed by the PDF's hash);
* ``html/{document_id}.html`` — the rendered view for accounts-payable staff;
* ``reports/{document_id}.json`` — the validation report.

The bucket is created with versioning and object lock, and a default COMPLIANCE retention of
``settings.retention_years`` (GoBD: the archive must not be changeable). Where the server cannot
lock objects this is logged plainly, once, and the store works without it.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
from dataclasses import dataclass

import urllib3
from minio import Minio
from minio.commonconfig import COMPLIANCE
from minio.error import S3Error
from minio.objectlockconfig import YEARS, ObjectLockConfig

from pipeline.settings import Settings
from pipeline.store.db import MissingServiceError

__all__ = ["ObjectStore", "Retention", "objects_for", "original_key"]

log = logging.getLogger(__name__)

_SHA_META = "sha256"  # x-amz-meta-sha256 on originals, so a stored object can be checked without reading it


def original_key(sha256: str) -> str:
    return f"originals/{sha256}"


@dataclass(frozen=True)
class Retention:
    """What the bucket guarantees: ``locked`` False means objects could be deleted, and ``note`` says why."""

    locked: bool
    mode: str | None
    years: int | None
    note: str


class ObjectStore:
    def __init__(self, settings: Settings) -> None:
        if not settings.s3_endpoint:
            raise MissingServiceError(
                "no object store configured: set S3_ENDPOINT or start the services with `eingang up`"
            )
        # Short connect timeout and few retries: an unreachable store should surface quickly as a
        # transient error for the caller's own retry policy, not hang for minutes inside the SDK.
        http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=5, read=60),
            maxsize=10,
            retries=urllib3.Retry(total=2, backoff_factor=0.2, status_forcelist=[500, 502, 503, 504]),
        )
        self.client = Minio(
            settings.s3_endpoint,
            access_key=settings.s3_access_key.get_secret_value(),
            secret_key=settings.s3_secret_key.get_secret_value(),
            secure=settings.s3_secure,
            http_client=http,
        )
        self.bucket = settings.s3_bucket
        self.retention_years = settings.retention_years
        self._retention: Retention | None = None

    # -- bucket ---------------------------------------------------------------------------

    def ensure_bucket(self) -> Retention:
        """Create the bucket (versioned, object-locked) if missing; report what retention is in force."""
        if self._retention is not None:
            return self._retention
        if not self.client.bucket_exists(self.bucket):
            try:
                self.client.make_bucket(self.bucket, object_lock=True)
            except S3Error as exc:
                if exc.code in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                    pass  # another process created it a moment ago
                else:
                    log.warning(
                        "object store cannot create an object-locked bucket (%s: %s); creating %s without lock",
                        exc.code,
                        exc.message,
                        self.bucket,
                    )
                    self.client.make_bucket(self.bucket)
        self._retention = self._configure_retention()
        if not self._retention.locked:
            log.warning("object store: %s", self._retention.note)
        return self._retention

    def _configure_retention(self) -> Retention:
        try:
            current = self.client.get_object_lock_config(self.bucket)
        except S3Error as exc:
            return Retention(
                False,
                None,
                None,
                f"bucket {self.bucket} has no object lock ({exc.code}): originals are versioned at best,"
                " not protected by retention",
            )
        wanted = (COMPLIANCE, self.retention_years, YEARS)
        if (current.mode, current.duration, current.duration_unit) != wanted:
            try:
                self.client.set_object_lock_config(
                    self.bucket, ObjectLockConfig(COMPLIANCE, self.retention_years, YEARS)
                )
            except S3Error as exc:
                return Retention(
                    False,
                    current.mode,
                    None,
                    f"bucket {self.bucket}: default retention could not be set ({exc.code}: {exc.message})",
                )
        return Retention(
            True,
            COMPLIANCE,
            self.retention_years,
            f"bucket {self.bucket}: COMPLIANCE retention of {self.retention_years} years",
        )

    # -- originals ------------------------------------------------------------------------

    def put_original(self, data: bytes, sha256: str | None = None) -> str:
        """Store the bytes under their SHA-256 unless already there; return the key.

        Stat first, so a re-delivered file costs no upload and never adds a version. Two processes
        storing the same new bytes at once both succeed: the content is the same by construction.
        """
        sha256 = sha256 or hashlib.sha256(data).hexdigest()
        key = original_key(sha256)
        self.ensure_bucket()
        if self._has(key, len(data)):
            return key
        try:
            self.client.put_object(
                self.bucket,
                key,
                io.BytesIO(data),
                len(data),
                content_type="application/octet-stream",
                metadata={_SHA_META: sha256},
            )
        except S3Error:
            # A concurrent writer may have won a race the server resolved by refusing us;
            # the key names the content, so finding it there is success.
            if self._has(key, len(data)):
                return key
            raise
        return key

    def _has(self, key: str, size: int) -> bool:
        try:
            stat = self.client.stat_object(self.bucket, key)
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchObject", "ResourceNotFound"):
                return False
            raise
        if stat.size != size:
            raise RuntimeError(f"object {key} exists with {stat.size} bytes, expected {size}: the store is corrupt")
        return True

    def get(self, key: str) -> bytes:
        response = self.client.get_object(self.bucket, key)
        try:
            return response.read()
        finally:
            response.close()
            response.release_conn()

    def get_original(self, sha256: str) -> bytes:
        """The original bytes, checked against their name: a changed archive must not pass silently."""
        data = self.get(original_key(sha256))
        actual = hashlib.sha256(data).hexdigest()
        if actual != sha256:
            raise RuntimeError(f"original {sha256} in the object store has SHA-256 {actual}: it was changed")
        return data

    # -- derived objects ------------------------------------------------------------------

    def put(self, key: str, data: bytes, content_type: str) -> str:
        """Write a derived object (rendered view, report, extracted XML); a rerun adds a version."""
        self.ensure_bucket()
        self.client.put_object(self.bucket, key, io.BytesIO(data), len(data), content_type=content_type)
        return key


_STORES: dict[tuple[int, str | None, str], ObjectStore] = {}


def objects_for(settings: Settings) -> ObjectStore:
    """The process-wide client for this endpoint and bucket (it keeps its connection pool)."""
    key = (os.getpid(), settings.s3_endpoint, settings.s3_bucket)
    store = _STORES.get(key)
    if store is None:
        store = _STORES[key] = ObjectStore(settings)
    return store
