"""In-memory compute (``Provider.MEMORY``): for tests, demos and dry runs; nothing runs anywhere."""

from asynccloud.drivers.memory.compute import MemoryComputeDriver

__all__ = ["MemoryComputeDriver"]
