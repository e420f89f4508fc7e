"""Apache Libcloud 3.9.1 (sync, on requests): sequential, or ``threads`` > 0 for a thread pool.

With threads, each thread has its own driver (a Libcloud driver's connection is not thread-safe).
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from _common import BUCKET, KEY_ID, MIB, SECRET, body_chunks, result, run, small_key


def _s3(p: dict[str, Any]) -> Any:
    from libcloud.storage.drivers.s3 import S3StorageDriver

    return S3StorageDriver(KEY_ID, SECRET, host="127.0.0.1", port=p["port"], secure=False, region="us-east-1")


def _objects(driver: Any, p: dict[str, Any]) -> tuple[Any, Any]:
    from libcloud.storage.base import Container, Object

    container = Container(name=BUCKET, extra={}, driver=driver)
    return container, Object


def _each(p: dict[str, Any], job: Any, n: int, threads: int) -> dict[str, Any]:
    local = threading.local()

    def call(i: int) -> int:
        if not hasattr(local, "driver"):
            local.driver = _s3(p)
        return int(job(local.driver, i))

    if threads:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(call, range(threads)))  # warm: one driver per thread, created untimed
            t0 = time.perf_counter()
            total = sum(pool.map(call, range(n)))
    else:
        call(0)
        t0 = time.perf_counter()
        total = sum(call(i) for i in range(n))
    return result(t0, total, n)


def w1(p: dict[str, Any]) -> dict[str, Any]:
    if p.get("threads"):
        return {"skip": "a listing is sequential"}
    driver = _s3(p)
    container, _ = _objects(driver, p)
    driver.get_container(BUCKET)  # warm-up, untimed (as in every client)
    t0 = time.perf_counter()
    count = sum(1 for _ in driver.iterate_container_objects(container))
    return result(t0, 0, count)


def w2(p: dict[str, Any]) -> dict[str, Any]:
    def job(driver: Any, i: int) -> int:
        container, obj_cls = _objects(driver, p)
        obj = obj_cls(small_key(i), p["size"], None, {}, {}, container, driver)
        return sum(len(c) for c in driver.download_object_as_stream(obj, chunk_size=MIB))

    return _each(p, job, p["n"], p.get("threads", 0))


def w3(p: dict[str, Any]) -> dict[str, Any]:
    data = bytes(p["size"])

    def job(driver: Any, i: int) -> int:
        container, _ = _objects(driver, p)
        driver.upload_object_via_stream(iter([data]), container, f"up/{small_key(i)}")
        return len(data)

    return _each(p, job, p["n"], p.get("threads", 0))


def w4(p: dict[str, Any]) -> dict[str, Any]:
    if p.get("threads"):
        return {"skip": "one stream"}
    driver = _s3(p)
    container, obj_cls = _objects(driver, p)
    obj = obj_cls("big", p["big"], None, {}, {}, container, driver)
    driver.get_container(BUCKET)  # warm-up, untimed (as in every client)
    t0 = time.perf_counter()
    n = sum(len(c) for c in driver.download_object_as_stream(obj, chunk_size=MIB))
    return result(t0, n, 1)


def w5(p: dict[str, Any]) -> dict[str, Any]:
    if p.get("threads"):
        return {"skip": "one stream"}
    driver = _s3(p)
    container, _ = _objects(driver, p)
    driver.get_container(BUCKET)  # warm-up, untimed (as in every client)
    t0 = time.perf_counter()
    driver.upload_object_via_stream(body_chunks(p["big"]), container, "up/big")
    return result(t0, p["big"], 1)


def w6(p: dict[str, Any]) -> dict[str, Any]:
    from libcloud.compute.base import NodeImage, NodeSize
    from libcloud.compute.drivers.ec2 import EC2NodeDriver

    local = threading.local()

    def driver() -> Any:
        if not hasattr(local, "d"):
            local.d = EC2NodeDriver(
                KEY_ID, SECRET, region="us-east-1", secure=False, host="127.0.0.1", port=p["port"]
            )
        return local.d

    d0 = driver()
    size = NodeSize("t3.micro", "t3.micro", 1024, 8, None, None, d0)
    image = NodeImage("ami-1", "img", d0)

    def call(i: int) -> int:
        driver().create_node(name=f"n{i}", size=size, image=image)
        return 0

    threads = min(p.get("threads", 0), p["node_conc"])
    if threads:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(lambda _: driver().list_nodes(), range(threads)))  # warm-up, untimed
            t0 = time.perf_counter()
            list(pool.map(call, range(p["nodes"])))
    else:
        d0.list_nodes()  # warm-up, untimed (as in every client)
        t0 = time.perf_counter()
        for i in range(p["nodes"]):
            call(i)
    return result(t0, 0, p["nodes"])


def w7(p: dict[str, Any]) -> dict[str, Any]:
    if p.get("threads"):
        return {"skip": "same as sequential"}
    t0 = time.perf_counter()
    from libcloud.storage.providers import Provider, get_driver

    get_driver(Provider.S3)(KEY_ID, SECRET, host="127.0.0.1", port=9, secure=False, region="us-east-1")
    return result(t0, 0, 1)


if __name__ == "__main__":
    run({"W1": w1, "W2": w2, "W3": w3, "W4": w4, "W5": w5, "W6": w6, "W7": w7})
