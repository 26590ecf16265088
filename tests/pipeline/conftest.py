"""Beam's SDK worker pool, for the tests that run newsflow on Prism with workers out of the launcher's process."""
import pytest

from tests.pipeline.portable import WorkerPool, prism_binary


@pytest.fixture(scope="session")
def sdk_worker_pool(tmp_path_factory):
    """Address of a worker pool process, started once (only where Prism is built: else the test is skipped)."""
    if not prism_binary():
        pytest.skip("Prism runner not built: install Go (https://go.dev/dl/), then `make prism`")
    folder = tmp_path_factory.mktemp("worker-pool")
    # Its own working folder: a relative path that reached the workers would not land where the launcher meant.
    pool = WorkerPool(folder / "pool.log", cwd=folder)
    yield pool
    pool.close()
