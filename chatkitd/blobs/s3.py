"""Blobs in an S3-compatible bucket (AWS S3, MinIO, Cloudflare R2, GCS interoperability), via aiobotocore.

``CHATKITD_STORAGE_URL=s3://bucket/prefix`` puts blob ``(project, id)`` at
``prefix/project/id``. The client is configured as every AWS tool is:
``AWS_ENDPOINT_URL`` (or ``AWS_ENDPOINT_URL_S3``) for a store that is not AWS,
``AWS_REGION`` / ``AWS_DEFAULT_REGION``, ``AWS_ACCESS_KEY_ID`` and
``AWS_SECRET_ACCESS_KEY`` (or any other source botocore knows: profiles,
instance roles). ``?addressing_style=path`` in the URL asks for path-style
requests, which some MinIO set-ups need.

A write streams: bytes gather into parts of ``PART_SIZE``; a blob smaller than
one part is one ``PutObject``, a larger one a multipart upload whose next part
is read while the previous one is sent (at most two parts in memory).
Past the limit, or on any failure (a client gone, a cancelled request), the
multipart upload is aborted: nothing is left in the bucket, and an object
appears only whole, when the upload completes. Uploads a killed process left
unfinished are aborted by ``sweep_unfinished``.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import os
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.exceptions import BotoCoreError, ClientError

from chatkitd.blobs.common import BlobTooLarge, BlobUnavailable, check_id

# S3's smallest part (but the last) is 5 MiB; 8 MiB is what the AWS CLI uses.
PART_SIZE = 8 * 1024 * 1024
READ_CHUNK = 64 * 1024
_MISSING = {"404", "NoSuchKey", "NotFound"}


def _is_missing(error: ClientError) -> bool:
    return str(error.response.get("Error", {}).get("Code")) in _MISSING


class S3BlobStore:
    def __init__(self, bucket: str, prefix: str = "", *, addressing_style: str | None = None) -> None:
        if not bucket:
            raise ValueError("the storage URL names no bucket: use s3://bucket/prefix")
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.description = f"s3://{bucket}/{self.prefix}"
        options: dict[str, Any] = {"retries": {"max_attempts": 3, "mode": "standard"}}
        if addressing_style:
            options["s3"] = {"addressing_style": addressing_style}
        self._config = AioConfig(**options)
        self._client: Any = None
        self._stack: contextlib.AsyncExitStack | None = None
        self._opening = asyncio.Lock()

    @classmethod
    def from_url(cls, url: str) -> S3BlobStore:
        parts = urlsplit(url)
        style = parse_qs(parts.query).get("addressing_style", [None])[0]
        if style not in (None, "path", "virtual", "auto"):
            raise ValueError(f"addressing_style must be path, virtual or auto, not {style!r}")
        return cls(parts.netloc, parts.path, addressing_style=style)

    # -- the client: made on first use, in the event loop that uses it ---------------

    async def _s3(self) -> Any:
        if self._client is not None:
            return self._client
        async with self._opening:
            if self._client is None:
                stack = contextlib.AsyncExitStack()
                session = get_session()
                # Endpoint, keys and AWS_DEFAULT_REGION come from botocore's own environment
                # lookup; AWS_REGION (what the AWS SDKs read) is passed on when set.
                self._client = await stack.enter_async_context(
                    session.create_client("s3", region_name=os.environ.get("AWS_REGION"), config=self._config)
                )
                self._stack = stack
        return self._client

    async def close(self) -> None:
        if self._stack is not None:
            stack, self._stack, self._client = self._stack, None, None
            await stack.aclose()

    def key(self, project_id: str, blob_id: str) -> str:
        check_id(project_id, blob_id)
        return f"{self.prefix}/{project_id}/{blob_id}" if self.prefix else f"{project_id}/{blob_id}"

    # -- writing ------------------------------------------------------------------------

    async def write(self, project_id: str, blob_id: str, chunks: AsyncIterator[bytes], limit: int) -> int:
        """Store the stream; raise BlobTooLarge as soon as it passes ``limit`` bytes."""
        key = self.key(project_id, blob_id)
        s3 = await self._s3()
        parts = _parts(chunks, limit)
        try:
            first = await anext(parts, b"")
            if len(first) < PART_SIZE:  # all there is
                await s3.put_object(Bucket=self.bucket, Key=key, Body=first)
                return len(first)
            return await self._multipart(s3, key, first, parts)
        except (BotoCoreError, ClientError) as error:
            raise BlobUnavailable(f"the object store refused the upload: {error}") from error

    async def _multipart(self, s3: Any, key: str, first: bytes, rest: AsyncIterator[bytes]) -> int:
        upload_id = (await s3.create_multipart_upload(Bucket=self.bucket, Key=key))["UploadId"]
        done: list[dict[str, Any]] = []
        sending: asyncio.Task[None] | None = None
        total = 0

        async def send(number: int, body: bytes) -> None:
            answer = await s3.upload_part(
                Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=body
            )
            done.append({"PartNumber": number, "ETag": answer["ETag"]})

        try:
            number = 0
            async for body in _chain(first, rest):
                number += 1
                total += len(body)
                if sending is not None:
                    await sending
                # This part goes while the next one is read from the client.
                sending = asyncio.ensure_future(send(number, body))
            if sending is not None:
                await sending
            done.sort(key=lambda part: part["PartNumber"])
            await s3.complete_multipart_upload(
                Bucket=self.bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": done}
            )
            return total
        except BaseException:
            if sending is not None and not sending.done():
                sending.cancel()
            # Shielded: a cancelled request must still leave nothing in the bucket.
            await asyncio.shield(self._abort(s3, key, upload_id))
            raise

    async def _abort(self, s3: Any, key: str, upload_id: str) -> None:
        with contextlib.suppress(BotoCoreError, ClientError):
            await s3.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)

    # -- reading and deleting -------------------------------------------------------------

    async def size(self, project_id: str, blob_id: str) -> int | None:
        s3 = await self._s3()
        try:
            head = await s3.head_object(Bucket=self.bucket, Key=self.key(project_id, blob_id))
        except ClientError as error:
            if _is_missing(error):
                return None
            raise BlobUnavailable(f"the object store did not answer: {error}") from error
        except BotoCoreError as error:
            raise BlobUnavailable(f"the object store did not answer: {error}") from error
        return int(head["ContentLength"])

    async def read_chunks(self, project_id: str, blob_id: str) -> AsyncIterator[bytes]:
        s3 = await self._s3()
        try:
            answer = await s3.get_object(Bucket=self.bucket, Key=self.key(project_id, blob_id))
        except (BotoCoreError, ClientError) as error:
            raise BlobUnavailable(f"the object store did not answer: {error}") from error
        async with answer["Body"] as body:
            async for chunk in body.iter_chunks(READ_CHUNK):
                yield chunk

    async def delete(self, project_id: str, blob_id: str) -> None:
        s3 = await self._s3()
        try:
            await s3.delete_object(Bucket=self.bucket, Key=self.key(project_id, blob_id))
        except (BotoCoreError, ClientError) as error:
            raise BlobUnavailable(f"the object store did not delete {blob_id}: {error}") from error

    # -- operations -----------------------------------------------------------------------

    async def check(self) -> None:
        """Ready when the bucket answers to our credentials."""
        s3 = await self._s3()
        try:
            await s3.head_bucket(Bucket=self.bucket)
        except (BotoCoreError, ClientError) as error:
            raise BlobUnavailable(f"{self.description} is not reachable: {error}") from error

    async def sweep_unfinished(self, older_than_seconds: float) -> int:
        """Abort multipart uploads under the prefix begun more than ``older_than_seconds`` ago.

        S3 says nothing of who began an upload or whether it is alive, so age
        is the test: make it longer than any upload takes. (A bucket lifecycle
        rule, AbortIncompleteMultipartUpload, does the same on the store's side.)
        """
        try:
            return await self._sweep(older_than_seconds)
        except (BotoCoreError, ClientError) as error:
            raise BlobUnavailable(f"{self.description} is not reachable: {error}") from error

    async def _sweep(self, older_than_seconds: float) -> int:
        s3 = await self._s3()
        cutoff = datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=older_than_seconds)
        prefix = f"{self.prefix}/" if self.prefix else ""
        aborted = 0
        paginator = s3.get_paginator("list_multipart_uploads")
        async for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            for upload in page.get("Uploads", []):
                if upload["Initiated"] <= cutoff:
                    await self._abort(s3, upload["Key"], upload["UploadId"])
                    aborted += 1
        return aborted


async def _parts(chunks: AsyncIterator[bytes], limit: int) -> AsyncIterator[bytes]:
    """The stream regrouped into ``PART_SIZE`` pieces (the last may be shorter, or empty when
    nothing came); BlobTooLarge at the first byte over ``limit``."""
    buffer = bytearray()
    written = 0
    sent_any = False
    async for chunk in chunks:
        written += len(chunk)
        if written > limit:
            raise BlobTooLarge(limit)
        buffer += chunk
        while len(buffer) >= PART_SIZE:
            yield bytes(buffer[:PART_SIZE])
            del buffer[:PART_SIZE]
            sent_any = True
    if buffer or not sent_any:
        yield bytes(buffer)


async def _chain(first: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    yield first
    async for part in rest:
        yield part
