"""gpuledger client for Python (standard library only).

gpuledger.ultralytics.attach(model) reports an Ultralytics training run to a gpuledger
server: the run's arguments when training starts, each epoch's metrics when it ends, and
it stops the run after the epoch's checkpoint when the server asks.
"""

from .client import Client, GpuledgerError

__all__ = ["Client", "GpuledgerError"]
