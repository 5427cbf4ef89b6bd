#!/usr/bin/env python3
"""The comparison client for `bench_jobs`: what a user would write with asyncio + httpx.

Submit, then poll `/v1/requests/{id}/result` every POLL_MS until the job has finished (no
download) — as happyhorse-http's driver does with a fixed poll interval once a job runs (it
reads `/status` only while a job is queued, for the queue position). One shared AsyncClient with
keep-alive; MAX_CONNECTIONS is `none` (no cap: every job has its own connection, as with the Rust
client) or a number (httpx's default is 100: jobs then wait for a pooled connection).

    python3 httpx_jobs.py BASE_URL TOKEN JOBS POLL_MS [MAX_CONNECTIONS]

Prints `jobs=<n> succeeded=<n> wall_s=<s> work_cpu_s=<s>` (CPU of this process from the
first submit to the last result; interpreter start-up and imports excluded).
"""

import asyncio
import sys
import time

import httpx

MODEL = "happyhorse/happyhorse-1.0/image-to-video"
FINISHED = {"succeeded", "failed", "cancelled", "canceled"}


async def run_job(client: httpx.AsyncClient, n: int, poll: float) -> bool:
    body = {
        "image_url": "https://example.com/horse.webp",
        "prompt": f"benchmark job {n}: the horse trots towards the camera",
        "resolution": "1080P",
        "duration": 5,
        "seed": 0,
        "watermark": False,
    }
    submitted = await client.post(f"/v1/models/{MODEL}", json=body)
    submitted.raise_for_status()
    request_id = submitted.json()["request_id"]
    while True:
        await asyncio.sleep(poll)
        result = await client.get(f"/v1/requests/{request_id}/result")
        result.raise_for_status()
        status = result.json()["status"]
        if status in FINISHED:
            return status == "succeeded"


async def main() -> None:
    base_url, token, jobs, poll_ms = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    cap = sys.argv[5] if len(sys.argv) > 5 else "none"
    cap = None if cap == "none" else int(cap)
    limits = httpx.Limits(max_connections=cap, max_keepalive_connections=cap)
    async with httpx.AsyncClient(
        base_url=base_url,
        headers={"Authorization": f"Bearer {token}"},
        limits=limits,
        timeout=30.0,
    ) as client:
        cpu_before = time.process_time()
        started = time.perf_counter()
        outcomes = await asyncio.gather(
            *(run_job(client, n, poll_ms / 1000) for n in range(jobs)),
            return_exceptions=True,
        )
        wall = time.perf_counter() - started
        cpu = time.process_time() - cpu_before
    succeeded = sum(1 for o in outcomes if o is True)
    print(f"jobs={jobs} succeeded={succeeded} wall_s={wall:.4f} work_cpu_s={cpu:.3f}")
    errors = [o for o in outcomes if isinstance(o, BaseException)]
    if errors:
        print(f"first failure: {errors[0]!r} ({len(errors)} failed)", file=sys.stderr)


if __name__ == "__main__":
    asyncio.run(main())
