"""newsflow: streaming news enrichment on Apache Beam and Kafka."""

__version__ = "0.1.0"
