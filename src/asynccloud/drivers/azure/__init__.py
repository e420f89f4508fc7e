"""Microsoft Azure: Blob Storage (``Provider.AZURE_BLOBS``)."""

from asynccloud.drivers.azure.blob import AzureBlobsStorageDriver

__all__ = ["AzureBlobsStorageDriver"]
