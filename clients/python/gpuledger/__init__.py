"""gpuledger client for Python (standard library only).

gpuledger.ultralytics.attach(model) reports an Ultralytics training run to a gpuledger
server: the run's arguments when training starts, each epoch's metrics when it ends, and
it stops the run after the epoch's checkpoint when the server asks. A run that was not
submitted through gpuledger (no $GPULEDGER_SUBMITTED) also gets the server's estimate and
the best practice printed when training starts.

gpuledger.estimate(**job) asks the server what a configuration is estimated to cost
(POST /api/v1/submissions with "dry_run": true); gpuledger.format_estimate(answer) is
the text attach() prints.
"""

from .client import Client, GpuledgerError
from .estimate import estimate, format_estimate

__all__ = ["Client", "GpuledgerError", "estimate", "format_estimate"]
