"""A large upload through chatkitd: throughput and server memory, local folder vs S3, each beside a baseline.

    .venv/bin/python bench/uploads.py [--mib 256] [--rounds 2]

What it does, in one run on this machine:

1. Starts moto's S3 server (``moto_server``, the test extra) on loopback, with a bucket.
2. Runs ``chatkitd serve`` in a subprocess twice: with the default local folder,
   and with ``CHATKITD_STORAGE_URL=s3://bucket/bench``. Each gets a session
   allowing a file of ``--mib`` MiB, and one direct upload (``POST
   /v1/chatkit/files``) of that size, streamed by the client in 1 MiB chunks.
3. Baselines, in the same run: the same bytes written to a file by plain Python
   (what the disk takes), and put into the same bucket by aiobotocore directly
   (a multipart upload with chatkitd's part size, from this process).

Reported: seconds and MiB/s of each, chatkitd's ratio to its baseline, and the
server's memory: resident set before the upload, and its peak (``VmHWM``) after,
so the growth an upload causes is visible. The best of ``--rounds`` counts.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chatkitd.blobs.s3 import PART_SIZE  # noqa: E402
from tests.support.s3 import moto_server  # noqa: E402
from tests.support.servers import free_port  # noqa: E402

MIB = 1024 * 1024
BOUNDARY = b"benchboundary"


def _memory(pid: int) -> dict[str, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) // 1024  # MiB
    return fields


def _body(size: int) -> Iterator[bytes]:
    yield b"--" + BOUNDARY + b'\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n\r\n'
    chunk = os.urandom(MIB)
    for _ in range(size // MIB):
        yield chunk
    yield b"\r\n--" + BOUNDARY + b"--\r\n"


def _request(url: str, body: object = None, headers: dict[str, str] | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url, data=data, headers={"Content-Type": "application/json", **(headers or {})}
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())


def chatkitd_upload(
    size: int, env: dict[str, str], folder: Path
) -> tuple[float, dict[str, int], dict[str, int]]:
    import httpx2

    port = free_port()
    admin_key = "sk-bench-" + secrets.token_hex(8)
    environment = {
        **os.environ,
        **env,
        "CHATKITD_DATA_DIR": str(folder),
        "CHATKITD_API_KEY": admin_key,
        "CHATKITD_LOG_LEVEL": "warning",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "chatkitd", "serve", "--port", str(port)],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/readyz", timeout=1)
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("chatkitd did not start") from None
                time.sleep(0.2)
        session = _request(
            f"{base}/v1/chatkit/sessions",
            {
                "user": "bench",
                "workflow": {"id": "demo"},
                "chatkit_configuration": {
                    "file_upload": {"enabled": True, "max_file_size": size // MIB + 1, "max_files": 100}
                },
            },
            {"Authorization": f"Bearer {admin_key}"},
        )
        before = _memory(process.pid)
        started = time.perf_counter()
        response = httpx2.post(
            f"{base}/v1/chatkit/files",
            content=_body(size),
            headers={
                "Authorization": f"Bearer {session['client_secret']}",
                "Content-Type": f"multipart/form-data; boundary={BOUNDARY.decode()}",
            },
            timeout=600,
        )
        seconds = time.perf_counter() - started
        assert response.status_code == 200, response.text
        assert response.json()["id"].startswith("atc_")
        return seconds, before, _memory(process.pid)
    finally:
        process.terminate()
        process.wait(15)


def disk_baseline(size: int, folder: Path) -> float:
    started = time.perf_counter()
    with open(folder / "baseline.bin", "wb") as out:
        for chunk in _body(size):
            out.write(chunk)
        out.flush()
    return time.perf_counter() - started


def _regrouped(chunks: Iterator[bytes], size: int) -> Iterator[bytes]:
    buffer = bytearray()
    for chunk in chunks:
        buffer += chunk
        while len(buffer) >= size:
            yield bytes(buffer[:size])
            del buffer[:size]
    if buffer:
        yield bytes(buffer)


async def s3_baseline(size: int, endpoint: str, bucket: str) -> float:
    from aiobotocore.session import get_session

    started = time.perf_counter()
    async with get_session().create_client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    ) as s3:
        upload = await s3.create_multipart_upload(Bucket=bucket, Key="baseline.bin")
        parts: list[dict[str, object]] = []
        for number, body in enumerate(_regrouped(_body(size), PART_SIZE), start=1):
            answer = await s3.upload_part(
                Bucket=bucket, Key="baseline.bin", UploadId=upload["UploadId"], PartNumber=number, Body=body
            )
            parts.append({"PartNumber": number, "ETag": answer["ETag"]})
        await s3.complete_multipart_upload(
            Bucket=bucket, Key="baseline.bin", UploadId=upload["UploadId"], MultipartUpload={"Parts": parts}
        )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mib", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    size = args.mib * MIB
    with tempfile.TemporaryDirectory() as tmp, moto_server(Path(tmp)) as s3:
        bucket = s3.new_bucket()
        s3_env = {**s3.env, "CHATKITD_STORAGE_URL": bucket.url("bench")}
        best: dict[str, float] = {}
        memory: dict[str, tuple[dict[str, int], dict[str, int]]] = {}
        for round_number in range(args.rounds):
            for name, env in (("local", {}), ("s3", s3_env)):
                folder = Path(tmp) / f"{name}-{round_number}"
                folder.mkdir()
                seconds, before, after = chatkitd_upload(size, env, folder)
                if seconds < best.get(name, float("inf")):
                    best[name], memory[name] = seconds, (before, after)
            folder = Path(tmp) / f"disk-{round_number}"
            folder.mkdir()
            best["disk"] = min(best.get("disk", float("inf")), disk_baseline(size, folder))
            direct = asyncio.run(s3_baseline(size, s3.endpoint, bucket.name))
            best["s3 direct"] = min(best.get("s3 direct", float("inf")), direct)
    print(f"one upload of {args.mib} MiB, best of {args.rounds}")
    print(f"{'what':32} {'seconds':>8} {'MiB/s':>8}  {'vs baseline':>11}  server RSS before -> peak")
    for name, baseline in (("local", "disk"), ("s3", "s3 direct")):
        before, after = memory[name]
        print(
            f"{'chatkitd, ' + name:32} {best[name]:8.2f} {args.mib / best[name]:8.1f}  "
            f"{best[baseline] / best[name]:10.2f}x  {before['VmRSS']} -> {after['VmHWM']} MiB"
        )
        label = "baseline: plain write to disk" if baseline == "disk" else "baseline: aiobotocore to moto"
        print(f"{label:32} {best[baseline]:8.2f} {args.mib / best[baseline]:8.1f}")


if __name__ == "__main__":
    main()
