"""The directory's session fixtures (service, sample records and index), shared with the fuzz
tests here so that the bundled data is read once per process."""
from tests.directory.conftest import sample_index, sample_records, service  # noqa: F401
